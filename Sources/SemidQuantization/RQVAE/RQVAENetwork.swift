import SemidMath
import SemidNeuralNetwork

/// The shape of an RQ-VAE and where each of its tensors lives in one flat parameter buffer.
///
/// ```
/// x [d] ─ encoder (Dense+ReLU … Dense) ─► z [m] ─ L greedy residual levels ─► zq = Σ c_l[j_l] ─ decoder ─► x̂ [d]
/// ```
/// The encoder maps `d → hidden[0] → … → hidden[last] → m` with ReLU after every layer but the
/// last; the decoder mirrors it (`m → hidden[last] → … → hidden[0] → d`). Buffer order: encoder
/// layers (weight `[out, in]`, then bias), decoder layers, then the codebooks: level `l`'s `[K_l, m]`
/// after level `l − 1`'s (`[L, K, m]` when every level has `K` codes). Codeword `j` of level `l` is
/// row ``codeStarts``[l] + j of the `[ΣK_l, m]` block.
public struct RQVAENetwork: Sendable, Equatable, Codable {
    /// Input dimension `d`.
    public let inputDimension: Int
    /// Hidden widths of the encoder, outermost first (the decoder uses them reversed).
    public let hidden: [Int]
    /// Latent dimension `m` (the codewords' dimension).
    public let latentDimension: Int
    /// Codes at each residual level, `K_l` (`L` = its count).
    public let codebookSizes: [Int]
    /// Residual levels `L`.
    public var levels: Int { codebookSizes.count }
    /// Where each level's codewords start among all codewords: `Σ_{k<l} K_k`, `L + 1` entries
    /// (the last is ``totalCodes``).
    public var codeStarts: [Int] { codebookSizes.reduce(into: [0]) { $0.append($0[$0.count - 1] + $1) } }
    /// Codewords over all levels, `ΣK_l`.
    public var totalCodes: Int { codebookSizes.reduce(0, +) }
    /// The largest level's size (scratch buffers for distances).
    public var maximumCodebookSize: Int { codebookSizes.max() ?? 0 }

    /// Encoder layers, input side first.
    public var encoder: [DenseLayer] { Self.layers([inputDimension] + hidden + [latentDimension]) }
    /// Decoder layers, latent side first.
    public var decoder: [DenseLayer] { Self.layers([latentDimension] + hidden.reversed() + [inputDimension]) }

    /// Creates a shape with one codebook size per level; every dimension must be positive (callers
    /// validate first: ``RQVAE/Configuration/validate(items:dimension:)``, or the stored shapes).
    public init(inputDimension: Int, hidden: [Int], latentDimension: Int, codebookSizes: [Int]) {
        precondition(inputDimension > 0 && latentDimension > 0 && !codebookSizes.isEmpty
                     && codebookSizes.allSatisfy { $0 > 0 } && hidden.allSatisfy { $0 > 0 })
        self.inputDimension = inputDimension
        self.hidden = hidden
        self.latentDimension = latentDimension
        self.codebookSizes = codebookSizes
    }

    /// `levels` levels of `codebookSize` codes.
    public init(inputDimension: Int, hidden: [Int], latentDimension: Int, levels: Int, codebookSize: Int) {
        self.init(inputDimension: inputDimension, hidden: hidden, latentDimension: latentDimension,
                  codebookSizes: Array(repeating: codebookSize, count: Swift.max(0, levels)))
    }

    static func layers(_ dims: [Int]) -> [DenseLayer] {
        (0..<(dims.count - 1)).map { DenseLayer(inputs: dims[$0], outputs: dims[$0 + 1]) }
    }

    /// Offset of each encoder layer's weight (its bias follows it).
    public var encoderOffsets: [Int] { offsets(of: encoder, from: 0) }
    /// Offset of each decoder layer's weight (its bias follows it).
    public var decoderOffsets: [Int] { offsets(of: decoder, from: encoder.reduce(0) { $0 + $1.parameterCount }) }
    /// Offset of the codebooks, `[ΣK_l, m]`.
    public var codebookOffset: Int { (encoder + decoder).reduce(0) { $0 + $1.parameterCount } }
    /// Values in all codebooks.
    public var codebookCount: Int { totalCodes * latentDimension }

    /// Offset in the buffer of codeword `code` of level `level`.
    public func codewordOffset(level: Int, code: Int) -> Int {
        codebookOffset + (codeStarts[level] + code) * latentDimension
    }
    /// Values in the whole buffer.
    public var parameterCount: Int { codebookOffset + codebookCount }

