import SemidMath

/// A fully connected layer `y = x·W + b` on row-major batches `x` `[rows, inputs]` → `y`
/// `[rows, outputs]`, forward and backward by `sgemm` (one product over all rows of a batch).
///
/// The layer is a shape and a weight layout; it owns no memory. Parameters, gradients and
/// activations live in caller-owned flat buffers (a ``ParameterSet`` or the RQ-VAE's parameter
/// vector), so a training loop allocates nothing per step. Costs: forward `2·rows·inputs·outputs`
/// flops, backward twice that (the input gradient is optional).
///
/// The two layouts are the two stored formats of semid's networks; each keeps the order of its
/// floating-point operations, so retraining reproduces an index or a model bit for bit:
/// - ``WeightLayout/outputsByInputs`` (PyTorch's `nn.Linear`, the RQ-VAE): the product is
///   written first, then the bias (and a ReLU) is added in one pass; the bias gradient sums the
///   rows in eight lanes before adding to the accumulator.
/// - ``WeightLayout/inputsByOutputs`` (the next-item model): the bias is the product's starting
///   value (`sgemm` with `β = 1`); the bias gradient adds the rows to the accumulator one by one.
public struct DenseLayer: Sendable, Equatable {
    /// How the weight matrix is stored.
    public enum WeightLayout: String, Sendable, Equatable {
        /// `W` stored `[outputs, inputs]` row-major (PyTorch's `nn.Linear`): `y = x·Wᵀ + b`.
        case outputsByInputs
        /// `W` stored `[inputs, outputs]` row-major: `y = x·W + b`.
        case inputsByOutputs
    }

    /// Input features.
    public let inputs: Int
    /// Output features.
    public let outputs: Int
    /// How the weight is stored.
    public let layout: WeightLayout

    /// A layer shape; both dimensions must be positive (callers validate their configurations first).
    public init(inputs: Int, outputs: Int, layout: WeightLayout = .outputsByInputs) {
        precondition(inputs > 0 && outputs > 0, "a dense layer needs positive dimensions")
        self.inputs = inputs
        self.outputs = outputs
        self.layout = layout
    }

    /// Weight values, `inputs · outputs`.
    public var weightCount: Int { inputs * outputs }
    /// Weight and bias values.
    public var parameterCount: Int { inputs * outputs + outputs }

    /// `y[rows, outputs] = act(x[rows, inputs]·W + b)`, overwriting `y`; no bias when `bias` is
    /// `nil`, no activation when `activation` is `nil` (`y` must not alias `x`).
    package func forward(
        _ x: UnsafePointer<Float>, rows: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        activation: Activation? = nil, output y: UnsafeMutablePointer<Float>
    ) {
        guard rows > 0 else { return }
        switch layout {
        case .outputsByInputs:
            BLAS.sgemm(transposeB: true, m: rows, n: outputs, k: inputs,
                       a: x, lda: inputs, b: weight, ldb: inputs, c: y, ldc: outputs)
            if let bias {
                Self.addBias(bias, to: y, rows: rows, cols: outputs, relu: activation == .relu)
                if activation == .relu { return }
            }
        case .inputsByOutputs:
            if let bias {
                for r in 0..<rows { (y + r * outputs).update(from: bias, count: outputs) }
            }
            BLAS.sgemm(m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: weight, ldb: outputs,
                       beta: bias == nil ? 0 : 1, c: y, ldc: outputs)
        }
        activation?.forward(y, count: rows * outputs, into: y)
    }

