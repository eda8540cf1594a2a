import CSemidKernels

/// Dense products whose every bit is the same on every x86-64 CPU, with any BLAS kernel and any
/// number of threads.
///
/// BLAS is fast but sums in an order of its own (register blocking, FMA, threads), so the last
/// bits of an `sgemm` differ between the Haswell, SkylakeX and Prescott kernels. Wherever a
/// result feeds a decision that must be reproducible everywhere — principal directions for the
/// k-means warm-up, projections, Sinkhorn costs, the exact re-check of close nearest-centroid
/// decisions — semid computes it here instead: each dot product is summed in 8 float32 lanes in
/// a fixed order (see `semid_fixed_order.h`), with vector code for AVX2 and for baseline SSE2 that
/// perform exactly the same IEEE-754 operations. It runs at roughly a third to a half of
/// OpenBLAS's `sgemm` speed, so it is used only where exactness matters.
public enum FixedOrder {
    /// Rows per parallel task in ``productTransposed(_:_:)``.
    static let rowsPerTask = 48

    /// The instruction set the fixed-order kernels use on this CPU: `"avx2"` or `"sse2"`. Either
    /// gives the same results.
    public static var path: String { semid_fixed_order_path() == 2 ? "avx2" : "sse2" }

    /// Runs `body` with the baseline SSE2 kernels forced (for tests that compare both paths).
    /// Not safe to call while other threads use the kernels.
    static func withBaselinePath<R>(_ body: () throws -> R) rethrows -> R {
        semid_fixed_order_force_baseline(1)
        defer { semid_fixed_order_force_baseline(0) }
        return try body()
    }

    /// `a · bᵀ` for `a` `[m, k]` and `b` `[n, k]`: `[m, n]`, each element a fixed-order float32 dot
    /// product. Rows are computed on all cores; the result does not depend on how many.
    ///
    /// Complexity: `m·n·k` multiply-adds.
    public static func productTransposed(_ a: Matrix, _ b: Matrix) -> Matrix {
        precondition(a.cols == b.cols, "productTransposed: inner dimensions differ (\(a.cols) vs \(b.cols))")
        var c = Matrix(rows: a.rows, cols: b.rows)
        guard a.rows > 0, b.rows > 0 else { return c }
        let m = a.rows, n = b.rows, k = a.cols
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                c.values.withUnsafeMutableBufferPointer { pc in
                    let out = SharedMutablePointer(pc.baseAddress!)
                    let aBase = pa.baseAddress!, bBase = pb.baseAddress!
                    let tasks = (m + rowsPerTask - 1) / rowsPerTask
                    Parallel.forEachChunk(count: tasks) { range in
                        for task in range {
                            let lo = task * rowsPerTask, rows = Swift.min(rowsPerTask, m - lo)
                            semid_fixed_gemm_nt(Int32(rows), Int32(n), Int32(k), aBase + lo * k, Int32(k),
                                                bBase, Int32(k), out.pointer + lo * n, Int32(n))
                        }
                    }
                }
            }
        }
        return c
    }

    /// `aᵀ · a` for `a` `[n, d]`: the `[d, d]` Gram matrix of the columns, each element a
    /// fixed-order dot product over the `n` rows (computed on one triangle and mirrored, so it is
    /// exactly symmetric).
    ///
    /// Complexity: `n·d²/2` multiply-adds, plus one transpose of `a`.
    public static func columnGram(_ a: Matrix) -> Matrix {
        let n = a.rows, d = a.cols
        let t = a.transposed()
        var g = Matrix(rows: d, cols: d)
        guard d > 0 else { return g }
        t.values.withUnsafeBufferPointer { pt in
            g.values.withUnsafeMutableBufferPointer { pg in
                let out = SharedMutablePointer(pg.baseAddress!)
                let base = pt.baseAddress!
                let tasks = (d + rowsPerTask - 1) / rowsPerTask
                Parallel.forEachChunk(count: tasks) { range in
                    for task in range {
                        // Rows [lo, hi) against columns [lo, d): the upper triangle and the diagonal block.
                        let lo = task * rowsPerTask, rows = Swift.min(rowsPerTask, d - lo)
                        semid_fixed_gemm_nt(Int32(rows), Int32(d - lo), Int32(n), base + lo * n, Int32(n),
                                            base + lo * n, Int32(n), out.pointer + lo * d + lo, Int32(d))
                    }
                }
            }
        }
        for i in 0..<d { for j in 0..<i { g.values[i * d + j] = g.values[j * d + i] } }
        return g
    }

    /// The fixed-order float32 dot product of `count` values (equal, bit for bit, to the
    /// corresponding element of ``productTransposed(_:_:)``).
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        semid_fixed_dot(a, b, Int32(count))
    }

    /// `Σ (a[t] − b[t])²` over `count` values in float64, in a fixed order: the reference value
    /// that decides close nearest-centroid choices (see ``Distances``).
    public static func exactSquaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
        semid_exact_squared_distance(a, b, Int32(count))
    }
}