    func offsets(of layers: [DenseLayer], from start: Int) -> [Int] {
        var out: [Int] = []
        var at = start
        for layer in layers { out.append(at); at += layer.parameterCount }
        return out
    }

    /// One named tensor of the buffer.
    public struct Tensor: Sendable, Equatable {
        /// E.g. `"encoder.0.weight"`, `"decoder.3.bias"`, `"codebooks"`.
        public var name: String
        /// Its place in the flat buffer.
        public var range: Range<Int>
        /// Its shape (`[out, in]` for weights, `[out]` for biases, `[L, K, m]` for the codebooks
        /// when every level has `K` codes, `[ΣK_l, m]` otherwise).
        public var shape: [Int]
    }

    /// Every tensor in buffer order.
    public var tensors: [Tensor] {
        var out: [Tensor] = []
        for (part, layers, offsets) in [("encoder", encoder, encoderOffsets), ("decoder", decoder, decoderOffsets)] {
            for (i, layer) in layers.enumerated() {
                let w = offsets[i]
                out.append(Tensor(name: "\(part).\(i).weight", range: w..<(w + layer.weightCount), shape: [layer.outputs, layer.inputs]))
                out.append(Tensor(name: "\(part).\(i).bias", range: (w + layer.weightCount)..<(w + layer.parameterCount), shape: [layer.outputs]))
            }
        }
        out.append(Tensor(name: "codebooks", range: codebookOffset..<parameterCount,
                          shape: CodebookSizes.isUniform(codebookSizes)
                            ? [levels, codebookSizes[0], latentDimension] : [totalCodes, latentDimension]))
        return out
    }

    /// The weight matrices' ranges (the parameters that get weight decay).
    public var weightRanges: [Range<Int>] {
        tensors.filter { $0.name.hasSuffix(".weight") }.map(\.range)
    }

    /// Widest activation (for scratch buffers).
    var maxWidth: Int { ([inputDimension, latentDimension, maximumCodebookSize] + hidden).max() ?? inputDimension }
}

/// Caller-owned buffers for forward (and backward) passes over at most `capacity` rows: one
/// allocation, freed on `deinit`; nothing is allocated per step.
final class RQVAEWorkspace {
    let network: RQVAENetwork
    let capacity: Int
    private let floats: UnsafeMutablePointer<Float>
    private let floatCount: Int
    /// `[cap, d]` input rows.
    let input: UnsafeMutablePointer<Float>
    /// Output of each encoder layer, `[cap, out]`; the last is the latent `z`.
    let encoderOutputs: [UnsafeMutablePointer<Float>]
    /// `[cap, m]` running residual.
    let residual: UnsafeMutablePointer<Float>
    /// `[cap, m]` Σ over levels of the residual after the level (the commitment gradient's direction).
    let residualSum: UnsafeMutablePointer<Float>
    /// `[cap, m]` quantized latent `zq = Σ_l c_l[j_l]`.
    let quantized: UnsafeMutablePointer<Float>
    /// `[L, cap]` squared norm of the residual after each level.
    let errors: UnsafeMutablePointer<Float>
    /// `[cap, max K_l]` distance scratch.
    let distances: UnsafeMutablePointer<Float>
    /// `[ΣK_l]` squared norms of the codewords (level `l` from ``RQVAENetwork/codeStarts``[l]).
    let codeNorms: UnsafeMutablePointer<Float>
    /// Output of each decoder layer; the last is `x̂`.
    let decoderOutputs: [UnsafeMutablePointer<Float>]
    /// Two `[cap, maxWidth]` gradient buffers used in turn.
    let gradientA: UnsafeMutablePointer<Float>
    let gradientB: UnsafeMutablePointer<Float>
    /// Parameter gradient (`parameterCount` values), when the workspace trains.
    let parameterGradient: UnsafeMutablePointer<Float>?
    /// `[cap, L]` codes.
    let codes: UnsafeMutablePointer<Int32>
    /// Packing scratch for bfloat16 products (when training in bfloat16).
    let packScratchA: UnsafeMutablePointer<UInt16>?
    let packScratchB: UnsafeMutablePointer<UInt16>?
    private let packScratchCount: Int

