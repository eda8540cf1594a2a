import CBLAS

/// Errors from dense linear algebra.
public enum LinearAlgebraError: Error, CustomStringConvertible {
    /// LAPACK's symmetric eigensolver reported failure `info`.
    case eigensolverFailed(info: Int32)

    public var description: String {
        switch self {
        case .eigensolverFailed(let info):
            return "the symmetric eigensolver (LAPACK ssyevd) did not converge (info \(info))"
        }
    }
}

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
        var w = [Float](repeating: 0, count: d)
        var info: Int32 = 0
        var dim = Int32(d)
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workQuery: Float = 0
        var iworkQuery: Int32 = 0
        let jobz: [CChar] = [CChar(UInt8(ascii: "V")), 0]
        let uplo: [CChar] = [CChar(UInt8(ascii: "U")), 0]
        cov.values.withUnsafeMutableBufferPointer { a in
            ssyevd_(jobz, uplo, &dim, a.baseAddress!, &dim, &w, &workQuery, &lwork, &iworkQuery, &liwork, &info)
        }
        if info != 0 { throw LinearAlgebraError.eigensolverFailed(info: info) }
        lwork = Int32(workQuery.rounded(.up)) + 1
        liwork = max(1, iworkQuery)
        var work = [Float](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        cov.values.withUnsafeMutableBufferPointer { a in
            ssyevd_(jobz, uplo, &dim, a.baseAddress!, &dim, &w, &work, &lwork, &iwork, &liwork, &info)
        }
        if info != 0 { throw LinearAlgebraError.eigensolverFailed(info: info) }
        // Column-major eigenvectors, ascending: column j is stored contiguously at j*d, i.e. as
        // row j of our row-major buffer. Reverse to descending order.
        var basis = Matrix(rows: d, cols: d)
        for j in 0..<d {
            let src = d - 1 - j
            for i in 0..<d { basis.values[j * d + i] = cov.values[src * d + i] }
        }
        self.mean = mean
        self.basis = basis
        self.variances = w.reversed().map { max(0, $0) }
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
