extension CodeTrie {
    /// Builds the trie of a final ID matrix.
    ///
    /// - Parameters:
    ///   - ids: row-major `[n, L]` codes: row `i` is item `i`'s semantic ID. IDs must be unique.
    ///   - codebookSizes: `K_l` for each of the `L` levels (levels may differ, e.g. a suffix level),
    ///     each in `1...65536`.
    /// - Throws: ``DecodingError/invalidShape(_:)``, ``DecodingError/emptyIndex``,
    ///   ``DecodingError/codeOutOfRange(item:level:code:codebookSize:)``, or
    ///   ``DecodingError/duplicateID(firstItem:secondItem:codes:)`` naming the two items.
    ///
    /// Cost: `O(n·L + ΣK)` time — a radix sort of the rows (one 64-bit key per row when the codes
    /// and the row index fit, else one counting sort per level), then one pass that emits the
    /// nodes — and about `16 + 2L` transient bytes per item.
    public init(ids: [Int32], codebookSizes: [Int]) throws {
        try self.init(ids: ids, codebookSizes: codebookSizes, allowPackedSort: true)
    }

    /// ``init(ids:codebookSizes:)``, optionally forcing the per-level sort (for tests).
    init(ids: [Int32], codebookSizes: [Int], allowPackedSort: Bool) throws {
        let levels = codebookSizes.count
        guard levels >= 1 else { throw DecodingError.invalidShape("codebookSizes is empty: an ID needs at least one level") }
        guard levels <= 255 else { throw DecodingError.invalidShape("\(levels) levels; at most 255 are supported") }
        for (l, k) in codebookSizes.enumerated() where !(1...65536).contains(k) {
            throw DecodingError.invalidShape("the codebook size of level \(l) is \(k); it must be in 1...65536")
        }
        guard ids.count % levels == 0 else {
            throw DecodingError.invalidShape("the ID matrix has \(ids.count) values, not a multiple of \(levels) levels")
        }
        let n = ids.count / levels
        guard n >= 1 else { throw DecodingError.emptyIndex }
        guard n < Int(Int32.max) else { throw DecodingError.invalidShape("\(n) items; at most \(Int32.max - 1) are supported") }
        try ids.withUnsafeBufferPointer { p in
            for i in 0..<n {
                for l in 0..<levels {
                    let c = p[i * levels + l]
                    if c < 0 || Int(c) >= codebookSizes[l] {
                        throw DecodingError.codeOutOfRange(item: i, level: l, code: c, codebookSize: codebookSizes[l])
                    }
                }
            }
        }
        let rows = TrieSort.sort(ids: ids, rows: n, codebookSizes: codebookSizes, allowPacked: allowPackedSort)
        let order = rows.order, sorted = rows.codes, firstDiff = rows.firstDiff, duplicate = rows.duplicate
        var diffHistogram = [Int](repeating: 0, count: levels + 1)
        firstDiff.withUnsafeBufferPointer { fd in for d in fd { diffHistogram[Int(d)] += 1 } }
        if let (a, b) = duplicate {
            let codes = (0..<levels).map { ids[a * levels + $0] }
            throw DecodingError.duplicateID(firstItem: min(a, b), secondItem: max(a, b), codes: codes)
        }
        var nodeCounts = [Int](repeating: 0, count: levels + 1)
        nodeCounts[0] = 1
        var running = 0
        for d in 1...levels {
            running += diffHistogram[d - 1]
            nodeCounts[d] = running
        }

        // Pass 2: emit tokens and CSR offsets. A row whose first difference is at level fd starts
        // a new node at every depth fd+1...L; a new node's first child is created in the same row.
        var offsetBase = [Int](repeating: 0, count: levels)
        var tokenBase = [Int](repeating: 0, count: levels)
        var totalOffsets = 0, totalTokens = 0
        for l in 0..<levels {
            offsetBase[l] = totalOffsets; totalOffsets += nodeCounts[l] + 1
            tokenBase[l] = totalTokens; totalTokens += nodeCounts[l + 1]
        }
        var offsets = [Int32](repeating: 0, count: totalOffsets)
        var tokens = [UInt16](repeating: 0, count: totalTokens)
        sorted.withUnsafeBufferPointer { codes in
            firstDiff.withUnsafeBufferPointer { fd in
                offsets.withUnsafeMutableBufferPointer { off in
                    tokens.withUnsafeMutableBufferPointer { tok in
                        var created = [Int](repeating: 0, count: levels + 1)
                        created[0] = 1
                        off[offsetBase[0]] = 0
                        for i in 0..<n {
                            let start = Int(fd[i]) + 1
                            for d in start...levels {
                                let j = created[d]
                                created[d] = j + 1
                                tok[tokenBase[d - 1] + j] = codes[i * levels + d - 1]
                                if d < levels { off[offsetBase[d] + j] = Int32(created[d + 1]) }
                            }
                        }
                        for l in 0..<levels { off[offsetBase[l] + nodeCounts[l]] = Int32(nodeCounts[l + 1]) }
                    }
                }
            }
        }
        self.init(assembling: codebookSizes, nodeCounts: nodeCounts, offsets: offsets, tokens: tokens, leafItems: order)
    }

