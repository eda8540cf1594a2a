import SemidMath

/// A dense layer on row-major activations: `y = x·W + b`, `x` `[rows, inputs]`, `W` `[inputs, outputs]`.
///
/// Every product is one `sgemm` over all rows of the batch (all positions of all sequences stacked).
public enum Linear {
    /// `y = x·W + b` (`b` optional), overwriting `y` `[rows, outputs]`.
    public static func forward(
        _ x: UnsafePointer<Float>, rows: Int, inputs: Int, outputs: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>
    ) {
        guard rows > 0 else { return }
        if let bias {
            for r in 0..<rows { (y + r * outputs).update(from: bias, count: outputs) }
        }
        BLAS.sgemm(m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: weight, ldb: outputs,
                   beta: bias == nil ? 0 : 1, c: y, ldc: outputs)
    }

    /// Back-propagates `dy` `[rows, outputs]`: accumulates `dW += xᵀ·dy` and `db += Σ_rows dy`, and
    /// writes `dx = dy·Wᵀ` (added to `dx` when `accumulateInput`, else overwriting it) when `dx` is given.
    public static func backward(
        _ x: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>, rows: Int, inputs: Int, outputs: Int,
        weight: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
        biasGradient: UnsafeMutablePointer<Float>?, inputGradient dx: UnsafeMutablePointer<Float>?,
        accumulateInput: Bool = false
    ) {
        guard rows > 0 else { return }
        BLAS.sgemm(transposeA: true, m: inputs, n: outputs, k: rows, a: x, lda: inputs, b: dy, ldb: outputs,
                   beta: 1, c: weightGradient, ldc: outputs)
        if let db = biasGradient { ColumnSums.add(dy, rows: rows, cols: outputs, into: db) }
        if let dx {
            BLAS.sgemm(transposeB: true, m: rows, n: inputs, k: outputs, a: dy, lda: outputs, b: weight, ldb: outputs,
                       beta: accumulateInput ? 1 : 0, c: dx, ldc: inputs)
        }
    }
}

/// Column sums of a row-major matrix, added to an accumulator.
public enum ColumnSums {
    /// `out[j] += Σ_r a[r, j]` for `a` `[rows, cols]`.
    @inlinable
    public static func add(_ a: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = a + r * cols
            for j in 0..<cols { out[j] += row[j] }
        }
    }
}
