/// The set of valid semantic IDs as a prefix tree in flat arrays, for constrained decoding.
///
/// Terms: an ID has `L` **levels**; the code at level `l` is in `0..<K_l` (``codebookSizes``). A
/// **node at depth `d`** (`0...L`) is a distinct prefix of length `d`; depth 0 holds the root only
/// and depth `L` holds one node per item (a **leaf**). Nodes of one depth are numbered `0..<count`
/// in lexicographic order of their prefixes, so the children of a node are contiguous and every
/// node covers a contiguous range of leaves.
///
/// Layout (no pointer per node), for each level `l` in `0..<L`:
/// - `offsets[l]`: `Int32`, `[nodes(l) + 1]`, CSR row pointers: the children of node `v` at depth
///   `l` are the depth-`l+1` nodes `offsets[l][v] ..< offsets[l][v+1]` (the child index is
///   implicit, so there is no separate `child` array);
/// - `tokens[l]`: `UInt16`, `[nodes(l+1)]`: the level-`l` code of each depth-`l+1` node, sorted
///   within each parent;
/// - on **dense** levels only (see ``isDense(level:)``), a `K_l`-bit bitset per depth-`l` node
///   (`UInt64` words), used for O(1) membership and rank in ``child(ofNode:atDepth:token:)`` and,
///   in the beam search, for a vectorised scan of the log-probabilities of nodes with at least
///   `K_l/4` children (sparser nodes are walked through their token list).
///
/// Plus `leafItems` (`Int32`, `[n]`: the item at each leaf) and its inverse `leafOfItem`.
/// ``memoryBytes`` counts all of it. Build with ``init(ids:codebookSizes:)``; store with
/// ``arrays`` and load with ``init(arrays:)``, which validates everything.
public struct CodeTrie: Sendable {
    /// `K_l` for each level (`L` values), each in `1...65536`.
    public let codebookSizes: [Int]
    /// The number of items `n` (= leaves).
    public let itemCount: Int
    /// The number of nodes at each depth `0...L` (`L + 1` values; depth 0 has 1, depth `L` has `n`).
    public let nodeCounts: [Int]
    /// The largest number of children of any node at each depth `0..<L` (`L` values).
    public let maxFanout: [Int]
    /// Whether each level `0..<L` keeps a bitset per parent node (`L` values).
    public let denseLevels: [Bool]

    // Flat storage: level l's block starts at the level's base.
    let offsets: [Int32]
    let offsetBase: [Int]
    let tokens: [UInt16]
    let tokenBase: [Int]
    let bits: [UInt64]
    let bitBase: [Int]
    let bitWords: [Int]
    let leafItems: [Int32]
    let leafOfItem: [Int32]

    /// The number of levels `L` of every ID.
    public var levels: Int { codebookSizes.count }

    /// Bytes held by the trie's arrays (offsets, tokens, bitsets, leaf ↔ item maps).
    public var memoryBytes: Int {
        offsets.count * 4 + tokens.count * 2 + bits.count * 8 + leafItems.count * 4 + leafOfItem.count * 4
    }

    /// ``memoryBytes`` per array: `offsets`, `tokens`, `bitsets`, `leafItems`, `leafOfItem`.
    public var memoryBreakdown: [String: Int] {
        ["offsets": offsets.count * 4, "tokens": tokens.count * 2, "bitsets": bits.count * 8,
         "leafItems": leafItems.count * 4, "leafOfItem": leafOfItem.count * 4]
    }

    /// ``memoryBytes`` divided by the number of items.
    public var bytesPerItem: Double { Double(memoryBytes) / Double(max(itemCount, 1)) }

    /// Whether level `l` keeps a `K_l`-bit bitset per depth-`l` node.
    ///
    /// A level is dense when its bitsets take no more bytes than its `UInt16` token lists, i.e.
    /// when the mean fan-out is at least `⌈K_l/64⌉·4` (16 for `K = 256`). There a bitset costs at
    /// most twice the memory the level already uses, and a vectorised scan over `K_l`
    /// log-probabilities is no slower than visiting the children one by one.
    public func isDense(level l: Int) -> Bool { l >= 0 && l < levels && denseLevels[l] }

    /// The child nodes (at depth `depth + 1`) of node `node` at depth `depth`; empty when
    /// `node` or `depth` is out of range or `depth == L`.
    public func children(ofNode node: Int, atDepth depth: Int) -> Range<Int> {
        guard depth >= 0, depth < levels, node >= 0, node < nodeCounts[depth] else { return 0..<0 }
        let b = offsetBase[depth]
        return Int(offsets[b + node])..<Int(offsets[b + node + 1])
    }

