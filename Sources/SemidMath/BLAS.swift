import CBLAS

/// Thin, typed wrappers over the CBLAS routines semid uses. All matrices are row-major.
///
/// OpenBLAS's integer type is 32-bit, so every dimension is checked to fit in `Int32`.
public enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C` (single precision, row-major).
    ///
    /// - Parameters:
    ///   - transposeA: use `Aᵀ` (`A` stored as `[k, m]`) instead of `A` (`[m, k]`).
    ///   - transposeB: use `Bᵀ` (`B` stored as `[n, k]`) instead of `B` (`[k, n]`).
    ///   - m, n, k: `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`.
    ///   - lda, ldb, ldc: row strides in elements.
    @inlinable
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS leaves C untouched when k == 0 only for beta == 1; be explicit.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
            return
        }
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `y = alpha · op(A) · x + beta · y` for a row-major `A` of shape `[m, n]`.
    @inlinable
    public static func sgemv(
        transpose: Bool = false, m: Int, n: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
        beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// `y += alpha · x` over `count` values.
    @inlinable
    public static func saxpy(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        guard count > 0 else { return }
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
    }

    /// The dot product of two vectors of `count` values.
    @inlinable
    public static func sdot(count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        guard count > 0 else { return 0 }
        return cblas_sdot(Int32(count), x, 1, y, 1)
    }
}

extension Matrix {
    /// The product `op(a) · op(b)` as a new matrix, computed by `sgemm`.
    ///
    /// `op(a)` is `[m, k]` and `op(b)` is `[k, n]`; the result is `[m, n]`.
    public static func product(_ a: Matrix, _ b: Matrix,
                               transposeA: Bool = false, transposeB: Bool = false) -> Matrix {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let kb = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        precondition(k == kb, "Inner dimensions differ: \(k) vs \(kb)")
        var c = Matrix(rows: m, cols: n)
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                c.values.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                               a: pa.baseAddress!, lda: a.cols, b: pb.baseAddress!, ldb: b.cols,
                               c: pc.baseAddress!, ldc: n)
                }
            }
        }
        return c
    }
}
