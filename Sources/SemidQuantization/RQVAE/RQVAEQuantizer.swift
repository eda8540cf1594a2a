import Foundation
import SemidMath
import SemidNeuralNetwork

/// A trained RQ-VAE: an MLP encoder into an `m`-dimensional latent space, `L` residual codebooks
/// there (`K_l` codewords at level `l`), and a mirrored MLP decoder back to the input space.
///
/// - ``encode(_:)``: `x → z = encoder(x)`, then greedy residual codes (nearest codeword per level).
/// - ``reconstruct(_:)``: `decoder(Σ_l c_l[j_l])`, in the input space.
/// - ``lastLevelDistances(_:codes:)``: squared distances **in the latent space** from the residual
///   entering the last level to every last-level codeword.
///
/// Inference (``encode(_:)``, ``reconstruct(_:)``, ``lastLevelDistances(_:codes:)``,
/// ``evaluate(_:reconstruct:)``) is exact: fixed-order products and exact nearest-codeword
/// decisions (``RQVAEExactPass``), so the same weights and input give the same codes and values on
/// every CPU, BLAS kernel and thread count.
public struct RQVAEQuantizer: SemanticQuantizer, Equatable {
    /// Rows per block in inference passes.
    public static let blockRows = 1024

    /// The architecture.
    public let network: RQVAENetwork
    /// All parameters, laid out as ``RQVAENetwork/tensors`` says.
    public let parameters: [Float]

    /// Wraps trained parameters (`network.parameterCount` finite values).
    public init(network: RQVAENetwork, parameters: [Float]) throws {
        guard parameters.count == network.parameterCount else {
            throw QuantizationError.invalidParameter(name: "rq-vae parameters", value: "\(parameters.count) values",
                                                     expected: "\(network.parameterCount) for this architecture")
        }
        if let bad = parameters.firstIndex(where: { !$0.isFinite }) {
            throw QuantizationError.numerical("rq-vae parameter \(bad) is not finite")
        }
        self.network = network
        self.parameters = parameters
    }

    /// The input dimension `d`.
    public var inputDimension: Int { network.inputDimension }
    /// The number of code levels `L`.
    public var levels: Int { network.levels }
    /// Codewords at each level, `K_l`.
    public var codebookSizes: [Int] { network.codebookSizes }
    /// The latent dimension `m`.
    public var latentDimension: Int { network.latentDimension }

    /// The values of the tensor `name` (see ``RQVAENetwork/tensors``).
    public func tensor(_ name: String) -> [Float]? {
        network.tensors.first { $0.name == name }.map { Array(parameters[$0.range]) }
    }

    /// Level `level`'s codebook, `[K_level, m]`.
    public func codebook(level: Int) -> Matrix {
        RQVAEExactPass.codebook(network, parameters: parameters, level: level)
    }

    // MARK: SemanticQuantizer

    /// Greedy residual codes of `encoder(x)` (`[n, d]` → `[n, L]`), the same on every machine
    /// (``RQVAEExactPass``).
    public func encode(_ x: Matrix) throws -> CodeMatrix {
        try evaluate(x, reconstruct: false).codes
    }

    /// `decoder(Σ_l c_l[j_l])` for each row of codes (`[n, L]` → `[n, d]`), the same bits on every
    /// machine (``RQVAEExactPass``).
    public func reconstruct(_ codes: CodeMatrix) throws -> Matrix {
        try codes.validate(codebookSizes: codebookSizes)
        let zq = RQVAEExactPass.quantized(codes, levels: levels, network: network, parameters: parameters)
        return RQVAEExactPass.dense(zq, layers: network.decoder, offsets: network.decoderOffsets, parameters: parameters)
    }

    /// Latent-space squared distances from each row's last-level residual to every last-level
    /// codeword, `[n, K_{L-1}]`, the same bits on every machine.
    public func lastLevelDistances(_ x: Matrix, codes: CodeMatrix) throws -> Matrix {
        try checkInput(x)
        try codes.validate(codebookSizes: codebookSizes)
        guard codes.rows == x.rows else {
            throw QuantizationError.invalidParameter(name: "codes", value: "\(codes.rows) rows", expected: "\(x.rows) (one per vector)")
        }
        var residual = RQVAEExactPass.dense(x, layers: network.encoder, offsets: network.encoderOffsets, parameters: parameters)
        let partial = RQVAEExactPass.quantized(codes, levels: levels - 1, network: network, parameters: parameters)
        for i in residual.values.indices { residual.values[i] -= partial.values[i] }
        return Distances.squaredDistances(from: residual, to: codebook(level: levels - 1))
    }

    // MARK: Evaluation

