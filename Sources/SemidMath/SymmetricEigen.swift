/// Eigenvalues and eigenvectors of a small real symmetric matrix, the same bits on every machine.
///
/// Cyclic Jacobi rotations in `Double`, in a fixed order (row by row over the upper triangle),
/// until the off-diagonal mass is below `10⁻³⁰` of the total (at most 64 sweeps; Jacobi converges
/// quadratically, typically in 6–10). LAPACK would be faster for large matrices but its result
/// depends on the BLAS kernel; semid only decomposes small matrices (the projected matrices of
/// subspace iterations, at most a few hundred rows).
///
/// Complexity: about `2n³` multiply-adds per sweep.
public struct SymmetricEigen: Sendable {
    /// Eigenvalues in decreasing order (ties keep the lower index first), `n` values.
    public let values: [Float]
    /// `[n, n]` row-major: row `i` is the unit eigenvector of `values[i]`, its largest-magnitude
    /// component positive.
    public let vectors: Matrix

    /// The same decomposition in `Double` (values decreasing; `vectors` row-major `[n, n]`).
    public let exactValues: [Double]
    /// Row `i` is the eigenvector of `exactValues[i]`, `n·n` values.
    public let exactVectors: [Double]

    /// Decomposes the symmetric `[n, n]` matrix `a` (the average of `a` and `aᵀ` is used).
    public init(_ a: Matrix) {
        precondition(a.rows == a.cols, "SymmetricEigen needs a square matrix")
        let n = a.rows
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { m[i * n + j] = 0.5 * (Double(a[i, j]) + Double(a[j, i])) } }
        self.init(symmetric: m, size: n)
    }

    /// Decomposes a symmetric `[n, n]` matrix given in `Double` (row-major, assumed symmetric).
    public init(symmetric input: [Double], size n: Int) {
        precondition(input.count == n * n, "SymmetricEigen: \(input.count) values for a [\(n), \(n)] matrix")
        var a = input
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        var total = 0.0
        for x in a { total += x * x }
        a.withUnsafeMutableBufferPointer { aBuf in
            v.withUnsafeMutableBufferPointer { vBuf in
                guard let a = aBuf.baseAddress, let v = vBuf.baseAddress else { return }
                for _ in 0..<64 {
                    var off = 0.0
                    for p in 0..<n { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
                    if off <= 1e-30 * total || off == 0 { break }
                    for p in 0..<n {
                        for q in (p + 1)..<n {
                            let apq = a[p * n + q]
                            if apq == 0 { continue }
                            let app = a[p * n + p], aqq = a[q * n + q]
                            let theta = (aqq - app) / (2 * apq)
                            // t = tan of the rotation angle, the smaller root of t² + 2θt − 1 = 0.
                            let t: Double
                            if abs(theta) > 1e150 {
                                t = 0.5 / theta
                            } else {
                                let root = (theta * theta + 1).squareRoot()
                                t = theta >= 0 ? 1 / (theta + root) : -1 / (-theta + root)
                            }
                            let c = 1 / (t * t + 1).squareRoot(), s = t * c
                            // Columns p and q, then rows p and q (A stays symmetric), then V's columns.
                            for k in 0..<n {
                                let akp = a[k * n + p], akq = a[k * n + q]
                                a[k * n + p] = c * akp - s * akq
                                a[k * n + q] = s * akp + c * akq
                            }
                            let rowP = a + p * n, rowQ = a + q * n
                            for k in 0..<n {
                                let apk = rowP[k], aqk = rowQ[k]
                                rowP[k] = c * apk - s * aqk
                                rowQ[k] = s * apk + c * aqk
                            }
                            a[p * n + q] = 0
                            a[q * n + p] = 0
                            let vp = v + p * n, vq = v + q * n   // v holds Vᵀ: row j = eigenvector j
                            for k in 0..<n {
                                let vkp = vp[k], vkq = vq[k]
                                vp[k] = c * vkp - s * vkq
                                vq[k] = s * vkp + c * vkq
                            }
                        }
                    }
                }
            }
        }
        // Row j of v is the eigenvector of a[j][j]; order by decreasing eigenvalue.
        let order = (0..<n).sorted { a[$0 * n + $0] > a[$1 * n + $1] || (a[$0 * n + $0] == a[$1 * n + $1] && $0 < $1) }
        var values = [Double](repeating: 0, count: n)
        var vectors = [Double](repeating: 0, count: n * n)
        for (row, j) in order.enumerated() {
            values[row] = a[j * n + j]
            var largest = 0
            for k in 0..<n where abs(v[j * n + k]) > abs(v[j * n + largest]) { largest = k }
            let sign: Double = v[j * n + largest] < 0 ? -1 : 1
            for k in 0..<n { vectors[row * n + k] = sign * v[j * n + k] }
        }
        self.exactValues = values
        self.exactVectors = vectors
        self.values = values.map { Float($0) }
        self.vectors = Matrix(rows: n, cols: n, values: vectors.map { Float($0) })
    }
}
