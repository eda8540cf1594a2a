import SemidMath

/// Batched constraint queries for decoders that run outside semid (an LLM's `generate` loop):
/// the allowed next codes of many prefixes at once, as CSR arrays or as a mask written into the
/// decoder's score matrix. Every query walks the trie from the root, `O(t)` child lookups per
/// prefix of `t` codes (bitset rank or binary search, never a scan over items), plus `O(children)`
/// to list the answer.
extension CodeTrie {
    /// What a generated prefix allows next.
    enum NextStep {
        /// The prefix is node `node` at depth `depth < L`: its children's codes are allowed.
        case codes(node: Int, depth: Int)
        /// The prefix is a complete ID (`L` or more tokens).
        case complete
        /// The prefix is no item's prefix (a code outside its position's block, or a missing child).
        case dead
    }

    /// The node at depth `length` of the prefix `codes[0 ..< length]`, or `nil` when no item starts
    /// with it.
    @inline(__always)
    func node(ofPrefix codes: UnsafePointer<Int32>, length: Int) -> Int? {
        var node = 0
        for depth in 0..<length {
            guard let next = child(ofNode: node, atDepth: depth, token: Int(codes[depth])) else { return nil }
            node = next
        }
        return node
    }

    /// Where the generated tokens `tokens[0 ..< length]` stand, under `layout` (already validated).
    @inline(__always)
    func nextStep(afterTokens tokens: UnsafePointer<Int64>, length: Int, layout: TokenLayout) -> NextStep {
        var node = 0
        for depth in 0..<min(length, levels) {
            // Wrapping: any token (even Int64.min) lands outside 0 ..< K unless it is in the block.
            let code = tokens[depth] &- Int64(layout.positionBases[depth])
            guard code >= 0, code < Int64(codebookSizes[depth]),
                  let next = child(ofNode: node, atDepth: depth, token: Int(code)) else { return .dead }
            node = next
        }
        return length >= levels ? .complete : .codes(node: node, depth: length)
    }

    /// The item of each ID in `ids` (`[rows, L]` row-major, `rows = items.count`), or −1 where the
    /// codes are no item's ID (including codes outside their position's range).
    ///
    /// - Throws: ``DecodingError/invalidShape(_:)`` when `ids` does not hold `rows × L` codes.
    ///
    /// Cost: `O(rows × L)` child lookups.
    public func items(forIDs ids: UnsafeBufferPointer<Int32>, into items: UnsafeMutableBufferPointer<Int64>) throws {
        let rows = items.count
        guard ids.count == rows * levels else {
            throw DecodingError.invalidShape("\(ids.count) codes for \(rows) IDs of \(levels) codes")
        }
        guard rows > 0, let base = ids.baseAddress else { return }
        for r in 0..<rows {
            if let leaf = node(ofPrefix: base + r * levels, length: levels), let item = item(atLeaf: leaf) {
                items[r] = Int64(item)
            } else {
                items[r] = -1
            }
        }
    }

