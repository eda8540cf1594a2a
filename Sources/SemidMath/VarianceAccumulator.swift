/// Running sums for the total variance `mean ‖x − μ‖²` of rows seen a piece at a time (a file read
/// by chunks); ``Matrix/totalVariance`` is one accumulator fed the whole matrix, so feeding the same
/// rows in order, in any pieces, gives the same bits.
///
/// Memory: `d` doubles. Complexity: `O(d)` per row.
public struct VarianceAccumulator: Sendable {
    /// Per column, the sum of the values seen.
    private var sums: [Double]
    /// The sum of the rows' squared norms.
    private var sumSquares = 0.0
    /// Rows seen.
    public private(set) var count = 0

    /// An accumulator for rows of `columns` values.
    public init(columns: Int) {
        sums = [Double](repeating: 0, count: Swift.max(columns, 0))
    }

    /// Adds the rows of `x` (`[n, d]`, `d` = the accumulator's columns), in order.
    public mutating func add(_ x: Matrix) {
        let d = sums.count
        guard x.rows > 0, d > 0, x.cols == d else { return }
        x.values.withUnsafeBufferPointer { v in
            guard let base = v.baseAddress else { return }
            sums.withUnsafeMutableBufferPointer { mean in
                for i in 0..<x.rows {
                    let row = base + i * d
                    for t in 0..<d { mean[t] += Double(row[t]) }
                    sumSquares += Double(Distances.squaredNorm(row, count: d))
                }
            }
        }
        count += x.rows
    }

    /// `mean ‖x − μ‖²` over the rows added, 0 before any.
    public var totalVariance: Double {
        guard count > 0, !sums.isEmpty else { return 0 }
        let n = Double(count)
        return Swift.max(0, sumSquares / n - sums.reduce(0) { $0 + ($1 / n) * ($1 / n) })
    }
}
