/// ID rows in lexicographic order, as the trie builder needs them.
struct SortedRows {
    /// `[n]`: row (item) indices in lexicographic order of their codes; equal rows keep
    /// increasing index order.
    var order: [Int32]
    /// `[n, L]`: the codes of the rows in that order.
    var codes: [UInt16]
    /// `[n]`: the first level at which each sorted row differs from the previous one (`0` for
    /// the first row, `L` for a duplicate).
    var firstDiff: [UInt8]
    /// The first pair of items with the same ID (in sorted order), if any.
    var duplicate: (Int, Int)?
}

/// Lexicographic ordering of ID rows without comparisons.
enum TrieSort {
    /// Sorts the rows of a row-major `[rows, L]` code matrix whose codes are in `0..<K_l`.
    ///
    /// When the codes and a row index fit one 64-bit word (e.g. `4 × 8` bits + 24 bits for 10M
    /// items), each row becomes one key and an LSD radix sort (11-bit digits) orders the keys
    /// with sequential passes only; otherwise one stable counting sort per level, least
    /// significant first, through a permutation (random reads of the matrix).
    static func sort(ids: [Int32], rows n: Int, codebookSizes: [Int], allowPacked: Bool = true) -> SortedRows {
        let levels = codebookSizes.count
        let levelBits = codebookSizes.map { Int.bitWidth - ($0 - 1).leadingZeroBitCount }
        let keyBits = levelBits.reduce(0, +)
        let itemBits = max(1, Int.bitWidth - max(0, n - 1).leadingZeroBitCount)
        if allowPacked && keyBits + itemBits <= 64 {
            return sortPacked(ids: ids, rows: n, levels: levels, levelBits: levelBits, itemBits: itemBits)
        }
        return sortByLevels(ids: ids, rows: n, codebookSizes: codebookSizes)
    }

    /// One key per row: codes (level 0 most significant) above `itemBits` bits of row index.
    static func sortPacked(ids: [Int32], rows n: Int, levels: Int, levelBits: [Int], itemBits: Int) -> SortedRows {
        var shift = [Int](repeating: 0, count: levels)
        var s = itemBits
        for l in stride(from: levels - 1, through: 0, by: -1) { shift[l] = s; s += levelBits[l] }
        let keyBits = s - itemBits
        // The level owning each key bit (bit 0 = lowest code bit).
        var levelOfBit = [UInt8](repeating: 0, count: max(1, keyBits))
        for l in 0..<levels {
            for b in 0..<levelBits[l] { levelOfBit[shift[l] - itemBits + b] = UInt8(l) }
        }
        var keys = [UInt64](repeating: 0, count: n)
        ids.withUnsafeBufferPointer { src in
            keys.withUnsafeMutableBufferPointer { k in
                for i in 0..<n {
                    var key = UInt64(i)
                    for l in 0..<levels { key |= UInt64(UInt32(bitPattern: src[i * levels + l])) << UInt64(shift[l]) }
                    k[i] = key
                }
            }
        }
        RadixSort.sort(&keys, lowBit: itemBits, bitCount: keyBits)
        var order = [Int32](repeating: 0, count: n)
        var codes = [UInt16](repeating: 0, count: n * levels)
        var firstDiff = [UInt8](repeating: 0, count: n)
        var duplicate: (Int, Int)? = nil
        let itemMask = (UInt64(1) << UInt64(itemBits)) - 1
        keys.withUnsafeBufferPointer { k in
            order.withUnsafeMutableBufferPointer { ord in
                codes.withUnsafeMutableBufferPointer { c in
                    firstDiff.withUnsafeMutableBufferPointer { fd in
                        for i in 0..<n {
                            let key = k[i]
                            ord[i] = Int32(truncatingIfNeeded: key & itemMask)
                            for l in 0..<levels {
                                c[i * levels + l] = UInt16(truncatingIfNeeded: (key >> UInt64(shift[l])) & ((UInt64(1) << UInt64(levelBits[l])) &- 1))
                            }
                            if i == 0 { fd[0] = 0; continue }
                            let diff = (key ^ k[i - 1]) >> UInt64(itemBits)
                            if diff == 0 {
                                fd[i] = UInt8(levels)
                                if duplicate == nil { duplicate = (Int(ord[i - 1]), Int(ord[i])) }
                            } else {
                                fd[i] = levelOfBit[63 - diff.leadingZeroBitCount]
                            }
                        }
                    }
                }
            }
        }
        return SortedRows(order: order, codes: codes, firstDiff: firstDiff, duplicate: duplicate)
    }

    /// One stable counting sort per level (least significant first), then a gather of the rows.
    static func sortByLevels(ids: [Int32], rows n: Int, codebookSizes: [Int]) -> SortedRows {
        let levels = codebookSizes.count
        var perm = [Int32](repeating: 0, count: n)
        for i in 0..<n { perm[i] = Int32(i) }
        var next = [Int32](repeating: 0, count: n)
        var column = [UInt16](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: (codebookSizes.max() ?? 1) + 1)
        ids.withUnsafeBufferPointer { src in
            column.withUnsafeMutableBufferPointer { col in
                counts.withUnsafeMutableBufferPointer { cnt in
                    for l in stride(from: levels - 1, through: 0, by: -1) {
                        let k = codebookSizes[l]
                        if k == 1 { continue }
                        perm.withUnsafeBufferPointer { p in
                            next.withUnsafeMutableBufferPointer { out in
                                for i in 0..<n { col[i] = UInt16(truncatingIfNeeded: src[Int(p[i]) * levels + l]) }
                                for c in 0...k { cnt[c] = 0 }
                                for i in 0..<n { cnt[Int(col[i]) + 1] += 1 }
                                for c in 0..<k { cnt[c + 1] += cnt[c] }
                                for i in 0..<n {
                                    let c = Int(col[i])
                                    out[cnt[c]] = p[i]
                                    cnt[c] += 1
                                }
                            }
                        }
                        swap(&perm, &next)
                    }
                }
            }
        }
        var codes = [UInt16](repeating: 0, count: n * levels)
        var firstDiff = [UInt8](repeating: 0, count: n)
        var duplicate: (Int, Int)? = nil
        ids.withUnsafeBufferPointer { src in
            perm.withUnsafeBufferPointer { ord in
                codes.withUnsafeMutableBufferPointer { dst in
                    firstDiff.withUnsafeMutableBufferPointer { fd in
                        for i in 0..<n {
                            let row = Int(ord[i]) * levels
                            for l in 0..<levels { dst[i * levels + l] = UInt16(truncatingIfNeeded: src[row + l]) }
                            var d = 0
                            if i > 0 {
                                while d < levels && dst[i * levels + d] == dst[(i - 1) * levels + d] { d += 1 }
                                if d == levels && duplicate == nil { duplicate = (Int(ord[i - 1]), Int(ord[i])) }
                            }
                            fd[i] = UInt8(d)
                        }
                    }
                }
            }
        }
        return SortedRows(order: perm, codes: codes, firstDiff: firstDiff, duplicate: duplicate)
    }
}