    /// What one pass over a data set measures.
    public struct Evaluation: Sendable {
        /// Greedy codes, `[n, L]`.
        public var codes: CodeMatrix
        /// `Σ_rows ‖x − decoder(zq)‖²` (0 when not reconstructed).
        public var reconstructionError: Double
        /// `Σ_rows ‖residual after level l‖²` in the latent space, per level.
        public var latentResidualError: [Double]
        /// `Σ_rows ‖z − mean(z)‖²`, the latents' total variance times `n`.
        public var latentVariance: Double
    }

    /// Encodes `x` (and, when `reconstruct`, decodes its codes) in one pass, the same bits on every
    /// machine (``RQVAEExactPass``).
    public func evaluate(_ x: Matrix, reconstruct: Bool = true) throws -> Evaluation {
        try checkInput(x)
        return RQVAEExactPass.evaluate(x, network: network, parameters: parameters, reconstruct: reconstruct)
    }

    /// The fast pass used by the evaluations during training, on a raw parameter buffer, in the
    /// training arithmetic: with `packed` weights (current for `parameters`) the dense layers run in
    /// bfloat16 on AMX, otherwise in fp32 `sgemm`. Its last bits follow the BLAS kernel; the index's
    /// codes come from the exact pass (``evaluate(_:reconstruct:)``).
    static func evaluate(_ x: Matrix, network: RQVAENetwork, parameters: [Float], reconstruct: Bool,
                         packed: RQVAEPackedWeights? = nil) -> Evaluation {
        let n = x.rows, d = network.inputDimension, m = network.latentDimension, L = network.levels
        var codes = CodeMatrix(rows: n, levels: L)
        let blocks = (n + blockRows - 1) / blockRows
        // Per block: reconstruction error, L residual errors, Σz (m), Σ‖z‖².
        let stats = 1 + L + m + 1
        var partial = [Double](repeating: 0, count: max(1, blocks) * stats)
        x.values.withUnsafeBufferPointer { xb in
            codes.values.withUnsafeMutableBufferPointer { cb in
                partial.withUnsafeMutableBufferPointer { pb in
                    let xs = xb.baseAddress!, cs = SharedMutablePointer(cb.baseAddress!), ps = SharedMutablePointer(pb.baseAddress!)
                    forEachBlock(rows: n, network: network, parameters: parameters, bf16: packed != nil) { ws, p, lo, rows in
                        ws.input.update(from: xs + lo * d, count: rows * d)
                        ws.encode(rows: rows, parameters: p, packed: packed)
                        ws.quantize(rows: rows, parameters: p)
                        (cs.pointer + lo * L).update(from: ws.codes, count: rows * L)
                        let s = ps.pointer + (lo / blockRows) * stats
                        if reconstruct {
                            ws.decode(rows: rows, parameters: p, packed: packed)
                            s[0] = MeanSquaredError.sum(ws.reconstruction, ws.input, count: rows * d)
                        }
                        for level in 0..<L {
                            var e = 0.0
                            for r in 0..<rows { e += Double(ws.errors[level * ws.capacity + r]) }
                            s[1 + level] = e
                        }
                        let z = ws.latent
                        for r in 0..<rows {
                            for t in 0..<m { s[1 + L + t] += Double(z[r * m + t]) }
                            s[stats - 1] += Double(Distances.squaredNorm(z + r * m, count: m))
                        }
                    }
                }
            }
        }
        var total = [Double](repeating: 0, count: stats)
        for b in 0..<blocks { for s in 0..<stats { total[s] += partial[b * stats + s] } }
        let meanNorm = (0..<m).reduce(0.0) { acc, t in
            let mu = total[1 + L + t] / Double(max(n, 1))
            return acc + mu * mu
        }
        return Evaluation(codes: codes, reconstructionError: total[0], latentResidualError: Array(total[1...L]),
                          latentVariance: max(0, total[stats - 1] - Double(n) * meanNorm))
    }

    /// Runs `body(workspace, parameters, firstRow, rows)` over blocks of ``blockRows`` rows, blocks in
    /// parallel, BLAS single-threaded inside each block.
    static func forEachBlock(rows n: Int, network: RQVAENetwork, parameters: [Float], bf16: Bool = false,
                             _ body: (RQVAEWorkspace, UnsafePointer<Float>, Int, Int) -> Void) {
        guard n > 0 else { return }
        let blocks = (n + blockRows - 1) / blockRows
        parameters.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            BLASRuntime.withThreadCount(1) {
                Parallel.forEachChunk(count: blocks) { range in
                    let ws = RQVAEWorkspace(network: network, capacity: min(blockRows, n), training: false, bf16: bf16)
                    ws.computeCodeNorms(parameters: p)
                    for block in range {
                        let lo = block * blockRows
                        body(ws, p, lo, min(blockRows, n - lo))
                    }
                }
            }
        }
    }

    func checkInput(_ x: Matrix) throws {
        guard x.cols == inputDimension else {
            throw QuantizationError.dimensionMismatch(expected: inputDimension, found: x.cols)
        }
    }
}
