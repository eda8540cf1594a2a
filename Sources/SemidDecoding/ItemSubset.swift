/// A set of items a search may return (e.g. one category, or fresh items), prepared once for a
/// trie and shared by any number of queries and searches; the trie is not rebuilt.
///
/// Stored as the sorted leaf positions of its items (`4` bytes per member), so "does this
/// subtree hold an allowed item" is two binary searches over the node's contiguous leaf range:
/// `O(log m)`, independent of the catalog size.
public struct ItemSubset: Sendable, Equatable {
    /// The number of items of the trie the subset was built for.
    public let trieItemCount: Int
    /// Sorted, distinct leaf positions of the members, `[count]`.
    let leaves: [Int32]

    /// The number of distinct members.
    public var count: Int { leaves.count }

    /// The subset of `items` (duplicates are ignored) of `trie`'s items.
    /// - Throws: ``DecodingError/unknownItem(item:itemCount:context:)`` for an id outside `0..<n`.
    public init<S: Sequence>(items: S, in trie: CodeTrie) throws where S.Element: BinaryInteger {
        var leaves: [Int32] = []
        leaves.reserveCapacity(items.underestimatedCount)
        for item in items {
            guard let leaf = trie.leaf(ofItem: Int(exactly: item) ?? -1) else {
                throw DecodingError.unknownItem(item: Int64(clamping: item), itemCount: trie.itemCount, context: "allowed subset")
            }
            leaves.append(Int32(leaf))
        }
        leaves.sort()
        var unique: [Int32] = []
        unique.reserveCapacity(leaves.count)
        for p in leaves where unique.last != p { unique.append(p) }
        self.trieItemCount = trie.itemCount
        self.leaves = unique
    }

    /// Whether the item at leaf position `leaf` is a member.
    func containsLeaf(_ leaf: Int32) -> Bool {
        leaves.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return false }
            let i = SortedSearch.lowerBound(base, buffer.count, leaf)
            return i < buffer.count && base[i] == leaf
        }
    }
}

/// Binary search over sorted `Int32` buffers.
enum SortedSearch {
    /// The first index in `0..<count` whose value is `>= value` (`count` when none).
    @inline(__always)
    static func lowerBound(_ base: UnsafePointer<Int32>, _ count: Int, _ value: Int32) -> Int {
        var lo = 0, n = count
        while n > 0 {
            let half = n >> 1
            if base[lo + half] < value { lo += half + 1; n -= half + 1 } else { n = half }
        }
        return lo
    }
}
