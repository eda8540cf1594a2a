/// A matrix of discrete codes: one row per item, one column per level (`[rows, levels]` row-major).
///
/// Raw quantizer output and final (collision-free) semantic IDs are both `CodeMatrix` values.
public struct CodeMatrix: Sendable, Equatable, Hashable {
    /// Number of rows (items).
    public let rows: Int
    /// Number of levels (columns), i.e. the ID length.
    public let levels: Int
    /// `rows * levels` codes, row after row.
    public var values: [Int32]

    /// A matrix of zeros.
    public init(rows: Int, levels: Int) {
        self.rows = rows
        self.levels = levels
        self.values = [Int32](repeating: 0, count: rows * levels)
    }

    /// Wraps existing row-major values; `values.count` must be `rows * levels`.
    public init(rows: Int, levels: Int, values: [Int32]) {
        precondition(values.count == rows * levels, "code count \(values.count) does not match [\(rows), \(levels)]")
        self.rows = rows
        self.levels = levels
        self.values = values
    }

    /// The code of row `i` at `level`.
    @inlinable
    public subscript(i: Int, level: Int) -> Int32 {
        get { values[i * levels + level] }
        set { values[i * levels + level] = newValue }
    }

    /// The codes of row `i`, `levels` values.
    public func row(_ i: Int) -> ArraySlice<Int32> {
        values[(i * levels)..<((i + 1) * levels)]
    }

    /// Column `level` as an array of `rows` codes.
    public func column(_ level: Int) -> [Int32] {
        (0..<rows).map { values[$0 * levels + level] }
    }

    /// A matrix with one more level whose codes are `column` (`rows` values).
    public func appendingLevel(_ column: [Int32]) -> CodeMatrix {
        precondition(column.count == rows)
        var out = [Int32]()
        out.reserveCapacity(rows * (levels + 1))
        for i in 0..<rows {
            out.append(contentsOf: row(i))
            out.append(column[i])
        }
        return CodeMatrix(rows: rows, levels: levels + 1, values: out)
    }

    /// The rows of `other` appended below these (same number of levels).
    public func appendingRows(_ other: CodeMatrix) -> CodeMatrix {
        precondition(other.levels == levels || rows == 0)
        if rows == 0 { return other }
        return CodeMatrix(rows: rows + other.rows, levels: levels, values: values + other.values)
    }

    /// The first `count` levels of every row.
    public func prefix(levels count: Int) -> CodeMatrix {
        if count == levels { return self }
        var out = [Int32]()
        out.reserveCapacity(rows * count)
        for i in 0..<rows { out.append(contentsOf: values[(i * levels)..<(i * levels + count)]) }
        return CodeMatrix(rows: rows, levels: count, values: out)
    }

    /// The rows at `indices`, in that order.
    public func gatheringRows(_ indices: [Int]) -> CodeMatrix {
        var out = [Int32]()
        out.reserveCapacity(indices.count * levels)
        for i in indices { out.append(contentsOf: row(i)) }
        return CodeMatrix(rows: indices.count, levels: levels, values: out)
    }

    /// Checks that the matrix has at least `codebookSizes.count` columns and that every code at
    /// level `l < codebookSizes.count` lies in `0..<codebookSizes[l]`: what a quantizer's `decode`
    /// needs before it indexes its codebooks. Throws ``QuantizationError`` naming the first bad row
    /// and level. O(rows · L).
    public func validate(codebookSizes: [Int]) throws {
        let expected = codebookSizes.count
        guard levels >= expected else {
            throw QuantizationError.invalidParameter(name: "codes", value: "\(levels) levels", expected: "at least \(expected)")
        }
        for i in 0..<rows {
            for level in 0..<expected {
                let c = Int(self[i, level])
                if c < 0 || c >= codebookSizes[level] {
                    throw QuantizationError.codeOutOfRange(row: i, level: level, code: c, codebookSize: codebookSizes[level])
                }
            }
        }
    }
}
