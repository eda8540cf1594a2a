/// A fully connected layer `y = x·Wᵀ + b` on row-major batches, forward and backward by `sgemm`.
///
/// The weight is stored `[outputs, inputs]` row-major (PyTorch's `nn.Linear` layout, so trained
/// weights can be loaded there unchanged), the bias has `outputs` values. The layer owns no
/// memory: parameters, gradients and activations live in caller-owned flat buffers, so a training
/// loop allocates nothing per step.
public struct DenseLayer: Sendable, Equatable, Codable {
    /// Input features.
    public let inputs: Int
    /// Output features.
    public let outputs: Int

    /// The activation applied after the affine map.
    public enum Activation: String, Sendable, Codable {
        case identity
        case relu
    }

    /// Creates a layer shape.
    public init(inputs: Int, outputs: Int) {
        precondition(inputs > 0 && outputs > 0, "a dense layer needs positive dimensions")
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Weight values, `outputs × inputs`.
    public var weightCount: Int { inputs * outputs }
    /// Weight and bias values.
    public var parameterCount: Int { inputs * outputs + outputs }

    /// `y[rows, outputs] = act(x[rows, inputs] · Wᵀ + b)`.
    public func forward(
        _ x: UnsafePointer<Float>, rows: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        activation: Activation, output y: UnsafeMutablePointer<Float>
    ) {
        guard rows > 0 else { return }
        BLAS.sgemm(transposeB: true, m: rows, n: outputs, k: inputs,
                   a: x, lda: inputs, b: weight, ldb: inputs, c: y, ldc: outputs)
        Self.addBias(bias, to: y, rows: rows, cols: outputs, relu: activation == .relu)
    }

    /// Backward pass for a batch whose output gradient `dY` (`[rows, outputs]`, already multiplied
    /// by the activation's derivative) is known:
    /// `dW (+)= dYᵀ·X`, `db (+)= Σ_rows dY`, and `dX = dY·W` when `inputGradient` is given.
    ///
    /// - Parameter accumulate: add to `weightGradient`/`biasGradient` instead of overwriting them.
    public func backward(
        input x: UnsafePointer<Float>, rows: Int, weight: UnsafePointer<Float>,
        outputGradient dY: UnsafePointer<Float>,
        weightGradient dW: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>,
        inputGradient dX: UnsafeMutablePointer<Float>?, accumulate: Bool = false
    ) {
        if rows == 0 {
            if !accumulate {
                dW.update(repeating: 0, count: weightCount)
                db.update(repeating: 0, count: outputs)
            }
            return
        }
        BLAS.sgemm(transposeA: true, m: outputs, n: inputs, k: rows,
                   a: dY, lda: outputs, b: x, ldb: inputs, beta: accumulate ? 1 : 0, c: dW, ldc: inputs)
        Self.columnSums(dY, rows: rows, cols: outputs, into: db, accumulate: accumulate)
        if let dX {
            BLAS.sgemm(m: rows, n: inputs, k: outputs,
                       a: dY, lda: outputs, b: weight, ldb: inputs, c: dX, ldc: inputs)
        }
    }

    /// `y[r, :] += b`, then `max(0, ·)` when `relu`.
    @inlinable
    public static func addBias(_ b: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>,
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

    /// `out[j] (+)= Σ_r g[r, j]` over a row-major `[rows, cols]` buffer.
    @inlinable
    public static func columnSums(_ g: UnsafePointer<Float>, rows: Int, cols: Int,
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
}

/// Element-wise activations and their derivatives.
public enum Activations {
    /// `g[i] = 0` where the ReLU output `y[i]` is 0 (the derivative of `max(0, ·)`, taken as 0 at 0).
    @inlinable
    public static func reluBackward(output y: UnsafePointer<Float>, gradient g: UnsafeMutablePointer<Float>, count: Int) {
        let zero = SIMD8<Float>(repeating: 0)
        let ry = UnsafeRawPointer(y), rg = UnsafeMutableRawPointer(g)
        var i = 0
        while i + 8 <= count {
            let yv = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            var gv = rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            gv = gv.replacing(with: zero, where: yv .<= zero)
            rg.storeBytes(of: gv, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            if y[i] <= 0 { g[i] = 0 }
            i += 1
        }
    }

    /// `y = max(0, x)` in place.
    @inlinable
    public static func relu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count where x[i] < 0 { x[i] = 0 }
    }
}

/// Mean squared error `L = scale · Σ (p − t)²` and its gradient `2·scale·(p − t)`.
public enum MeanSquaredError {
    /// Writes `dL/dp` to `gradient` (may alias nothing else) and returns `Σ (p − t)²` (unscaled,
    /// accumulated in `Double`). For the mean over `N` values pass `scale = 1/N`.
    @inlinable
    @discardableResult
    public static func sumAndGradient(
        prediction p: UnsafePointer<Float>, target t: UnsafePointer<Float>, count: Int, scale: Float,
        gradient: UnsafeMutablePointer<Float>
    ) -> Double {
        let twoScale = SIMD8<Float>(repeating: 2 * scale)
        let rp = UnsafeRawPointer(p), rt = UnsafeRawPointer(t), rg = UnsafeMutableRawPointer(gradient)
        var total = 0.0
        var i = 0
        while i + 8 <= count {
            var acc = SIMD8<Float>()
            let end = Swift.min(count & ~7, i + 1024)
            while i < end {
                let d = rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                    - rt.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                acc += d * d
                rg.storeBytes(of: d * twoScale, toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            total += Double(acc.sum())
        }
        while i < count {
            let d = p[i] - t[i]
            total += Double(d * d)
            gradient[i] = 2 * scale * d
            i += 1
        }
        return total
    }

    /// `Σ (p − t)²` over `count` values, accumulated in `Double` every 1024 values.
    @inlinable
    public static func sum(_ p: UnsafePointer<Float>, _ t: UnsafePointer<Float>, count: Int) -> Double {
        var total = 0.0
        var i = 0
        while i < count {
            let n = Swift.min(1024, count - i)
            total += Double(Distances.squaredDistance(p + i, t + i, count: n))
            i += n
        }
        return total
    }
}

// MARK: - bfloat16 (AMX) passes

extension DenseLayer {
    /// UInt16 values of the weight packed for ``forwardBF16(_:rows:packedWeight:bias:activation:output:scratch:)`` (`Wᵀ`).
    public var packedForwardWeightCount: Int { BF16Matmul.packedCount(outputs, k: inputs) }
    /// UInt16 values of the weight packed for the input gradient of ``backwardBF16(input:rows:packedWeight:outputGradient:weightGradient:biasGradient:inputGradient:scratchA:scratchB:)`` (`W`).
    public var packedBackwardWeightCount: Int { BF16Matmul.packedCount(inputs, k: outputs) }

    /// Packs `W` (`[outputs, inputs]`) for the forward and the backward product.
    public func packWeight(_ w: UnsafePointer<Float>, forward: UnsafeMutablePointer<UInt16>,
                           backward: UnsafeMutablePointer<UInt16>) {
        BF16Matmul.packB(transposed: true, k: inputs, n: outputs, b: w, ldb: inputs, into: forward)
        BF16Matmul.packB(transposed: false, k: outputs, n: inputs, b: w, ldb: inputs, into: backward)
    }

    /// UInt16 values each of the two scratch buffers needs for `rows` rows.
    public func bf16ScratchCount(rows: Int) -> Int {
        Swift.max(BF16Matmul.packedCount(rows, k: inputs), BF16Matmul.packedCount(rows, k: outputs),
                  BF16Matmul.packedCount(outputs, k: rows), BF16Matmul.packedCount(inputs, k: rows))
    }

    /// ``forward(_:rows:weight:bias:activation:output:)`` with the product in bfloat16 on AMX.
    public func forwardBF16(
        _ x: UnsafePointer<Float>, rows: Int, packedWeight: UnsafePointer<UInt16>, bias: UnsafePointer<Float>,
        activation: Activation, output y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<UInt16>
    ) {
        guard rows > 0 else { return }
        BF16Matmul.packA(transposed: false, m: rows, k: inputs, a: x, lda: inputs, into: scratch)
        BF16Matmul.multiply(m: rows, n: outputs, k: inputs, packedA: scratch, packedB: packedWeight, c: y, ldc: outputs)
        Self.addBias(bias, to: y, rows: rows, cols: outputs, relu: activation == .relu)
    }

    /// ``backward(input:rows:weight:outputGradient:weightGradient:biasGradient:inputGradient:accumulate:)``
    /// (overwriting) with the products in bfloat16 on AMX; `packedWeight` is the backward packing.
    public func backwardBF16(
        input x: UnsafePointer<Float>, rows: Int, packedWeight: UnsafePointer<UInt16>,
        outputGradient dY: UnsafePointer<Float>,
        weightGradient dW: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>,
        inputGradient dX: UnsafeMutablePointer<Float>?,
        scratchA: UnsafeMutablePointer<UInt16>, scratchB: UnsafeMutablePointer<UInt16>
    ) {
        guard rows > 0 else {
            dW.update(repeating: 0, count: weightCount)
            db.update(repeating: 0, count: outputs)
            return
        }
        // dW = dYᵀ·X: [outputs, rows]·[rows, inputs].
        BF16Matmul.packA(transposed: true, m: outputs, k: rows, a: dY, lda: outputs, into: scratchA)
        BF16Matmul.packB(transposed: false, k: rows, n: inputs, b: x, ldb: inputs, into: scratchB)
        BF16Matmul.multiply(m: outputs, n: inputs, k: rows, packedA: scratchA, packedB: scratchB, c: dW, ldc: inputs)
        Self.columnSums(dY, rows: rows, cols: outputs, into: db, accumulate: false)
        if let dX {
            // dX = dY·W: [rows, outputs]·[outputs, inputs].
            BF16Matmul.packA(transposed: false, m: rows, k: outputs, a: dY, lda: outputs, into: scratchA)
            BF16Matmul.multiply(m: rows, n: inputs, k: outputs, packedA: scratchA, packedB: packedWeight, c: dX, ldc: inputs)
        }
    }
}