    init(network: RQVAENetwork, capacity: Int, training: Bool, bf16: Bool = false) {
        self.network = network
        self.capacity = capacity
        let d = network.inputDimension, m = network.latentDimension, L = network.levels, K = network.maximumCodebookSize
        var sizes: [Int] = [capacity * d]                                   // input
        sizes += network.encoder.map { capacity * $0.outputs }              // encoder outputs
        sizes += [capacity * m, capacity * m, capacity * m, L * capacity, capacity * K, network.totalCodes]
        sizes += network.decoder.map { capacity * $0.outputs }              // decoder outputs
        let g = training ? capacity * network.maxWidth : 0
        sizes += [g, g, training ? network.parameterCount : 0]
        // Each buffer starts on a 64-byte boundary.
        let padded = sizes.map { ($0 + 15) / 16 * 16 }
        floatCount = padded.reduce(0, +)
        floats = UnsafeMutablePointer<Float>.allocate(capacity: floatCount)
        floats.initialize(repeating: 0, count: floatCount)
        var at = 0
        var pointers: [UnsafeMutablePointer<Float>] = []
        for size in padded { pointers.append(floats + at); at += size }
        var i = 0
        func next() -> UnsafeMutablePointer<Float> { defer { i += 1 }; return pointers[i] }
        input = next()
        encoderOutputs = network.encoder.map { _ in next() }
        residual = next(); residualSum = next(); quantized = next(); errors = next(); distances = next(); codeNorms = next()
        decoderOutputs = network.decoder.map { _ in next() }
        gradientA = next(); gradientB = next()
        let pg = next()
        parameterGradient = training ? pg : nil
        codes = .allocate(capacity: capacity * L)
        codes.initialize(repeating: 0, count: capacity * L)
        if bf16 {
            packScratchCount = (network.encoder + network.decoder).map { $0.bf16ScratchCount(rows: capacity) }.max()!
            let a = UnsafeMutablePointer<UInt16>.allocate(capacity: packScratchCount)
            let b = UnsafeMutablePointer<UInt16>.allocate(capacity: packScratchCount)
            a.initialize(repeating: 0, count: packScratchCount)
            b.initialize(repeating: 0, count: packScratchCount)
            packScratchA = a
            packScratchB = b
        } else {
            packScratchCount = 0
            packScratchA = nil
            packScratchB = nil
        }
    }

    deinit {
        floats.deinitialize(count: floatCount)
        floats.deallocate()
        codes.deinitialize(count: capacity * network.levels)
        codes.deallocate()
        for p in [packScratchA, packScratchB] {
            p?.deinitialize(count: packScratchCount)
            p?.deallocate()
        }
    }

    /// The latent `z` (`[cap, m]`).
    var latent: UnsafeMutablePointer<Float> { encoderOutputs[encoderOutputs.count - 1] }
    /// The reconstruction `x̂` (`[cap, d]`).
    var reconstruction: UnsafeMutablePointer<Float> { decoderOutputs[decoderOutputs.count - 1] }

    // MARK: Passes

    /// `z = encoder(input)` for the first `rows` rows (products in bfloat16 when `packed` is given).
    func encode(rows: Int, parameters p: UnsafePointer<Float>, packed: RQVAEPackedWeights? = nil) {
        run(network.encoder, offsets: network.encoderOffsets, packed: packed?.encoder, from: input,
            outputs: encoderOutputs, rows: rows, parameters: p)
    }

    /// `x̂ = decoder(quantized)` for the first `rows` rows (products in bfloat16 when `packed` is given).
    func decode(rows: Int, parameters p: UnsafePointer<Float>, packed: RQVAEPackedWeights? = nil) {
        run(network.decoder, offsets: network.decoderOffsets, packed: packed?.decoder, from: quantized,
            outputs: decoderOutputs, rows: rows, parameters: p)
    }

    private func run(_ layers: [DenseLayer], offsets: [Int], packed: [(forward: UnsafeMutablePointer<UInt16>, backward: UnsafeMutablePointer<UInt16>)]?,
                     from input: UnsafeMutablePointer<Float>, outputs: [UnsafeMutablePointer<Float>], rows: Int,
                     parameters p: UnsafePointer<Float>) {
        var x = UnsafePointer(input)
        for (i, layer) in layers.enumerated() {
            let w = p + offsets[i]
            let activation: Activation? = i == layers.count - 1 ? nil : .relu
            if let packed, let scratch = packScratchA {
                layer.forwardBF16(x, rows: rows, packedWeight: packed[i].forward, bias: w + layer.weightCount,
                                  activation: activation, output: outputs[i], scratch: scratch)
            } else {
                layer.forward(x, rows: rows, weight: w, bias: w + layer.weightCount, activation: activation, output: outputs[i])
            }
            x = UnsafePointer(outputs[i])
        }
    }

