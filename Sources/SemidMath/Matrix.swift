/// A dense row-major matrix of `Float`: `rows × cols` values in one contiguous buffer.
///
/// Element `(i, j)` lives at `values[i * cols + j]`. Every dense computation in semid works on
/// this layout (`[n, d]` row-major), so a matrix can be handed to BLAS without copying.
public struct Matrix: Sendable, Equatable {
    /// Number of rows (`n` in `[n, d]`).
    public let rows: Int
    /// Number of columns (`d` in `[n, d]`).
    public let cols: Int
    /// The `rows * cols` values, row after row.
    public var values: [Float]

    /// A matrix filled with `value`.
    public init(rows: Int, cols: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && cols >= 0, "Matrix shape must be non-negative")
        self.rows = rows
        self.cols = cols
        self.values = [Float](repeating: value, count: rows * cols)
    }

    /// A matrix over existing row-major values; `values.count` must equal `rows * cols`.
    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(rows >= 0 && cols >= 0 && values.count == rows * cols,
                     "Matrix values (\(values.count)) do not match shape [\(rows), \(cols)]")
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    /// The element at row `i`, column `j`.
    @inlinable
    public subscript(i: Int, j: Int) -> Float {
        get { values[i * cols + j] }
        set { values[i * cols + j] = newValue }
    }

    /// A copy of row `i` (`cols` values).
    public func row(_ i: Int) -> [Float] {
        Array(values[(i * cols)..<((i + 1) * cols)])
    }

    /// Overwrites row `i` with `newRow` (`cols` values).
    public mutating func setRow(_ i: Int, _ newRow: [Float]) {
        precondition(newRow.count == cols)
        values.replaceSubrange((i * cols)..<((i + 1) * cols), with: newRow)
    }

    /// A new matrix holding the rows at `indices`, in that order.
    public func gatheringRows<C: Collection>(_ indices: C) -> Matrix where C.Element: BinaryInteger {
        var out = Matrix(rows: indices.count, cols: cols)
        values.withUnsafeBufferPointer { src in
            out.values.withUnsafeMutableBufferPointer { dst in
                for (r, index) in indices.enumerated() {
                    let from = Int(index) * cols
                    (dst.baseAddress! + r * cols).update(from: src.baseAddress! + from, count: cols)
                }
            }
        }
        return out
    }

    /// The rows `range` as a new matrix.
    public func rows(_ range: Range<Int>) -> Matrix {
        Matrix(rows: range.count, cols: cols, values: Array(values[(range.lowerBound * cols)..<(range.upperBound * cols)]))
    }

    /// Appends the rows of `other`, which must have the same number of columns.
    public mutating func appendRows(of other: Matrix) {
        precondition(other.cols == cols || rows == 0)
        if rows == 0 { self = other; return }
        self = Matrix(rows: rows + other.rows, cols: cols, values: values + other.values)
    }

    /// The first `count` columns of every row, as a new `[rows, count]` matrix.
    public func leadingColumns(_ count: Int) -> Matrix {
        precondition(count <= cols)
        if count == cols { return self }
        var out = Matrix(rows: rows, cols: count)
        values.withUnsafeBufferPointer { src in
            out.values.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows {
                    (dst.baseAddress! + r * count).update(from: src.baseAddress! + r * cols, count: count)
                }
            }
        }
        return out
    }

    /// The transpose, `[cols, rows]`.
    public func transposed() -> Matrix {
        var out = Matrix(rows: cols, cols: rows)
        values.withUnsafeBufferPointer { src in
            out.values.withUnsafeMutableBufferPointer { dst in
                for i in 0..<rows { for j in 0..<cols { dst[j * rows + i] = src[i * cols + j] } }
            }
        }
        return out
    }

    /// The index of the first value that is NaN or infinite, as `(row, column)`, or `nil`.
    public func firstNonFinite() -> (row: Int, column: Int)? {
        values.withUnsafeBufferPointer { buffer in
            // x − x is 0 for finite x and NaN otherwise; a vectorised sum finds any such value.
            var acc = SIMD16<Float>()
            var i = 0
            guard let base = buffer.baseAddress else { return nil }
            let raw = UnsafeRawPointer(base)
            while i + 16 <= buffer.count {
                let x = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                acc += x - x
                i += 16
            }
            var tail: Float = 0
            while i < buffer.count { tail += buffer[i] - buffer[i]; i += 1 }
            if acc.sum() + tail == 0 { return nil }
            for (offset, value) in buffer.enumerated() where !value.isFinite {
                return (offset / Swift.max(cols, 1), offset % Swift.max(cols, 1))
            }
            return nil
        }
    }

    /// The total variance `mean ‖x − μ‖²` of the rows (`μ` = their mean), accumulated in `Double`;
    /// 0 for an empty matrix. The denominator of every "relative MSE". The same value as a
    /// ``VarianceAccumulator`` fed these rows in any number of pieces.
    public var totalVariance: Double {
        var accumulator = VarianceAccumulator(columns: cols)
        accumulator.add(self)
        return accumulator.totalVariance
    }
}
