import SemidMath
import SemidQuantization
import SemidStorage

/// Converts trained quantizers to and from the arrays stored in index shards.
///
/// - RQ-KMeans: one array `codebooks`, f32 `[L, K, d]` when every level has `K` codes, else
///   `[ΣK_l, d]` (level `l`'s rows after level `l − 1`'s; the sizes come from the manifest).
/// - RQ-VAE: one f32 array per tensor, named `rqvae.<tensor>` (``RQVAENetwork/tensors``):
///   `rqvae.encoder.<i>.weight` `[out, in]` (PyTorch `nn.Linear` layout), `rqvae.encoder.<i>.bias`
///   `[out]`, the same for `rqvae.decoder.<i>.*`, and `rqvae.codebooks` `[L, K, m]` (or `[ΣK_l, m]`).
///   The architecture is read back from the shapes and the manifest's codebook sizes.
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
            return [("codebooks", codebookArray(rq))]
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
            return AssignedCodes(method: method, codebookSizes: parameters.codebookSizes)
        case "rq-kmeans":
            guard let books = arrays["codebooks"] else {
                throw IndexError.corrupted(path: path, problem: "the codebooks array is missing")
            }
            return try residualQuantizer(books, codebookSizes: parameters.codebookSizes, dimension: parameters.dimension,
                                         source: path + "/codebooks")
        case "rq-vae":
            let vae = try loadRQVAE(arrays: arrays, codebookSizes: parameters.codebookSizes, path: path)
            guard vae.codebookSizes == parameters.codebookSizes, vae.inputDimension == parameters.dimension else {
                throw IndexError.corrupted(
                    path: path, problem: "the RQ-VAE arrays hold \(CodebookSizes.shape(vae.codebookSizes)) codes on dimension "
                        + "\(vae.inputDimension), the manifest says \(CodebookSizes.shape(parameters.codebookSizes)) on \(parameters.dimension)")
            }
            return vae
        default:
            throw IndexError.corrupted(path: path, problem: "unknown quantizer method \"\(method)\"")
        }
    }

    /// The `codebooks` array of a residual quantizer: `[L, K, d]` when every level has `K` codes
    /// (the layout of every index written before sizes could differ), else `[ΣK_l, d]`.
    static func codebookArray(_ rq: ResidualQuantizer) -> ShardArray {
        let values = rq.codebooks.flatMap(\.values)
        let sizes = rq.codebookSizes
        if CodebookSizes.isUniform(sizes) {
            return ShardArray(float32: values, shape: [rq.levels, sizes[0], rq.inputDimension])
        }
        return ShardArray(float32: values, shape: [sizes.reduce(0, +), rq.inputDimension])
    }

    /// Reads what ``codebookArray(_:)`` wrote for a quantizer of `codebookSizes` (from the
    /// manifest) on `dimension` (`nil`: any positive dimension); `source` names the array in errors.
    static func residualQuantizer(_ books: ShardArray, codebookSizes sizes: [Int], dimension: Int?,
                                  source: String) throws -> ResidualQuantizer {
        let uniform = CodebookSizes.isUniform(sizes)
        let total = sizes.reduce(0, +)
        let d = books.shape.last ?? 0
        let expected = uniform ? [sizes.count, sizes.first ?? 0, d] : [total, d]
        guard books.shape == expected, d > 0, dimension.map({ $0 == d }) ?? true else {
            throw IndexError.corrupted(
                path: source, problem: "is shaped \(books.shape); the manifest's \(CodebookSizes.shape(sizes)) codes on dimension "
                    + "\(dimension.map(String.init) ?? "d") need \(uniform ? "[\(sizes.count), \(sizes.first ?? 0), d]" : "[\(total), d]")")
        }
        let values = try books.float32Values(source: source)
        var start = 0
        var matrices: [Matrix] = []
        for k in sizes {
            matrices.append(Matrix(rows: k, cols: d, values: Array(values[(start * d)..<((start + k) * d)])))
            start += k
        }
        return try ResidualQuantizer(codebooks: matrices)
    }

    static func loadRQVAE(arrays: [String: ShardArray], codebookSizes sizes: [Int], path: String) throws -> RQVAEQuantizer {
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
        guard encoderShapes.count >= 1, encoderShapes.allSatisfy({ $0.count == 2 }), books.count == 3 || books.count == 2,
              books.allSatisfy({ $0 > 0 }), encoderShapes.allSatisfy({ $0[0] > 0 && $0[1] > 0 }),
              !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }), let latent = encoderShapes.last?[0] else {
            throw IndexError.corrupted(path: path, problem: "the RQ-VAE arrays have unexpected shapes")
        }
        // The shapes' own sizes: [L, K, m] says L levels of K; [ΣK, m] needs the manifest's sizes.
        let stored = books.count == 3 ? Array(repeating: books[1], count: books[0]) : sizes
        let network = RQVAENetwork(inputDimension: encoderShapes[0][1], hidden: encoderShapes.dropLast().map { $0[0] },
                                   latentDimension: latent, codebookSizes: stored)
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