    /// Fills ``codeNorms`` from the codebooks in `p`.
    func computeCodeNorms(parameters p: UnsafePointer<Float>) {
        let m = network.latentDimension
        let books = p + network.codebookOffset
        for c in 0..<network.totalCodes {
            codeNorms[c] = Distances.squaredNorm(books + c * m, count: m)
        }
    }

    /// Greedy residual quantization of the latent: for each level the nearest codeword (GEMM
    /// distances `‖c‖² − 2·r·c`, lowest index on ties) is recorded in ``codes`` and subtracted
    /// from ``residual``; ``quantized`` receives `Σ_l c_l[j_l]` and ``errors`` the squared norm of
    /// the residual after each level. ``codeNorms`` must be current. `afterLevel(l)` runs once the
    /// residual after level `l` is in ``residual``.
    func quantize(rows: Int, parameters p: UnsafePointer<Float>, afterLevel: (Int) -> Void = { _ in }) {
        let m = network.latentDimension, L = network.levels, starts = network.codeStarts
        residual.update(from: latent, count: rows * m)
        quantized.update(repeating: 0, count: rows * m)
        let books = p + network.codebookOffset
        for level in 0..<L {
            let K = network.codebookSizes[level]
            let book = books + starts[level] * m
            BLAS.sgemm(transposeB: true, m: rows, n: K, k: m, alpha: -2,
                       a: residual, lda: m, b: book, ldb: m, c: distances, ldc: K)
            let norms = UnsafePointer(codeNorms + starts[level])
            for r in 0..<rows {
                let (j, _) = Distances.argminSum(distances + r * K, norms, count: K)
                codes[r * L + level] = Int32(j)
                let c = book + j * m, res = residual + r * m, q = quantized + r * m
                for t in 0..<m {
                    res[t] -= c[t]
                    q[t] += c[t]
                }
                errors[level * capacity + r] = Distances.squaredNorm(res, count: m)
            }
            afterLevel(level)
        }
    }

    /// `quantized = Σ_l c_l[codes_l]` for given codes (`[rows, ≥ count]` with row stride `stride`),
    /// over the first `count` levels.
    func setQuantized(rows: Int, codes given: UnsafePointer<Int32>, stride: Int, levels count: Int,
                      parameters p: UnsafePointer<Float>) {
        let m = network.latentDimension, starts = network.codeStarts
        quantized.update(repeating: 0, count: rows * m)
        let books = p + network.codebookOffset
        for r in 0..<rows {
            let q = quantized + r * m
            for level in 0..<count {
                let c = books + (starts[level] + Int(given[r * stride + level])) * m
                for t in 0..<m { q[t] += c[t] }
            }
        }
    }
}

/// The dense layers' weights packed for bfloat16 products (forward `Wᵀ` and backward `W` per
/// layer), refreshed once per optimizer step and shared by the shards of the step.
final class RQVAEPackedWeights {
    let network: RQVAENetwork
    private let buffer: UnsafeMutablePointer<UInt16>
    private let count: Int
    let encoder: [(forward: UnsafeMutablePointer<UInt16>, backward: UnsafeMutablePointer<UInt16>)]
    let decoder: [(forward: UnsafeMutablePointer<UInt16>, backward: UnsafeMutablePointer<UInt16>)]

    init(network: RQVAENetwork) {
        self.network = network
        let layers = network.encoder + network.decoder
        count = layers.reduce(0) { $0 + $1.packedForwardWeightCount + $1.packedBackwardWeightCount }
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: 0, count: count)
        var at = 0
        var pairs: [(forward: UnsafeMutablePointer<UInt16>, backward: UnsafeMutablePointer<UInt16>)] = []
        for layer in layers {
            let f = buffer + at
            at += layer.packedForwardWeightCount
            pairs.append((f, buffer + at))
            at += layer.packedBackwardWeightCount
        }
        encoder = Array(pairs[0..<network.encoder.count])
        decoder = Array(pairs[network.encoder.count...])
    }

    deinit {
        buffer.deinitialize(count: count)
        buffer.deallocate()
    }

    /// Packs every layer's weight from `p`, layers spread over the cores.
    func pack(parameters p: UnsafePointer<Float>) {
        let jobs = zip(network.encoder, network.encoderOffsets).map { ($0, $1) } + zip(network.decoder, network.decoderOffsets).map { ($0, $1) }
        let targets = encoder + decoder
        Parallel.forEach(count: jobs.count) { j in
            let (layer, offset) = jobs[j]
            layer.packWeight(p + offset, forward: targets[j].forward, backward: targets[j].backward)
        }
    }
}
