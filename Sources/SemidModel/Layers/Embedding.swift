import SemidMath
/// Embedding lookup (gather of rows) and its backward pass (scatter-add of row gradients).
public enum Embedding {
    /// `y[r] = scale · table[indices[r]]` (+ the previous `y[r]` when `accumulate`), rows of `dim` values.
    public static func gather(
        table: UnsafePointer<Float>, dim: Int, indices: UnsafePointer<Int32>, count: Int,
        scale: Float = 1, into y: UnsafeMutablePointer<Float>, accumulate: Bool = false
    ) {
        for r in 0..<count {
            let src = table + Int(indices[r]) * dim, dst = y + r * dim
            if accumulate {
                for j in 0..<dim { dst[j] += scale * src[j] }
            } else if scale == 1 {
                dst.update(from: src, count: dim)
            } else {
                for j in 0..<dim { dst[j] = scale * src[j] }
            }
        }
    }

    /// `tableGradient[indices[r]] += scale · dy[r]` for every row `r` (repeated indices add up).
    public static func scatterAdd(
        gradient dy: UnsafePointer<Float>, dim: Int, indices: UnsafePointer<Int32>, count: Int,
        scale: Float = 1, into tableGradient: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<count {
            let src = dy + r * dim, dst = tableGradient + Int(indices[r]) * dim
            for j in 0..<dim { dst[j] += scale * src[j] }
        }
    }
}
