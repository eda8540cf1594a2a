/// A principal-component basis of a set of vectors: the mean and the eigenvectors of the
/// covariance, in order of decreasing variance.
public struct PrincipalComponents: Sendable {
    /// The mean of the data, `d` values.
    public let mean: [Float]
    /// `[d, d]` row-major: row `i` is the `i`-th principal direction (unit length).
    public let basis: Matrix
    /// The variance along each direction, decreasing, `d` values.
    public let variances: [Float]

    /// Fits the basis to the rows of `x` (`[n, d]`, `n ≥ 1`) with one `sgemm` for the covariance
    /// and LAPACK `ssyevd` for its eigenvectors.
    public init(fitting x: Matrix) throws {
        let n = x.rows, d = x.cols
        var mean = [Float](repeating: 0, count: d)
        var centered = x
        x.values.withUnsafeBufferPointer { v in
            var acc = [Double](repeating: 0, count: d)
            for r in 0..<n { for j in 0..<d { acc[j] += Double(v[r * d + j]) } }
            for j in 0..<d { mean[j] = Float(acc[j] / Double(max(n, 1))) }
        }
        centered.values.withUnsafeMutableBufferPointer { c in
            for r in 0..<n { for j in 0..<d { c[r * d + j] -= mean[j] } }
        }
        // Covariance = Xcᵀ·Xc / n, [d, d]; LAPACK sees it column-major, which is the same matrix.
        var cov = Matrix.product(centered, centered, transposeA: true)
        let scale = 1 / Float(max(n, 1))
        for i in cov.values.indices { cov.values[i] *= scale }
        let eigen = try SymmetricEigen(cov)
        self.mean = mean
        self.basis = eigen.vectors
        self.variances = eigen.values.map { max(0, $0) }
    }

    /// Projects `x` (`[n, d]`) onto the first `components` directions: `(x − mean)·Wᵀ`, `[n, components]`.
    public func project(_ x: Matrix, components: Int) -> Matrix {
        var centered = x
        let d = x.cols
        centered.values.withUnsafeMutableBufferPointer { c in
            for r in 0..<x.rows { for j in 0..<d { c[r * d + j] -= mean[j] } }
        }
        let w = basis.rows(0..<components)
        return Matrix.product(centered, w, transposeB: true)
    }
}
