import Foundation
import SemidMath

/// A trained RQ-VAE: an MLP encoder into an `m`-dimensional latent space, `L` residual codebooks of
/// `K` codewords there, and a mirrored MLP decoder back to the input space.
///
/// - ``encode(_:)``: `x → z = encoder(x)`, then greedy residual codes (nearest codeword per level).
/// - ``reconstruct(_:)``: `decoder(Σ_l c_l[j_l])`, in the input space.
/// - ``lastLevelDistances(_:codes:)``: squared distances **in the latent space** from the residual
///   entering the last level to every last-level codeword.
///
/// Every pass runs on blocks of ``blockRows`` rows, each block with single-threaded BLAS (blocks
/// spread over the cores), so a row's result does not depend on the BLAS thread count or on how
/// many cores the machine has: the same weights and input give the same codes.
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
    /// Codewords per level `K`.
    public var codebookSize: Int { network.codebookSize }
    /// The latent dimension `m`.
    public var latentDimension: Int { network.latentDimension }

    /// The values of the tensor `name` (see ``RQVAENetwork/tensors``).
    public func tensor(_ name: String) -> [Float]? {
        network.tensors.first { $0.name == name }.map { Array(parameters[$0.range]) }
    }

    /// Level `level`'s codebook, `[K, m]`.
    public func codebook(level: Int) -> Matrix {
        let size = codebookSize * latentDimension
        let start = network.codebookOffset + level * size
        return Matrix(rows: codebookSize, cols: latentDimension, values: Array(parameters[start..<(start + size)]))
    }

    // MARK: SemanticQuantizer

    /// Greedy residual codes of `encoder(x)` (`[n, d]` → `[n, L]`), in fp32.
    public func encode(_ x: Matrix) throws -> CodeMatrix {
        try evaluate(x, reconstruct: false).codes
    }

    /// `decoder(Σ_l c_l[j_l])` for each row of codes (`[n, L]` → `[n, d]`).
    public func reconstruct(_ codes: CodeMatrix) throws -> Matrix {
        try codes.validate(levels: levels, codebookSize: codebookSize)
        let n = codes.rows, d = inputDimension
        var out = Matrix(rows: n, cols: d)
        let stride = codes.levels
        codes.values.withUnsafeBufferPointer { cb in
            out.values.withUnsafeMutableBufferPointer { ob in
                let dst = SharedMutablePointer(ob.baseAddress!), src = cb.baseAddress!
                forEachBlock(rows: n) { ws, p, lo, rows in
                    ws.setQuantized(rows: rows, codes: src + lo * stride, stride: stride, levels: levels, parameters: p)
                    ws.decode(rows: rows, parameters: p)
                    (dst.pointer + lo * d).update(from: ws.reconstruction, count: rows * d)
                }
            }
        }
        return out
    }

    /// Latent-space squared distances from each row's last-level residual to every last-level codeword, `[n, K]`.
    public func lastLevelDistances(_ x: Matrix, codes: CodeMatrix) throws -> Matrix {
        try checkInput(x)
        try codes.validate(levels: levels, codebookSize: codebookSize)
        guard codes.rows == x.rows else {
            throw QuantizationError.invalidParameter(name: "codes", value: "\(codes.rows) rows", expected: "\(x.rows) (one per vector)")
        }
        let n = x.rows, m = latentDimension, K = codebookSize, stride = codes.levels, last = levels - 1
        var out = Matrix(rows: n, cols: K)
        let book = codebook(level: last)
        let norms = Distances.rowSquaredNorms(book)
        x.values.withUnsafeBufferPointer { xb in
            codes.values.withUnsafeBufferPointer { cb in
                out.values.withUnsafeMutableBufferPointer { ob in
                    book.values.withUnsafeBufferPointer { bb in
                        let dst = SharedMutablePointer(ob.baseAddress!)
                        let xs = xb.baseAddress!, cs = cb.baseAddress!, books = bb.baseAddress!
                        forEachBlock(rows: n) { ws, p, lo, rows in
                            ws.input.update(from: xs + lo * inputDimension, count: rows * inputDimension)
                            ws.encode(rows: rows, parameters: p)
                            ws.setQuantized(rows: rows, codes: cs + lo * stride, stride: stride, levels: last, parameters: p)
                            let z = ws.latent
                            for i in 0..<(rows * m) { ws.residual[i] = z[i] - ws.quantized[i] }
                            let o = dst.pointer + lo * K
                            BLAS.sgemm(transposeB: true, m: rows, n: K, k: m, alpha: -2,
                                       a: ws.residual, lda: m, b: books, ldb: m, c: o, ldc: K)
                            for r in 0..<rows {
                                let rn = Distances.squaredNorm(ws.residual + r * m, count: m)
                                for j in 0..<K { o[r * K + j] = max(0, o[r * K + j] + rn + norms[j]) }
                            }
                        }
                    }
                }
            }
        }
        return out
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

    /// Encodes `x` (and, when `reconstruct`, decodes its codes) in one pass.
    public func evaluate(_ x: Matrix, reconstruct: Bool = true) throws -> Evaluation {
        try checkInput(x)
        return Self.evaluate(x, network: network, parameters: parameters, reconstruct: reconstruct)
    }

    /// The pass behind ``evaluate(_:reconstruct:)``, on a raw parameter buffer (used during training).
    /// With `packed` weights (current for `parameters`) the dense layers run in bfloat16 on AMX, as in
    /// training; otherwise in fp32 like ``encode(_:)``.
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
    func forEachBlock(rows n: Int, _ body: (RQVAEWorkspace, UnsafePointer<Float>, Int, Int) -> Void) {
        Self.forEachBlock(rows: n, network: network, parameters: parameters, body)
    }

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