    /// Back-propagates `dY` (`[rows, outputs]`, already multiplied by the activation's derivative):
    /// `dW (+)= ∂L/∂W`, `db (+)= Σ_rows dY` when `biasGradient` is given, and `dX (+)= dY·∂y/∂x`
    /// (`[rows, inputs]`) when `inputGradient` is given.
    ///
    /// - Parameters:
    ///   - accumulate: add to `weightGradient` / `biasGradient` instead of overwriting them.
    ///   - accumulateInput: add to `inputGradient` instead of overwriting it.
    package func backward(
        input x: UnsafePointer<Float>, rows: Int, weight: UnsafePointer<Float>,
        outputGradient dY: UnsafePointer<Float>,
        weightGradient dW: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>?,
        inputGradient dX: UnsafeMutablePointer<Float>?, accumulate: Bool, accumulateInput: Bool = false
    ) {
        guard rows > 0 else {
            if !accumulate {
                dW.update(repeating: 0, count: weightCount)
                db?.update(repeating: 0, count: outputs)
            }
            return
        }
        switch layout {
        case .outputsByInputs:
            // dW = dYᵀ·X: [outputs, rows]·[rows, inputs]; dX = dY·W.
            BLAS.sgemm(transposeA: true, m: outputs, n: inputs, k: rows,
                       a: dY, lda: outputs, b: x, ldb: inputs, beta: accumulate ? 1 : 0, c: dW, ldc: inputs)
            if let db { Self.laneColumnSums(dY, rows: rows, cols: outputs, into: db, accumulate: accumulate) }
            if let dX {
                BLAS.sgemm(m: rows, n: inputs, k: outputs, a: dY, lda: outputs, b: weight, ldb: inputs,
                           beta: accumulateInput ? 1 : 0, c: dX, ldc: inputs)
            }
        case .inputsByOutputs:
            // dW = Xᵀ·dY: [inputs, rows]·[rows, outputs]; dX = dY·Wᵀ.
            BLAS.sgemm(transposeA: true, m: inputs, n: outputs, k: rows, a: x, lda: inputs, b: dY, ldb: outputs,
                       beta: accumulate ? 1 : 0, c: dW, ldc: outputs)
            if let db {
                if !accumulate { db.update(repeating: 0, count: outputs) }
                Self.addRows(dY, rows: rows, cols: outputs, into: db)
            }
            if let dX {
                BLAS.sgemm(transposeB: true, m: rows, n: inputs, k: outputs, a: dY, lda: outputs, b: weight, ldb: outputs,
                           beta: accumulateInput ? 1 : 0, c: dX, ldc: inputs)
            }
        }
    }

    // MARK: - Row and column passes

    /// `y[r, :] += b` for each of `rows` rows of `y` `[rows, cols]`, then `max(0, ·)` when `relu`.
    /// O(rows · cols), eight lanes at a time.
    static func addBias(_ b: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>,
                        rows: Int, cols: Int, relu: Bool) {
        let zero = SIMD8<Float>(repeating: 0)
        let rawB = UnsafeRawPointer(b)
        for r in 0..<rows {
            let row = y + r * cols
            let raw = UnsafeMutableRawPointer(row)
            var j = 0
            while j + 8 <= cols {
                var v = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                v += rawB.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                if relu { v = v.replacing(with: zero, where: v .< zero) }
                raw.storeBytes(of: v, toByteOffset: j * 4, as: SIMD8<Float>.self)
                j += 8
            }
            while j < cols {
                let v = row[j] + b[j]
                row[j] = relu ? Swift.max(0, v) : v
                j += 1
            }
        }
    }

    /// `out[j] (+)= Σ_r g[r, j]` over `g` `[rows, cols]`: each column summed over the rows first
    /// (eight columns at a time), then added to `out`. O(rows · cols).
    static func laneColumnSums(_ g: UnsafePointer<Float>, rows: Int, cols: Int,
                               into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if !accumulate { out.update(repeating: 0, count: cols) }
        let rawOut = UnsafeMutableRawPointer(out)
        var j = 0
        while j + 8 <= cols {
            var acc = SIMD8<Float>()
            for r in 0..<rows {
                acc += UnsafeRawPointer(g + r * cols).loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            }
            acc += rawOut.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            rawOut.storeBytes(of: acc, toByteOffset: j * 4, as: SIMD8<Float>.self)
            j += 8
        }
        while j < cols {
            var acc: Float = 0
            for r in 0..<rows { acc += g[r * cols + j] }
            out[j] += acc
            j += 1
        }
    }

    /// `out[j] += a[r, j]` for each row `r` of `a` `[rows, cols]` in turn (the row-by-row
    /// accumulation order). O(rows · cols).
    package static func addRows(_ a: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = a + r * cols
            for j in 0..<cols { out[j] += row[j] }
        }
    }
}
