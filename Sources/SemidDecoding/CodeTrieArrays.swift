/// The flat arrays that fully describe a ``CodeTrie``, for writing to and reading from storage
/// (e.g. one zstd shard per array). Bitsets and the item → leaf map are not stored: they are
/// derived in `O(n)` on load.
///
/// Shapes (`L` levels, `nodes(d)` nodes at depth `d`, `nodes(0) = 1`, `nodes(L) = n`):
/// - `codebookSizes`: `[L]`, each in `1...65536`;
/// - `offsets[l]`: `Int32`, `[nodes(l) + 1]`, strictly increasing from 0 to `nodes(l+1)`;
/// - `tokens[l]`: `UInt16`, `[nodes(l+1)]`, strictly increasing within each parent, `< K_l`;
/// - `leafItems`: `Int32`, `[n]`, a permutation of `0..<n` (the item at each leaf).
public struct CodeTrieArrays: Sendable, Equatable {
    /// `K_l` per level, `[L]`.
    public var codebookSizes: [Int32]
    /// CSR row pointers per level, `L` arrays of `[nodes(l) + 1]`.
    public var offsets: [[Int32]]
    /// Child codes per level, `L` arrays of `[nodes(l+1)]`.
    public var tokens: [[UInt16]]
    /// The item at each leaf, `[n]`.
    public var leafItems: [Int32]

    /// Wraps the arrays; nothing is checked until ``CodeTrie/init(arrays:)``.
    public init(codebookSizes: [Int32], offsets: [[Int32]], tokens: [[UInt16]], leafItems: [Int32]) {
        self.codebookSizes = codebookSizes
        self.offsets = offsets
        self.tokens = tokens
        self.leafItems = leafItems
    }
}

extension CodeTrie {
    /// The trie's defining arrays (copies), for storage.
    public var arrays: CodeTrieArrays {
        let levels = self.levels
        return CodeTrieArrays(
            codebookSizes: codebookSizes.map { Int32($0) },
            offsets: (0..<levels).map { l in Array(offsets[offsetBase[l]..<(offsetBase[l] + nodeCounts[l] + 1)]) },
            tokens: (0..<levels).map { l in Array(tokens[tokenBase[l]..<(tokenBase[l] + nodeCounts[l + 1])]) },
            leafItems: leafItems)
    }

    /// Re-creates a trie from stored arrays after checking every invariant, so a truncated or
    /// corrupted file gives ``DecodingError/corruptTrie(_:)`` rather than a crash or wrong results.
    public init(arrays: CodeTrieArrays) throws {
        let levels = arrays.codebookSizes.count
        guard levels >= 1, levels <= 255 else { throw DecodingError.corruptTrie("\(levels) levels; expected 1...255") }
        guard arrays.offsets.count == levels, arrays.tokens.count == levels else {
            throw DecodingError.corruptTrie("\(levels) codebook sizes but \(arrays.offsets.count) offset arrays and \(arrays.tokens.count) token arrays")
        }
        var sizes = [Int]()
        for (l, k) in arrays.codebookSizes.enumerated() {
            guard (1...65536).contains(k) else { throw DecodingError.corruptTrie("codebook size \(k) at level \(l); expected 1...65536") }
            sizes.append(Int(k))
        }
        var nodeCounts = [1]
        for l in 0..<levels {
            guard arrays.offsets[l].count == nodeCounts[l] + 1 else {
                throw DecodingError.corruptTrie("level \(l): \(arrays.offsets[l].count) offsets for \(nodeCounts[l]) nodes; expected \(nodeCounts[l] + 1)")
            }
            nodeCounts.append(arrays.tokens[l].count)
        }
        let n = nodeCounts[levels]
        guard n >= 1 else { throw DecodingError.corruptTrie("no leaves") }
        guard n < Int(Int32.max) else { throw DecodingError.corruptTrie("\(n) leaves; at most \(Int32.max - 1) are supported") }
        guard arrays.leafItems.count == n else {
            throw DecodingError.corruptTrie("\(arrays.leafItems.count) leaf items for \(n) leaves")
        }
        let offsets = Array(arrays.offsets.joined())
        let tokens = Array(arrays.tokens.joined())
        try CodeTrie.validateStructure(codebookSizes: sizes, nodeCounts: nodeCounts, offsets: offsets, tokens: tokens, leafItems: arrays.leafItems)
        self.init(assembling: sizes, nodeCounts: nodeCounts, offsets: offsets, tokens: tokens, leafItems: arrays.leafItems)
    }

