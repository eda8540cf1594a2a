import Foundation
import Testing
@testable import SemidMath
@testable import SemidQuantization
import SemidNeuralNetwork
import SemidTestSupport

/// Finite-difference checks of the RQ-VAE's hand-written backward pass.
///
/// The quantizer is not differentiable; what training differentiates is the straight-through
/// surrogate with the codes held fixed at the current point θ₀:
/// ```
/// S(θ) = Σ‖x − dec_θ(z_θ + c₀)‖²/(B·d)                       c₀ = zq(θ₀) − z(θ₀)
///      + (1/L) Σ_l Σ‖C_l[j_l](θ) − r_l(θ₀)‖²/(B·m)
///      + β(1/L) Σ_l Σ‖z_θ − Σ_{k<l} q_k(θ₀) − q_l(θ₀)‖²/(B·m)
/// ```
/// Its value at θ₀ is the training loss and its gradient there is exactly what the ST estimator
/// defines, so central differences of `S` (in Double, independent naive loops) must match the
/// analytic gradient for every parameter: encoder, decoder and codebooks.
@Suite struct RQVAEGradientTests {
    /// A reference implementation in Double with naive loops.
    struct Reference {
        let net: RQVAENetwork

        func dense(_ x: [[Double]], _ layer: DenseLayer, _ offset: Int, _ p: [Double], relu: Bool) -> [[Double]] {
            x.map { row in
                (0..<layer.outputs).map { o in
                    var s = p[offset + layer.weightCount + o]
                    for i in 0..<layer.inputs { s += p[offset + o * layer.inputs + i] * row[i] }
                    return relu ? max(0, s) : s
                }
            }
        }

        func encode(_ x: [[Double]], _ p: [Double]) -> [[Double]] {
            var h = x
            for (i, (layer, off)) in zip(net.encoder, net.encoderOffsets).enumerated() {
                h = dense(h, layer, off, p, relu: i < net.encoder.count - 1)
            }
            return h
        }

        func decode(_ z: [[Double]], _ p: [Double]) -> [[Double]] {
            var h = z
            for (i, (layer, off)) in zip(net.decoder, net.decoderOffsets).enumerated() {
                h = dense(h, layer, off, p, relu: i < net.decoder.count - 1)
            }
            return h
        }

        func codeword(_ p: [Double], level: Int, code: Int) -> [Double] {
            let m = net.latentDimension
            let start = net.codewordOffset(level: level, code: code)
            return Array(p[start..<(start + m)])
        }

        /// Greedy codes and the residual entering each level, at `p`.
        func quantize(_ z: [[Double]], _ p: [Double]) -> (codes: [[Int]], residuals: [[[Double]]]) {
            var codes: [[Int]] = [], residuals: [[[Double]]] = []
            for row in z {
                var r = row, rowCodes: [Int] = [], rowResiduals: [[Double]] = []
                for level in 0..<net.levels {
                    rowResiduals.append(r)
                    var best = 0, bestD = Double.infinity
                    for j in 0..<net.codebookSizes[level] {
                        let c = codeword(p, level: level, code: j)
                        let d = zip(r, c).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                        if d < bestD { bestD = d; best = j }
                    }
                    rowCodes.append(best)
                    r = zip(r, codeword(p, level: level, code: best)).map { $0 - $1 }
                }
                codes.append(rowCodes); residuals.append(rowResiduals)
            }
            return (codes, residuals)
        }

        /// The surrogate `S(θ)` with the codes and stop-gradient values taken at `p0`.
        func surrogate(_ x: [[Double]], _ p: [Double], at p0: [Double], beta: Double) -> Double {
            let B = Double(x.count), d = Double(net.inputDimension), m = Double(net.latentDimension), L = net.levels
            let z0 = encode(x, p0)
            let (codes, r0) = quantize(z0, p0)
            let z = encode(x, p)
            var recon = 0.0, codebook = 0.0, commit = 0.0
            for (i, row) in z.enumerated() {
                var zq0 = [Double](repeating: 0, count: row.count)
                for l in 0..<L { zq0 = zip(zq0, codeword(p0, level: l, code: codes[i][l])).map { $0 + $1 } }
                let u = (0..<row.count).map { row[$0] + (zq0[$0] - z0[i][$0]) }
                let xhat = decode([u], p)[0]
                recon += zip(xhat, x[i]).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                var prefix = [Double](repeating: 0, count: row.count)
                for l in 0..<L {
                    let q = codeword(p, level: l, code: codes[i][l])
                    let q0 = codeword(p0, level: l, code: codes[i][l])
                    codebook += zip(q, r0[i][l]).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                    for t in 0..<row.count {
                        let rl = row[t] - prefix[t]
                        commit += (rl - q0[t]) * (rl - q0[t])
                    }
                    prefix = zip(prefix, q0).map { $0 + $1 }
                }
            }
            return recon / (B * d) + codebook / (Double(L) * B * m) + beta * commit / (Double(L) * B * m)
        }
    }

