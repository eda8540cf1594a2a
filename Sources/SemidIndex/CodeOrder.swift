import SemidQuantization

/// The rows of a code matrix sorted by their codes (lexicographically, first level first), then by
/// row number: rows with equal codes, and rows with an equal prefix, are consecutive. How items are
/// grouped by ID (suffix ranks, collision figures, distinct prefixes) without a hash table of `n`
/// keys, which costs tens of bytes per item.
///
/// Each row's codes are packed with its row number into one `UInt64` when they fit (a catalog of
/// up to 2^(64 − Σ bits per level) rows, e.g. 2^38 at codes below 1024 × 256 × 256) and those keys
/// sorted; otherwise the row numbers are sorted by comparing codes.
///
/// Memory: `rows` (8 bytes per row) plus 8 bytes per row while sorting. Complexity: `O(n log n)`.
struct CodeOrder {
    /// Row numbers, sorted by codes then row.
    let rows: [Int]
    /// The codes sorted.
    let codes: CodeMatrix

    /// Sorts the rows of `codes` (`[n, L]`).
    init(_ codes: CodeMatrix) {
        self.codes = codes
        let n = codes.rows, levels = codes.levels
        func bits(_ value: Int) -> Int { value <= 0 ? 0 : Int.bitWidth - value.leadingZeroBitCount }
        var widths = [Int](repeating: 0, count: levels)
        var negative = false
        for i in 0..<n {
            for level in 0..<levels {
                let code = codes[i, level]
                if code < 0 { negative = true } else { widths[level] = max(widths[level], bits(Int(code))) }
            }
        }
        let rowBits = bits(n - 1)
        guard n > 0, !negative, widths.reduce(0, +) + rowBits <= 64 else {
            rows = (0..<n).sorted { a, b in
                for level in 0..<levels where codes[a, level] != codes[b, level] { return codes[a, level] < codes[b, level] }
                return a < b
            }
            return
        }
        var keys = [UInt64](repeating: 0, count: n)
        for i in 0..<n {
            var key: UInt64 = 0
            for level in 0..<levels { key = key << UInt64(widths[level]) | UInt64(codes[i, level]) }
            keys[i] = rowBits == 0 ? key : key << UInt64(rowBits) | UInt64(i)
        }
        keys.sort()
        let mask: UInt64 = rowBits == 0 ? 0 : UInt64.max >> UInt64(64 - rowBits)
        rows = keys.map { Int($0 & mask) }
    }

    /// Whether rows `a` and `b` have the same first `length` codes.
    func samePrefix(_ a: Int, _ b: Int, length: Int) -> Bool {
        for level in 0..<length where codes[a, level] != codes[b, level] { return false }
        return true
    }

    /// Calls `body` with every run of rows with equal codes: the positions `start..<end` in ``rows``
    /// (the rows in a run are in increasing order), in code order.
    func forEachGroup(_ body: (Range<Int>) throws -> Void) rethrows {
        guard !rows.isEmpty else { return }
        var start = 0
        for position in 1...rows.count
        where position == rows.count || !samePrefix(rows[position - 1], rows[position], length: codes.levels) {
            try body(start..<position)
            start = position
        }
    }

    /// The number of distinct prefixes of `length` codes.
    func distinctPrefixes(length: Int) -> Int {
        guard !rows.isEmpty else { return 0 }
        var count = 1
        for position in 1..<rows.count where !samePrefix(rows[position - 1], rows[position], length: length) { count += 1 }
        return count
    }
}
