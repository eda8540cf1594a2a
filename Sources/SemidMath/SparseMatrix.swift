/// A sparse `[rows, cols]` matrix in compressed sparse row (CSR) form, `Float` values.
public struct SparseMatrix: Sendable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let cols: Int
    /// `rows + 1` offsets into ``columns``/``values``; row `i` is `rowStart[i] ..< rowStart[i+1]`.
    public let rowStart: [Int]
    /// Column of each stored entry, increasing within a row.
    public let columns: [Int32]
    /// Value of each stored entry.
    public let values: [Float]

    /// Builds the matrix from `(row, column, value)` triplets; duplicates are summed.
    public init(rows: Int, cols: Int, triplets: [(row: Int32, column: Int32, value: Float)]) {
        self.rows = rows
        self.cols = cols
        let sorted = triplets.sorted { $0.row != $1.row ? $0.row < $1.row : $0.column < $1.column }
        var start = [Int](repeating: 0, count: rows + 1)
        var cols: [Int32] = []
        var vals: [Float] = []
        cols.reserveCapacity(sorted.count)
        vals.reserveCapacity(sorted.count)
        var lastRow: Int32 = -1, lastColumn: Int32 = -1
        for t in sorted {
            if t.row == lastRow && t.column == lastColumn {
                vals[vals.count - 1] += t.value
                continue
            }
            cols.append(t.column)
            vals.append(t.value)
            start[Int(t.row) + 1] += 1
            lastRow = t.row
            lastColumn = t.column
        }
        for i in 0..<rows { start[i + 1] += start[i] }
        self.rowStart = start
        self.columns = cols
        self.values = vals
    }

    /// Wraps CSR arrays (`rowStart.count == rows + 1`, entries sorted by column within rows).
    public init(rows: Int, cols: Int, rowStart: [Int], columns: [Int32], values: [Float]) {
        self.rows = rows
        self.cols = cols
        self.rowStart = rowStart
        self.columns = columns
        self.values = values
    }

    /// Number of stored entries.
    public var nonZeroCount: Int { values.count }

    /// `self · dense` for a `[cols, k]` dense matrix: `[rows, k]`, rows computed in parallel.
    public func multiplied(by dense: Matrix) -> Matrix {
        precondition(dense.rows == cols)
        let k = dense.cols
        var out = Matrix(rows: rows, cols: k)
        rowStart.withUnsafeBufferPointer { starts in
            columns.withUnsafeBufferPointer { cols in
                values.withUnsafeBufferPointer { vals in
                    dense.values.withUnsafeBufferPointer { d in
                        out.values.withUnsafeMutableBufferPointer { o in
                            let outBase = SharedMutablePointer(o.baseAddress!)
                            Parallel.forEachChunk(count: rows, minimumChunk: 256) { range in
                                for i in range {
                                    let dst = outBase.pointer + i * k
                                    for e in starts[i]..<starts[i + 1] {
                                        let v = vals[e], src = d.baseAddress! + Int(cols[e]) * k
                                        for t in 0..<k { dst[t] += v * src[t] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The top `count` eigenpairs (largest eigenvalues) of this symmetric matrix, by
    /// ``SubspaceIteration`` (the same on every machine: the sparse product sums each entry in
    /// row order).
    ///
    /// - Returns: eigenvalues (decreasing, `count`) and eigenvectors as the rows of a `[count, n]` matrix.
    public func topEigenpairs(count: Int, oversampling: Int = 10, powerIterations: Int = 4,
                              generator: inout SeededGenerator) -> (values: [Float], vectors: Matrix) {
        precondition(rows == cols, "topEigenpairs needs a square (symmetric) matrix")
        let n = rows
        return SubspaceIteration.topEigenpairs(size: n, count: count, oversampling: oversampling,
                                               iterations: powerIterations, generator: &generator) { block in
            // block·A = (A·blockᵀ)ᵀ for symmetric A.
            multiplied(by: block.transposed()).transposed()
        }
    }
}