    static func setUp(seed: UInt64 = 5) -> (net: RQVAENetwork, params: [Float], x: [Float], rows: Int) {
        let net = RQVAENetwork(inputDimension: 6, hidden: [5, 4], latentDimension: 3, levels: 2, codebookSize: 4)
        var params = RQVAE.initialParameters(net, generator: SeededGenerator(seed: seed))
        var rng = SeededGenerator(seed: seed + 100)
        // Larger weights than PyTorch's init so every term matters; codebooks at the latents' scale.
        for t in net.tensors where t.name.hasSuffix("weight") { for i in t.range { params[i] *= 2.5 } }
        for i in net.codebookOffset..<net.parameterCount { params[i] = 0.6 * rng.nextGaussian() }
        let rows = 7
        let x = (0..<(rows * 6)).map { _ in rng.nextGaussian() }
        return (net, params, x, rows)
    }

    /// Runs the Float training pass on `rows` rows split into `pieces` workspaces and sums the
    /// gradients (as training does).
    static func analytic(_ net: RQVAENetwork, _ params: [Float], _ x: [Float], rows: Int, beta: Float, pieces: Int)
        -> (gradient: [Float], recon: Double, quant: Double, codes: [Int32])
    {
        var total = [Float](repeating: 0, count: net.parameterCount)
        var recon = 0.0, quant = 0.0
        var codes: [Int32] = []
        let d = net.inputDimension
        for s in 0..<pieces {
            let lo = rows * s / pieces, hi = rows * (s + 1) / pieces
            let ws = RQVAEWorkspace(network: net, capacity: max(1, hi - lo), training: true)
            for i in 0..<((hi - lo) * d) { ws.input[i] = x[lo * d + i] }
            let result = params.withUnsafeBufferPointer { p in
                ws.trainingPass(rows: hi - lo, batchRows: rows, parameters: p.baseAddress!, beta: beta)
            }
            recon += result.recon; quant += result.quant
            for i in 0..<net.parameterCount { total[i] += ws.parameterGradient![i] }
            codes += (0..<((hi - lo) * net.levels)).map { ws.codes[$0] }
        }
        return (total, recon, quant, codes)
    }

    @Test(arguments: [1, 2])
    func straightThroughGradientMatchesCentralDifferencesOfTheSurrogate(pieces: Int) throws {
        let (net, params, x, rows) = Self.setUp()
        let beta = 0.25
        let result = Self.analytic(net, params, x, rows: rows, beta: Float(beta), pieces: pieces)
        let ref = Reference(net: net)
        let p0 = params.map(Double.init)
        let xs = (0..<rows).map { r in (0..<6).map { Double(x[r * 6 + $0]) } }
        // Same codes as the Double reference (no near-ties in this fixture).
        let (refCodes, _) = ref.quantize(ref.encode(xs, p0), p0)
        #expect(result.codes.map(Int.init) == refCodes.flatMap { $0 })
        // Every codeword is used by some row? Not needed; unused ones must get exactly zero gradient.
        // Loss value at θ₀.
        let value = ref.surrogate(xs, p0, at: p0, beta: beta)
        let floatValue = result.recon / Double(rows * 6) + (1 + beta) * result.quant / Double(net.levels * rows * 3)
        #expect(abs(value - floatValue) < 1e-5 * max(1, value))
        // Every parameter.
        let h = 1e-5
        var worst = 0.0
        let scale = result.gradient.map { abs(Double($0)) }.max()!
        for i in 0..<net.parameterCount {
            let fd = GradientCheck.centralDifference(at: p0, coordinate: i, epsilon: h) {
                ref.surrogate(xs, $0, at: p0, beta: beta)
            }
            let err = abs(fd - Double(result.gradient[i]))
            worst = max(worst, err / scale)
            #expect(err <= 1e-4 * scale + 1e-4 * abs(fd), "parameter \(i) (\(name(net, i))): fd \(fd) vs analytic \(result.gradient[i])")
        }
        #expect(worst < 1e-4)
    }

    @Test func decoderGradientMatchesTheTrueLossWithCodesFixed() throws {
        // For decoder weights the surrogate is the true loss (codes do not depend on them): check
        // against differences of the full loss computed by the Float training pass itself.
        let (net, params, x, rows) = Self.setUp(seed: 9)
        let base = Self.analytic(net, params, x, rows: rows, beta: 0.25, pieces: 1)
        func loss(_ p: [Float]) -> Double {
            let r = Self.analytic(net, p, x, rows: rows, beta: 0.25, pieces: 1)
            #expect(r.codes == base.codes)
            return r.recon / Double(rows * 6) + 1.25 * r.quant / Double(net.levels * rows * 3)
        }
        let h: Float = 1e-2
        let decoder = net.decoderOffsets[0]..<net.codebookOffset
        let scale = base.gradient[decoder].map { abs(Double($0)) }.max()!
        for i in decoder {
            let fd = GradientCheck.centralDifference(at: params, coordinate: i, epsilon: h, loss: loss)
            #expect(abs(fd - Double(base.gradient[i])) <= 2e-3 * scale, "decoder parameter \(i): fd \(fd) vs \(base.gradient[i])")
        }
    }

