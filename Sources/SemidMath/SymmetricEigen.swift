import CBLAS

/// Errors from dense linear algebra.
public enum LinearAlgebraError: Error, CustomStringConvertible {
    /// LAPACK's symmetric eigensolver reported failure `info`.
    case eigensolverFailed(info: Int32)

    /// One line naming the routine and LAPACK's `info`.
    public var description: String {
        switch self {
        case .eigensolverFailed(let info):
            return "the symmetric eigensolver (LAPACK ssyevd) did not converge (info \(info))"
        }
    }
}

/// Eigenvalues and eigenvectors of a real symmetric matrix (LAPACK `ssyevd`, divide and conquer).
public struct SymmetricEigen: Sendable {
    /// Eigenvalues in decreasing order, `n` values.
    public let values: [Float]
    /// `[n, n]` row-major: row `i` is the unit eigenvector of `values[i]`.
    public let vectors: Matrix

    /// Decomposes the symmetric `[n, n]` matrix `a` (only its upper triangle is read).
    public init(_ a: Matrix) throws {
        precondition(a.rows == a.cols, "SymmetricEigen needs a square matrix")
        let d = a.rows
        var work = a
        var w = [Float](repeating: 0, count: d)
        var info: Int32 = 0
        var dim = Int32(d)
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workQuery: Float = 0
        var iworkQuery: Int32 = 0
        let jobz: [CChar] = [CChar(UInt8(ascii: "V")), 0]
        let uplo: [CChar] = [CChar(UInt8(ascii: "U")), 0]
        work.values.withUnsafeMutableBufferPointer { p in
            ssyevd_(jobz, uplo, &dim, p.baseAddress!, &dim, &w, &workQuery, &lwork, &iworkQuery, &liwork, &info)
        }
        if info != 0 { throw LinearAlgebraError.eigensolverFailed(info: info) }
        lwork = Int32(workQuery.rounded(.up)) + 1
        liwork = max(1, iworkQuery)
        var scratch = [Float](repeating: 0, count: Int(lwork))
        var iscratch = [Int32](repeating: 0, count: Int(liwork))
        work.values.withUnsafeMutableBufferPointer { p in
            ssyevd_(jobz, uplo, &dim, p.baseAddress!, &dim, &w, &scratch, &lwork, &iscratch, &liwork, &info)
        }
        if info != 0 { throw LinearAlgebraError.eigensolverFailed(info: info) }
        // LAPACK's column j (ascending) is stored contiguously, i.e. our row j; reverse to descending.
        var vectors = Matrix(rows: d, cols: d)
        for j in 0..<d {
            let src = d - 1 - j
            for i in 0..<d { vectors.values[j * d + i] = work.values[src * d + i] }
        }
        self.values = w.reversed()
        self.vectors = vectors
    }
}