    /// The last code of node `node` at depth `depth` (`1...L`), i.e. its level-`depth-1` token;
    /// `nil` when out of range.
    public func token(ofNode node: Int, atDepth depth: Int) -> Int? {
        guard depth >= 1, depth <= levels, node >= 0, node < nodeCounts[depth] else { return nil }
        return Int(tokens[tokenBase[depth - 1] + node])
    }

    /// The child of node `node` at depth `depth` reached by code `token` at level `depth`, or `nil`
    /// when there is none. Bitset and rank on dense levels, direct indexing on full nodes, binary
    /// search otherwise; never depends on the number of items.
    public func child(ofNode node: Int, atDepth depth: Int, token: Int) -> Int? {
        guard depth >= 0, depth < levels, node >= 0, node < nodeCounts[depth],
              token >= 0, token < codebookSizes[depth] else { return nil }
        let range = children(ofNode: node, atDepth: depth)
        if range.count == codebookSizes[depth] { return range.lowerBound + token }
        if denseLevels[depth] {
            let w = bitBase[depth] + node * bitWords[depth]
            let word = bits[w + token >> 6]
            let bit = UInt64(1) << UInt64(token & 63)
            guard word & bit != 0 else { return nil }
            var rank = (word & (bit &- 1)).nonzeroBitCount
            for i in 0..<(token >> 6) { rank += bits[w + i].nonzeroBitCount }
            return range.lowerBound + rank
        }
        let base = tokenBase[depth]
        var lo = range.lowerBound, hi = range.upperBound
        let t = UInt16(token)
        while lo < hi {
            let mid = (lo + hi) >> 1
            if tokens[base + mid] < t { lo = mid + 1 } else { hi = mid }
        }
        return lo < range.upperBound && tokens[base + lo] == t ? lo : nil
    }

    /// The node at depth `prefix.count` for a prefix of codes, or `nil` if no item starts with it.
    public func node(forPrefix prefix: [Int32]) -> Int? {
        guard prefix.count <= levels else { return nil }
        var node = 0
        for (depth, code) in prefix.enumerated() {
            guard let next = child(ofNode: node, atDepth: depth, token: Int(code)) else { return nil }
            node = next
        }
        return node
    }

    /// The item whose semantic ID is `codes` (`L` values), or `nil` if it is not an item's ID.
    public func item(forID codes: [Int32]) -> Int32? {
        guard codes.count == levels, let leaf = node(forPrefix: codes) else { return nil }
        return leafItems[leaf]
    }

    /// The item at leaf position `leaf` (`0..<n`, lexicographic order of IDs), or `nil`.
    public func item(atLeaf leaf: Int) -> Int32? {
        guard leaf >= 0, leaf < itemCount else { return nil }
        return leafItems[leaf]
    }

    /// The leaf position of `item`, or `nil` when `item` is not in `0..<n`.
    public func leaf(ofItem item: Int) -> Int? {
        guard item >= 0, item < itemCount else { return nil }
        return Int(leafOfItem[item])
    }

    /// The semantic ID (`L` codes) of `item`, recovered from the trie in `O(L log n)`; `nil` when
    /// `item` is not in `0..<n`.
    public func id(ofItem item: Int) -> [Int32]? {
        guard let leaf = leaf(ofItem: item) else { return nil }
        var codes = [Int32](repeating: 0, count: levels)
        var node = leaf
        for depth in stride(from: levels, through: 1, by: -1) {
            codes[depth - 1] = Int32(tokens[tokenBase[depth - 1] + node])
            // Parent: the last node at depth-1 whose first child is <= node.
            let base = offsetBase[depth - 1]
            var lo = 0, hi = nodeCounts[depth - 1]
            while hi - lo > 1 {
                let mid = (lo + hi) >> 1
                if Int(offsets[base + mid]) <= node { lo = mid } else { hi = mid }
            }
            node = lo
        }
        return codes
    }

    /// The leaf positions covered by node `node` at depth `depth` (contiguous, because children
    /// are contiguous); empty when out of range.
    public func leafRange(ofNode node: Int, atDepth depth: Int) -> Range<Int> {
        guard depth >= 0, depth <= levels, node >= 0, node < nodeCounts[depth] else { return 0..<0 }
        return firstLeaf(node, depth: depth)..<firstLeaf(node + 1, depth: depth)
    }

    /// The first leaf under node `node` at `depth`; `node == nodeCounts[depth]` gives `n`.
    @inline(__always)
    func firstLeaf(_ node: Int, depth: Int) -> Int {
        var x = node
        for d in depth..<levels { x = Int(offsets[offsetBase[d] + x]) }
        return x
    }
}