    @Test func codebookAndCommitmentTermsHaveTheClosedFormGradients() {
        // ∂/∂c_l[j] = −2/(L·B·m)·Σ_{rows coded j} r_{l+1}; with β = 0 and a decoder that ignores its
        // input (zero weights) the encoder gradient is the commitment term only, which is 0 here.
        var (net, params, x, rows) = Self.setUp(seed: 3)
        for t in net.tensors where t.name.hasPrefix("decoder") { for i in t.range { params[i] = 0 } }
        let r = Self.analytic(net, params, x, rows: rows, beta: 0, pieces: 1)
        for t in net.tensors where t.name.hasPrefix("encoder") {
            #expect(t.range.allSatisfy { r.gradient[$0] == 0 }, "\(t.name) should get no gradient")
        }
        let ref = Reference(net: net)
        let p0 = params.map(Double.init)
        let xs = (0..<rows).map { r in (0..<6).map { Double(x[r * 6 + $0]) } }
        let z = ref.encode(xs, p0)
        let (codes, residuals) = ref.quantize(z, p0)
        let m = 3, K = 4, L = 2
        for l in 0..<L {
            for j in 0..<K {
                var expected = [Double](repeating: 0, count: m)
                for i in 0..<rows where codes[i][l] == j {
                    let c = ref.codeword(p0, level: l, code: j)
                    for t in 0..<m { expected[t] -= 2.0 / Double(L * rows * m) * (residuals[i][l][t] - c[t]) }
                }
                for t in 0..<m {
                    let got = Double(r.gradient[net.codebookOffset + (l * K + j) * m + t])
                    #expect(abs(got - expected[t]) < 1e-6)
                }
            }
        }
    }

    @Test(.enabled(if: BF16Matmul.isAvailable, "needs a CPU with AMX-BF16"))
    func bfloat16PassGivesTheFp32GradientToBfloat16Precision() {
        // A wider network than the finite-difference fixture so the products are real tiles.
        let net = RQVAENetwork(inputDimension: 40, hidden: [48, 24], latentDimension: 8, levels: 2, codebookSize: 16)
        var params = RQVAE.initialParameters(net, generator: SeededGenerator(seed: 2))
        var rng = SeededGenerator(seed: 3)
        for i in net.codebookOffset..<net.parameterCount { params[i] = 0.2 * rng.nextGaussian() }
        let rows = 50
        let x = (0..<(rows * 40)).map { _ in rng.nextGaussian() }
        let packed = RQVAEPackedWeights(network: net)
        func pass(bf16: Bool) -> (gradient: [Float], recon: Double, codes: [Int32]) {
            let ws = RQVAEWorkspace(network: net, capacity: rows, training: true, bf16: bf16)
            for i in 0..<(rows * 40) { ws.input[i] = x[i] }
            let r = params.withUnsafeBufferPointer { p -> (recon: Double, quant: Double) in
                packed.pack(parameters: p.baseAddress!)
                return ws.trainingPass(rows: rows, batchRows: rows, parameters: p.baseAddress!, beta: 0.25,
                                       packed: bf16 ? packed : nil)
            }
            return (Array(UnsafeBufferPointer(start: ws.parameterGradient!, count: net.parameterCount)), r.recon,
                    Array(UnsafeBufferPointer(start: ws.codes, count: rows * 2)))
        }
        let fp32 = pass(bf16: false), bf16 = pass(bf16: true)
        #expect(abs(bf16.recon - fp32.recon) < 1e-2 * fp32.recon)
        // Codes may differ where a row is nearly tied; the fixture has none within bf16 noise.
        #expect(bf16.codes == fp32.codes)
        for t in net.tensors {
            let a = bf16.gradient[t.range], b = fp32.gradient[t.range]
            let num = zip(a, b).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            let den = b.reduce(Float(0)) { $0 + $1 * $1 }
            // Each product is within ~0.3% of fp32; the first encoder layer also sees ReLU masks of
            // near-zero pre-activations flip between the two passes (measured: 3.6% there, < 0.4% elsewhere).
            let error = (num / max(den, 1e-30)).squareRoot()
            #expect(error < (t.name.hasPrefix("encoder.0") ? 6e-2 : 1e-2), "\(t.name): \(error)")
        }
    }

    func name(_ net: RQVAENetwork, _ i: Int) -> String {
        net.tensors.first { $0.range.contains(i) }.map { "\($0.name)[\(i - $0.range.lowerBound)]" } ?? "?"
    }
}
