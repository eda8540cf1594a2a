import SemidMath
import SemidNeuralNetwork

/// RQ-VAE inference whose every bit is the same on every machine: the dense layers are fixed-order
/// products (``FixedOrder``, `y = x·Wᵀ + b` with `W` stored `[out, in]`), the residual levels take
/// exact nearest-codeword decisions (``Distances/nearest(_:in:centroidNorms:pointNorms:)``), and
/// every sum runs in a fixed order.
///
/// Training follows its BLAS kernel's rounding (see `docs/reproducibility.md`), but once the weights
/// are fixed, ``RQVAEQuantizer/encode(_:)`` gives the same codes everywhere, so `add`, `verify` and
/// the Python `encode` agree with the index on any CPU.
enum RQVAEExactPass {
    /// Rows per block (the unit of the partial sums, so figures do not depend on the core count).
    static let blockRows = 1024

    /// `layers(x)` for the rows of `x`: dense layers at `offsets` of `parameters`, ReLU after every
    /// layer but the last.
    static func dense(_ x: Matrix, layers: [DenseLayer], offsets: [Int], parameters: [Float]) -> Matrix {
        var h = x
        for (i, layer) in layers.enumerated() {
            let w = offsets[i]
            let weight = Matrix(rows: layer.outputs, cols: layer.inputs,
                                values: Array(parameters[w..<(w + layer.weightCount)]))
            var y = FixedOrder.productTransposed(h, weight)
            let relu = i < layers.count - 1
            parameters.withUnsafeBufferPointer { p in
                let bias = p.baseAddress! + w + layer.weightCount
                y.values.withUnsafeMutableBufferPointer { out in
                    for r in 0..<y.rows {
                        for j in 0..<layer.outputs {
                            let v = out[r * layer.outputs + j] + bias[j]
                            out[r * layer.outputs + j] = relu ? max(0, v) : v
                        }
                    }
                }
            }
            h = y
        }
        return h
    }

    /// Level `level`'s codebook, `[K_level, m]`.
    static func codebook(_ network: RQVAENetwork, parameters: [Float], level: Int) -> Matrix {
        let k = network.codebookSizes[level]
        let start = network.codewordOffset(level: level, code: 0)
        return Matrix(rows: k, cols: network.latentDimension,
                      values: Array(parameters[start..<(start + k * network.latentDimension)]))
    }

    /// Greedy residual codes of the latents `z` (`[n, m]`), the quantized latents `Σ_l c_l[j_l]`,
    /// and the squared residual norm after each level (`L` arrays of `n`, float64 reference values).
    static func quantize(_ z: Matrix, network: RQVAENetwork, parameters: [Float])
        -> (codes: CodeMatrix, quantized: Matrix, errors: [[Float]]) {
        let n = z.rows, m = network.latentDimension, L = network.levels
        var codes = CodeMatrix(rows: n, levels: L)
        var residual = z
        var quantized = Matrix(rows: n, cols: m)
        var errors: [[Float]] = []
        for level in 0..<L {
            let book = codebook(network, parameters: parameters, level: level)
            let (labels, distances) = Distances.nearest(residual, in: book)
            for i in 0..<n {
                let j = Int(labels[i])
                codes[i, level] = labels[i]
                for t in 0..<m {
                    residual.values[i * m + t] -= book.values[j * m + t]
                    quantized.values[i * m + t] += book.values[j * m + t]
                }
            }
            errors.append(distances)
        }
        return (codes, quantized, errors)
    }

    /// The quantized latents of given codes (`[n, ≥ count]`) over their first `count` levels.
    static func quantized(_ codes: CodeMatrix, levels count: Int, network: RQVAENetwork, parameters: [Float]) -> Matrix {
        let m = network.latentDimension
        var out = Matrix(rows: codes.rows, cols: m)
        for level in 0..<count {
            let book = codebook(network, parameters: parameters, level: level)
            for i in 0..<codes.rows {
                let j = Int(codes[i, level])
                for t in 0..<m { out.values[i * m + t] += book.values[j * m + t] }
            }
        }
        return out
    }

    /// The whole evaluation pass (see ``RQVAEQuantizer/Evaluation``), block by block.
    static func evaluate(_ x: Matrix, network: RQVAENetwork, parameters: [Float], reconstruct: Bool)
        -> RQVAEQuantizer.Evaluation {
        let n = x.rows, m = network.latentDimension, L = network.levels
        var codes = CodeMatrix(rows: n, levels: L)
        var reconstructionError = 0.0
        var levelErrors = [Double](repeating: 0, count: L)
        var latentSum = [Double](repeating: 0, count: m)
        var latentSquares = 0.0
        var lo = 0
        while lo < n {
            let rows = min(blockRows, n - lo)
            let block = x.rows(lo..<(lo + rows))
            let z = dense(block, layers: network.encoder, offsets: network.encoderOffsets, parameters: parameters)
            let q = quantize(z, network: network, parameters: parameters)
            for i in 0..<rows { for l in 0..<L { codes[lo + i, l] = q.codes[i, l] } }
            if reconstruct {
                let xhat = dense(q.quantized, layers: network.decoder, offsets: network.decoderOffsets, parameters: parameters)
                var e = 0.0
                block.values.withUnsafeBufferPointer { a in
                    xhat.values.withUnsafeBufferPointer { b in
                        for i in 0..<rows {
                            e += FixedOrder.exactSquaredDistance(a.baseAddress! + i * block.cols,
                                                                 b.baseAddress! + i * block.cols, count: block.cols)
                        }
                    }
                }
                reconstructionError += e
            }
            for l in 0..<L {
                var e = 0.0
                for i in 0..<rows { e += Double(q.errors[l][i]) }
                levelErrors[l] += e
            }
            var s = 0.0
            for i in 0..<rows {
                for t in 0..<m { latentSum[t] += Double(z.values[i * m + t]) }
                s += Double(Distances.squaredNorm(z.values, row: i, count: m))
            }
            latentSquares += s
            lo += rows
        }
        var meanNorm = 0.0
        for t in 0..<m { let mu = latentSum[t] / Double(max(n, 1)); meanNorm += mu * mu }
        return RQVAEQuantizer.Evaluation(codes: codes, reconstructionError: reconstructionError,
                                         latentResidualError: levelErrors,
                                         latentVariance: max(0, latentSquares - Double(n) * meanNorm))
    }
}

extension Distances {
    /// `‖row i of values‖²` for a row-major buffer with `count` columns.
    static func squaredNorm(_ values: [Float], row i: Int, count: Int) -> Float {
        values.withUnsafeBufferPointer { squaredNorm($0.baseAddress! + i * count, count: count) }
    }
}
