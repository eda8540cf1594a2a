import SemidMath
import SemidQuantization
import SemidStorage

/// Converts trained quantizers to and from the arrays stored in index shards.
///
/// - RQ-KMeans: one array `codebooks`, f32 `[L, K, d]`.
/// - RQ-VAE: one f32 array per tensor, named `rqvae.<tensor>` (``RQVAENetwork/tensors``):
///   `rqvae.encoder.<i>.weight` `[out, in]` (PyTorch `nn.Linear` layout), `rqvae.encoder.<i>.bias`
///   `[out]`, the same for `rqvae.decoder.<i>.*`, and `rqvae.codebooks` `[L, K, m]`. The
///   architecture is read back from the shapes.
enum StoredQuantizer {
    /// The prefix of RQ-VAE array names.
    static let rqvaePrefix = "rqvae."

    /// Whether the array `name` belongs to the quantizer (not an attachment).
    static func isQuantizerArray(_ name: String) -> Bool {
        name == "codebooks" || name.hasPrefix(rqvaePrefix)
    }

    /// The arrays that hold `quantizer`, by array name.
    static func arrays(of quantizer: any SemanticQuantizer) throws -> [(name: String, array: ShardArray)] {
        switch quantizer {
        case is AssignedCodes:
            return []
        case let rq as ResidualQuantizer:
            let values = rq.codebooks.flatMap(\.values)
            return [("codebooks", ShardArray(float32: values, shape: [rq.levels, rq.codebookSize, rq.inputDimension]))]
        case let vae as RQVAEQuantizer:
            return vae.network.tensors.map { t in
                (rqvaePrefix + t.name, ShardArray(float32: Array(vae.parameters[t.range]), shape: t.shape))
            }
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
            guard l == parameters.levels, k == parameters.codebookSize, d == parameters.dimension, d > 0 else {
                throw IndexError.corrupted(
                    path: path, problem: "the codebooks hold \(l) levels × \(k) codes on dimension \(d), "
                        + "the manifest says \(parameters.levels) × \(parameters.codebookSize) on dimension \(parameters.dimension)")
            }
            let values = try books.float32Values(source: path + "/codebooks")
            let books3 = (0..<l).map { level in
                Matrix(rows: k, cols: d, values: Array(values[(level * k * d)..<((level + 1) * k * d)]))
            }
            return try ResidualQuantizer(codebooks: books3)
        case "rq-vae":
            let vae = try loadRQVAE(arrays: arrays, path: path)
            guard vae.levels == parameters.levels, vae.codebookSize == parameters.codebookSize,
                  vae.inputDimension == parameters.dimension else {
                throw IndexError.corrupted(
                    path: path, problem: "the RQ-VAE arrays hold \(vae.levels) levels × \(vae.codebookSize) codes on dimension "
                        + "\(vae.inputDimension), the manifest says \(parameters.levels) × \(parameters.codebookSize) on \(parameters.dimension)")
            }
            return vae
        default:
            throw IndexError.corrupted(path: path, problem: "unknown quantizer method \"\(method)\"")
        }
    }

    static func loadRQVAE(arrays: [String: ShardArray], path: String) throws -> RQVAEQuantizer {
        func shape(_ name: String) throws -> [Int] {
            guard let a = arrays[rqvaePrefix + name] else {
                throw IndexError.corrupted(path: path, problem: "the RQ-VAE array \(rqvaePrefix + name) is missing")
            }
            return a.shape
        }
        var encoderShapes: [[Int]] = []
        while arrays[rqvaePrefix + "encoder.\(encoderShapes.count).weight"] != nil {
            encoderShapes.append(try shape("encoder.\(encoderShapes.count).weight"))
        }
        let books = try shape("codebooks")
        guard encoderShapes.count >= 1, encoderShapes.allSatisfy({ $0.count == 2 }), books.count == 3,
              books.allSatisfy({ $0 > 0 }), encoderShapes.allSatisfy({ $0[0] > 0 && $0[1] > 0 }) else {
            throw IndexError.corrupted(path: path, problem: "the RQ-VAE arrays have unexpected shapes")
        }
        let network = RQVAENetwork(inputDimension: encoderShapes[0][1], hidden: encoderShapes.dropLast().map { $0[0] },
                                   latentDimension: encoderShapes.last![0], levels: books[0], codebookSize: books[1])
        var parameters = [Float](repeating: 0, count: network.parameterCount)
        for t in network.tensors {
            let name = rqvaePrefix + t.name
            guard let a = arrays[name], a.shape == t.shape else {
                throw IndexError.corrupted(path: path, problem: "the RQ-VAE array \(name) is missing or not shaped \(t.shape)")
            }
            parameters.replaceSubrange(t.range, with: try a.float32Values(source: path + "/" + name))
        }
        let expected = Set(network.tensors.map { rqvaePrefix + $0.name })
        if let extra = arrays.keys.filter({ $0.hasPrefix(rqvaePrefix) && !expected.contains($0) }).sorted().first {
            throw IndexError.corrupted(path: path, problem: "unexpected RQ-VAE array \(extra) for this architecture")
        }
        do {
            return try RQVAEQuantizer(network: network, parameters: parameters)
        } catch {
            throw IndexError.corrupted(path: path, problem: "RQ-VAE parameters: \(error)")
        }
    }
}