    /// Checks every invariant of the trie: CSR offsets strictly increasing from 0 to the next
    /// depth's node count (no childless inner node), tokens in range and strictly increasing per
    /// parent, leaves a permutation of the items, and the derived bitsets and item → leaf map
    /// consistent with them. Throws ``DecodingError/corruptTrie(_:)`` naming the first violation.
    public func validate() throws {
        try CodeTrie.validateStructure(codebookSizes: codebookSizes, nodeCounts: nodeCounts, offsets: offsets, tokens: tokens, leafItems: leafItems)
        guard leafOfItem.count == itemCount else { throw DecodingError.corruptTrie("item → leaf map has \(leafOfItem.count) entries for \(itemCount) items") }
        for p in 0..<itemCount where leafOfItem[Int(leafItems[p])] != Int32(p) {
            throw DecodingError.corruptTrie("item → leaf map disagrees with leaf \(p)")
        }
        for l in 0..<levels where denseLevels[l] {
            for v in 0..<nodeCounts[l] {
                let range = children(ofNode: v, atDepth: l)
                let w = bitBase[l] + v * bitWords[l]
                var setBits = 0
                for i in 0..<bitWords[l] { setBits += bits[w + i].nonzeroBitCount }
                guard setBits == range.count else { throw DecodingError.corruptTrie("level \(l) node \(v): bitset has \(setBits) bits for \(range.count) children") }
                for j in range {
                    let t = Int(tokens[tokenBase[l] + j])
                    guard bits[w + t >> 6] & (UInt64(1) << UInt64(t & 63)) != 0 else {
                        throw DecodingError.corruptTrie("level \(l) node \(v): bitset lacks token \(t)")
                    }
                }
            }
        }
    }

    /// The structural checks shared by loading and ``validate()``, on the flat layout.
    static func validateStructure(codebookSizes: [Int], nodeCounts: [Int], offsets: [Int32], tokens: [UInt16], leafItems: [Int32]) throws {
        let levels = codebookSizes.count
        var ob = 0, tb = 0
        for l in 0..<levels {
            let parents = nodeCounts[l], kids = nodeCounts[l + 1]
            guard ob + parents + 1 <= offsets.count, tb + kids <= tokens.count else {
                throw DecodingError.corruptTrie("level \(l): arrays are shorter than the node counts require")
            }
            guard offsets[ob] == 0 else { throw DecodingError.corruptTrie("level \(l): offsets[0] = \(offsets[ob]); expected 0") }
            guard Int(offsets[ob + parents]) == kids else {
                throw DecodingError.corruptTrie("level \(l): last offset \(offsets[ob + parents]) differs from the \(kids) nodes of depth \(l + 1)")
            }
            let k = codebookSizes[l]
            for v in 0..<parents {
                let lo = Int(offsets[ob + v]), hi = Int(offsets[ob + v + 1])
                guard lo < hi else {
                    throw DecodingError.corruptTrie("level \(l): node \(v) has offsets \(lo)..<\(hi); every inner node needs at least one child, in order")
                }
                guard hi <= kids else { throw DecodingError.corruptTrie("level \(l): offset \(hi) of node \(v) exceeds \(kids)") }
                var previous = -1
                for j in lo..<hi {
                    let t = Int(tokens[tb + j])
                    guard t < k else { throw DecodingError.corruptTrie("level \(l): token \(t) of node \(j) is outside 0..<\(k)") }
                    guard t > previous else {
                        throw DecodingError.corruptTrie("level \(l): tokens of node \(v) are not strictly increasing (\(previous) then \(t))")
                    }
                    previous = t
                }
            }
            ob += parents + 1
            tb += kids
        }
        guard ob == offsets.count, tb == tokens.count else { throw DecodingError.corruptTrie("arrays are longer than the node counts require") }
        let n = nodeCounts[levels]
        guard leafItems.count == n else { throw DecodingError.corruptTrie("\(leafItems.count) leaf items for \(n) leaves") }
        var seen = [Bool](repeating: false, count: n)
        for (p, item) in leafItems.enumerated() {
            guard item >= 0, Int(item) < n else { throw DecodingError.corruptTrie("leaf \(p) holds item \(item), outside 0..<\(n)") }
            guard !seen[Int(item)] else { throw DecodingError.corruptTrie("item \(item) appears at two leaves") }
            seen[Int(item)] = true
        }
    }
}