    /// The allowed next codes of `rows = indptr.count − 1` prefixes of `length` codes each, in CSR
    /// form: the codes allowed after prefix `r` are `codes[indptr[r] ..< indptr[r+1]]`, ascending.
    ///
    /// - Parameters:
    ///   - prefixes: `[rows, length]` row-major codes. A prefix that is no item's prefix (including
    ///     one with a code outside its position's range) allows nothing; so does a complete ID
    ///     (`length == L`).
    ///   - length: codes per prefix, `0 ... L`.
    ///   - indptr: `rows + 1` offsets, always filled.
    ///   - codes: room for the answer; at most `rows × K_length` codes are ever needed.
    /// - Returns: the number of allowed codes in all. When it exceeds `codes.count`, only `indptr` was
    ///   written: call again with a larger `codes`.
    /// - Throws: ``DecodingError/invalidShape(_:)`` when `length > L` or `prefixes` does not hold
    ///   `rows × length` codes.
    ///
    /// Cost: `O(rows × length)` child lookups plus `O(answer)`; no allocation besides `rows` node
    /// numbers.
    public func allowedNextCodes(prefixes: UnsafeBufferPointer<Int32>, length: Int,
                                 indptr: UnsafeMutableBufferPointer<Int64>,
                                 codes: UnsafeMutableBufferPointer<Int32>) throws -> Int {
        guard indptr.count >= 1 else { throw DecodingError.invalidShape("indptr needs rows + 1 entries; it has none") }
        let rows = indptr.count - 1
        guard length >= 0, length <= levels else {
            throw DecodingError.invalidShape("prefixes of \(length) codes are longer than the IDs, which have \(levels)")
        }
        guard prefixes.count == rows * length else {
            throw DecodingError.invalidShape("\(prefixes.count) prefix codes for \(rows) prefixes of \(length) codes")
        }
        var nodes = [Int](repeating: -1, count: rows)
        var total = 0
        indptr[0] = 0
        if length < levels {
            // Read only when rows × length > 0, where the buffer has an address.
            let base = prefixes.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Int32>.alignment)!
            for r in 0..<rows {
                if let node = node(ofPrefix: base + r * length, length: length) {
                    nodes[r] = node
                    total += children(ofNode: node, atDepth: length).count
                }
                indptr[r + 1] = Int64(total)
            }
        } else {
            for r in 0..<rows { indptr[r + 1] = 0 }
        }
        guard total <= codes.count, total > 0, let out = codes.baseAddress else { return total }
        var next = 0
        for r in 0..<rows where nodes[r] >= 0 {
            for child in children(ofNode: nodes[r], atDepth: length) {
                out[next] = Int32(token(ofNode: child, atDepth: length + 1) ?? 0)
                next += 1
            }
        }
        return total
    }

    /// The allowed next **tokens** of `rows = indptr.count − 1` generated prefixes, in CSR form
    /// (``allowedNextCodes(prefixes:length:indptr:codes:)`` in the vocabulary of `layout`).
    ///
    /// Row `r`'s generated tokens are `generated[r × rowStride ..< r × rowStride + length]`. Before
    /// the ID is complete the children's tokens are allowed (ascending); once it is complete
    /// (`length ≥ L`), and for a prefix that is no item's prefix, only `layout.endToken` is, or
    /// nothing when there is none.
    ///
    /// - Returns: the number of allowed tokens in all; when it exceeds `tokens.count` only `indptr`
    ///   was written.
    /// - Throws: ``DecodingError/invalidShape(_:)`` for a layout that does not fit the trie, a
    ///   negative length, or `rowStride < length`.
    public func allowedNextTokens(generated: UnsafePointer<Int64>?, rowStride: Int, length: Int, layout: TokenLayout,
                                  indptr: UnsafeMutableBufferPointer<Int64>,
                                  tokens: UnsafeMutableBufferPointer<Int64>) throws -> Int {
        guard indptr.count >= 1 else { throw DecodingError.invalidShape("indptr needs rows + 1 entries; it has none") }
        let rows = indptr.count - 1
        try layout.validate(codeSizes: codebookSizes, vocabularySize: nil)
        let generated = try Self.checkGenerated(generated, rows: rows, rowStride: rowStride, length: length)
        var steps = [NextStep](repeating: .dead, count: rows)
        var total = 0
        indptr[0] = 0
        for r in 0..<rows {
            let step = nextStep(afterTokens: generated + r * rowStride, length: length, layout: layout)
            steps[r] = step
            switch step {
            case let .codes(node, depth): total += children(ofNode: node, atDepth: depth).count
            case .complete, .dead: total += layout.endToken == nil ? 0 : 1
            }
            indptr[r + 1] = Int64(total)
        }
        guard total <= tokens.count, total > 0, let out = tokens.baseAddress else { return total }
        var next = 0
        for step in steps {
            switch step {
            case let .codes(node, depth):
                let base = layout.positionBases[depth]
                for child in children(ofNode: node, atDepth: depth) {
                    out[next] = Int64(base + (token(ofNode: child, atDepth: depth + 1) ?? 0))
                    next += 1
                }
            case .complete, .dead:
                if let end = layout.endToken {
                    out[next] = Int64(end)
                    next += 1
                }
            }
        }
        return total
    }

    /// Masks a decoder's scores so that only the allowed next tokens keep their value: every other
    /// entry of each row becomes `−∞`. What is allowed is as in
    /// ``allowedNextTokens(generated:rowStride:length:layout:indptr:tokens:)``; a row that allows
    /// nothing becomes all `−∞`.
    ///
    /// - Parameters:
    ///   - generated: the tokens generated so far, row `r` at `generated[r × rowStride …]`, `length`
    ///     per row (the prompt excluded).
    ///   - rows: rows of `generated`, `source` and `destination`.
    ///   - source: `[rows, vocabularySize]` float32 scores with rows `scoreRowStride` apart (≥ the
    ///     vocabulary).
    ///   - destination: where the masked scores go, laid out as `source`: `source` itself (in
    ///     place) or a buffer that does not overlap it.
    /// - Throws: ``DecodingError/invalidShape(_:)`` for a layout whose tokens fall outside the
    ///   vocabulary, a negative size, or a stride shorter than its row.
    ///
    /// Cost: one write pass over the scores (`rows × V` floats, on both cores when that is more
    /// than a few hundred thousand), reads of the allowed entries only, plus the walks of
    /// ``allowedNextCodes(prefixes:length:indptr:codes:)``.
    public func maskScores(generated: UnsafePointer<Int64>?, rows: Int, rowStride: Int, length: Int, layout: TokenLayout,
                           source: UnsafePointer<Float>?, destination: UnsafeMutablePointer<Float>?,
                           vocabularySize: Int, scoreRowStride: Int) throws {
        guard rows >= 0 else { throw DecodingError.invalidShape("\(rows) rows") }
        guard vocabularySize >= 1, scoreRowStride >= vocabularySize else {
            throw DecodingError.invalidShape("scores of \(vocabularySize) tokens with rows \(scoreRowStride) apart")
        }
        try layout.validate(codeSizes: codebookSizes, vocabularySize: vocabularySize)
        let generated = try Self.checkGenerated(generated, rows: rows, rowStride: rowStride, length: length)
        guard rows > 0 else { return }
        guard let source, let destination else { throw DecodingError.invalidShape("the scores are a null pointer") }
        let input = UncheckedPointer(source)
        let output = SharedMutablePointer(destination)
        let tokens = UncheckedPointer(generated)
        let minimumRows = max(1, (1 << 17) / vocabularySize)
        self.tokens.withUnsafeBufferPointer { levelTokens in
            // Read only where a node has children, i.e. where the array is not empty.
            let codes = UncheckedPointer(levelTokens.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<UInt16>.alignment)!)
            Parallel.forEachChunk(count: rows, minimumChunk: minimumRows) { range in
                for r in range {
                    maskRow(from: input.pointer + r * scoreRowStride, to: output.pointer + r * scoreRowStride,
                            vocabularySize: vocabularySize, codes: codes.pointer,
                            step: nextStep(afterTokens: tokens.pointer + r * rowStride, length: length, layout: layout),
                            layout: layout)
                }
            }
        }
    }

    /// Writes row `source` to `destination` (the same row, or another) with every entry but the
    /// allowed ones set to `−∞` (see ``maskScores``), in one pass from left to right: `−∞` up to
    /// the next allowed token (the children's codes are ascending), that token's score, and so on.
    /// In place an allowed entry is simply left alone. `codes` is the trie's token array
    /// (``tokens``).
    @inline(__always)
    func maskRow(from source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, vocabularySize: Int,
                 codes: UnsafePointer<UInt16>, step: NextStep, layout: TokenLayout) {
        let inPlace = UnsafePointer(destination) == source
        switch step {
        case let .codes(node, depth):
            let children = children(ofNode: node, atDepth: depth)
            let base = layout.positionBases[depth]
            let size = codebookSizes[depth]
            if children.count == size {
                // Every code of the position is allowed: its block stays, the rest goes.
                destination.update(repeating: -.infinity, count: base)
                if !inPlace { (destination + base).update(from: source + base, count: size) }
                (destination + base + size).update(repeating: -.infinity, count: vocabularySize - base - size)
                return
            }
            let childCodes = codes + tokenBase[depth]
            var position = 0  // entries before it are written
            for child in children {
                let token = base + Int(childCodes[child])
                (destination + position).update(repeating: -.infinity, count: token - position)
                if !inPlace { destination[token] = source[token] }
                position = token + 1
            }
            (destination + position).update(repeating: -.infinity, count: vocabularySize - position)
        case .complete, .dead:
            guard let end = layout.endToken else {
                destination.update(repeating: -.infinity, count: vocabularySize)
                return
            }
            destination.update(repeating: -.infinity, count: end)
            if !inPlace { destination[end] = source[end] }
            (destination + end + 1).update(repeating: -.infinity, count: vocabularySize - end - 1)
        }
    }

    /// The generated-token pointer after checking the sizes that describe it; a dummy pointer when
    /// nothing is read through it.
    static func checkGenerated(_ generated: UnsafePointer<Int64>?, rows: Int, rowStride: Int,
                               length: Int) throws -> UnsafePointer<Int64> {
        guard length >= 0 else { throw DecodingError.invalidShape("a negative prefix length \(length)") }
        guard rowStride >= length else {
            throw DecodingError.invalidShape("generated rows are \(rowStride) tokens apart but hold \(length) tokens")
        }
        if rows == 0 || length == 0 {
            return generated ?? UnsafePointer(bitPattern: MemoryLayout<Int64>.alignment)!
        }
        guard let generated else { throw DecodingError.invalidShape("the generated tokens are a null pointer") }
        return generated
    }
}

/// A read-only pointer handed to the workers of a ``Parallel`` loop.
struct UncheckedPointer<T>: @unchecked Sendable {
    let pointer: UnsafePointer<T>
    init(_ pointer: UnsafePointer<T>) { self.pointer = pointer }
}
