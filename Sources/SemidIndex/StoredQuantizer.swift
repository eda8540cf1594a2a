import SemidMath
import SemidQuantization
import SemidStorage

/// Converts trained quantizers to and from the arrays stored in index shards.
enum StoredQuantizer {
    /// The arrays that hold `quantizer`, by array name.
    static func arrays(of quantizer: any SemanticQuantizer) throws -> [(name: String, array: ShardArray)] {
        switch quantizer {
        case is AssignedCodes:
            return []
        case let rq as ResidualQuantizer:
            let values = rq.codebooks.flatMap(\.values)
            return [("codebooks", ShardArray(float32: values, shape: [rq.levels, rq.codebookSize, rq.inputDimension]))]
        default:
            throw IndexError.inconsistentInput("cannot store a quantizer of type \(type(of: quantizer))")
        }
    }

    /// Re-creates the quantizer of `method` from its arrays; `path` names the index in errors.
    static func load(method: String, arrays: [String: ShardArray], path: String,
                     parameters: BuildParameters) throws -> any SemanticQuantizer {
        switch method {
        case "random", "sequential":
            return AssignedCodes(method: method, levels: parameters.levels, codebookSize: parameters.codebookSize)
        case "rq-kmeans":
            guard let books = arrays["codebooks"], books.shape.count == 3 else {
                throw IndexError.corrupted(path: path, problem: "the codebooks array is missing or not 3-D")
            }
            let (l, k, d) = (books.shape[0], books.shape[1], books.shape[2])
            let values = try books.float32Values(source: path + "/codebooks")
            let books3 = (0..<l).map { level in
                Matrix(rows: k, cols: d, values: Array(values[(level * k * d)..<((level + 1) * k * d)]))
            }
            return try ResidualQuantizer(codebooks: books3)
        default:
            throw IndexError.corrupted(path: path, problem: "unknown quantizer method \"\(method)\"")
        }
    }
}