    /// Completes a trie from valid flat arrays: level bases, fan-outs, bitsets and `leafOfItem`.
    /// The arrays must satisfy every invariant ``validate()`` checks.
    init(assembling codebookSizes: [Int], nodeCounts: [Int], offsets: [Int32], tokens: [UInt16], leafItems: [Int32]) {
        let levels = codebookSizes.count
        var offsetBase = [Int](repeating: 0, count: levels)
        var tokenBase = [Int](repeating: 0, count: levels)
        var bitBase = [Int](repeating: -1, count: levels)
        var bitWords = [Int](repeating: 0, count: levels)
        var dense = [Bool](repeating: false, count: levels)
        var totalOffsets = 0, totalTokens = 0, totalBits = 0
        for l in 0..<levels {
            offsetBase[l] = totalOffsets; totalOffsets += nodeCounts[l] + 1
            tokenBase[l] = totalTokens; totalTokens += nodeCounts[l + 1]
            let words = (codebookSizes[l] + 63) / 64
            bitWords[l] = words
            // Dense when the bitsets need no more bytes than the level's UInt16 tokens.
            if words * 8 * nodeCounts[l] <= 2 * nodeCounts[l + 1] {
                dense[l] = true
                bitBase[l] = totalBits
                totalBits += words * nodeCounts[l]
            }
        }
        var bits = [UInt64](repeating: 0, count: totalBits)
        var maxFanout = [Int](repeating: 0, count: levels)
        offsets.withUnsafeBufferPointer { off in
            tokens.withUnsafeBufferPointer { tok in
                bits.withUnsafeMutableBufferPointer { bw in
                    for l in 0..<levels {
                        var widest = 0
                        let ob = offsetBase[l], tb = tokenBase[l]
                        for v in 0..<nodeCounts[l] {
                            let lo = Int(off[ob + v]), hi = Int(off[ob + v + 1])
                            widest = max(widest, hi - lo)
                            if dense[l] {
                                let w = bitBase[l] + v * bitWords[l]
                                for j in lo..<hi {
                                    let t = Int(tok[tb + j])
                                    bw[w + t >> 6] |= UInt64(1) << UInt64(t & 63)
                                }
                            }
                        }
                        maxFanout[l] = widest
                    }
                }
            }
        }
        let n = leafItems.count
        var leafOfItem = [Int32](repeating: 0, count: n)
        leafItems.withUnsafeBufferPointer { items in
            leafOfItem.withUnsafeMutableBufferPointer { inv in
                for p in 0..<n { inv[Int(items[p])] = Int32(p) }
            }
        }
        self.codebookSizes = codebookSizes
        self.itemCount = n
        self.nodeCounts = nodeCounts
        self.maxFanout = maxFanout
        self.denseLevels = dense
        self.offsets = offsets
        self.offsetBase = offsetBase
        self.tokens = tokens
        self.tokenBase = tokenBase
        self.bits = bits
        self.bitBase = bitBase
        self.bitWords = bitWords
        self.leafItems = leafItems
        self.leafOfItem = leafOfItem
    }
}
