/// The leading eigenpairs of a large symmetric matrix by randomized subspace iteration (Halko,
/// Martinsson & Tropp 2011), with results that are the same on every machine.
///
/// A seeded Gaussian block of `count + oversampling` vectors is multiplied by the matrix
/// `iterations + 1` times, re-orthonormalised after each product (modified Gram–Schmidt, twice, in
/// `Double`); the matrix projected on the final block is decomposed by ``SymmetricEigen`` (Jacobi)
/// and its eigenvectors are mapped back. The leading directions converge fastest, at the rate of
/// `(λ_{w+1}/λ_i)^(2·iterations+1)` for block width `w`.
///
/// The matrix enters only through `apply`, which must itself be deterministic (fixed-order
/// products, e.g. ``FixedOrder`` or a sparse product with a fixed summation order).
public enum SubspaceIteration {
    /// The top `count` eigenpairs of the symmetric `[n, n]` matrix `A`.
    ///
    /// - Parameters:
    ///   - size: `n`.
    ///   - apply: given a block of row vectors `Q` (`[w, n]`), returns `Q·A` (`[w, n]`, i.e.
    ///     `(A·Qᵀ)ᵀ`).
    /// - Returns: eigenvalues (decreasing, `min(count, n)`) and unit eigenvectors as the rows of a
    ///   `[min(count, n), n]` matrix.
    /// - Complexity: `iterations + 2` calls of `apply` on `w = min(n, count + oversampling)` rows,
    ///   `O(iterations·w²·n)` for the orthonormalisations, `O(w³)` per Jacobi sweep.
    public static func topEigenpairs(
        size n: Int, count: Int, oversampling: Int, iterations: Int, generator: inout SeededGenerator,
        apply: (Matrix) -> Matrix
    ) -> (values: [Float], vectors: Matrix) {
        let width = Swift.min(n, count + oversampling)
        let top = Swift.min(count, width)
        guard width > 0 else { return ([], Matrix(rows: 0, cols: n)) }
        var block = Matrix(rows: width, cols: n)
        for i in block.values.indices { block.values[i] = generator.nextGaussian() }
        block = orthonormalRows(block)
        for _ in 0..<iterations { block = orthonormalRows(apply(block)) }
        // T = Q·A·Qᵀ, [width, width], symmetrised.
        let projected = FixedOrder.productTransposed(apply(block), block)
        var t = [Double](repeating: 0, count: width * width)
        for i in 0..<width {
            for j in 0..<width { t[i * width + j] = 0.5 * (Double(projected[i, j]) + Double(projected[j, i])) }
        }
        let eigen = SymmetricEigen(symmetric: t, size: width)
        // Eigenvector e of T maps to eᵀ·Q in the full space.
        var vectors = Matrix(rows: top, cols: n)
        var row = [Double](repeating: 0, count: n)
        block.values.withUnsafeBufferPointer { q in
            for i in 0..<top {
                for x in 0..<n { row[x] = 0 }
                for j in 0..<width {
                    let w = eigen.exactVectors[i * width + j]
                    let qj = q.baseAddress! + j * n
                    for x in 0..<n { row[x] += w * Double(qj[x]) }
                }
                for x in 0..<n { vectors.values[i * n + x] = Float(row[x]) }
            }
        }
        return (Array(eigen.values.prefix(top)), vectors)
    }

    /// The rows of `a` (`[w, n]`, `w ≤ n`) made orthonormal by modified Gram–Schmidt, run twice,
    /// in `Double` and a fixed order. A row that is (numerically) in the span of the earlier ones
    /// becomes zero.
    ///
    /// Complexity: `2·w²·n` multiply-adds.
    public static func orthonormalRows(_ a: Matrix) -> Matrix {
        let w = a.rows, n = a.cols
        var q = [Double](repeating: 0, count: w * n)
        for i in 0..<(w * n) { q[i] = Double(a.values[i]) }
        q.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            for i in 0..<w {
                let v = base + i * n
                let original = dot(v, v, count: n).squareRoot()
                for _ in 0..<2 {
                    for j in 0..<i {
                        let u = base + j * n
                        let projection = dot(v, u, count: n)
                        for x in 0..<n { v[x] -= projection * u[x] }
                    }
                }
                let norm = dot(v, v, count: n).squareRoot()
                let scale = norm > 1e-10 * original && norm > 0 ? 1 / norm : 0
                for x in 0..<n { v[x] *= scale }
            }
        }
        return Matrix(rows: w, cols: n, values: q.map { Float($0) })
    }

    /// `Σ a[x]·b[x]` in `Double`, four lanes then `(s0 + s2) + (s1 + s3)`.
    static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count: Int) -> Double {
        var acc = SIMD4<Double>()
        var x = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while x + 4 <= count {
            acc += ra.loadUnaligned(fromByteOffset: x * 8, as: SIMD4<Double>.self)
                * rb.loadUnaligned(fromByteOffset: x * 8, as: SIMD4<Double>.self)
            x += 4
        }
        var tail = 0.0
        while x < count { tail += a[x] * b[x]; x += 1 }
        return ((acc[0] + acc[2]) + (acc[1] + acc[3])) + tail
    }
}
