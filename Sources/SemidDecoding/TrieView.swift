/// Raw pointers into a ``CodeTrie``'s arrays for the search's inner loops. Valid only inside
/// ``CodeTrie/withView(_:)``.
struct TrieView: @unchecked Sendable {
    let levels: Int
    let itemCount: Int
    let codebookSizes: [Int]
    let nodeCounts: [Int]
    let denseLevels: [Bool]
    let offsetBase: [Int]
    let tokenBase: [Int]
    let bitBase: [Int]
    let bitWords: [Int]
    let offsets: UnsafePointer<Int32>
    let tokens: UnsafePointer<UInt16>
    let bits: UnsafePointer<UInt64>?
    let leafItems: UnsafePointer<Int32>

    /// The first leaf under node `node` at `depth`; `node == nodeCounts[depth]` gives `n`.
    @inline(__always)
    func firstLeaf(_ node: Int, depth: Int) -> Int {
        var x = node
        var d = depth
        while d < levels {
            x = Int(offsets[offsetBase[d] + x])
            d += 1
        }
        return x
    }
}

extension CodeTrie {
    /// Calls `body` with raw pointers into the trie's arrays.
    func withView<R>(_ body: (TrieView) throws -> R) throws -> R {
        try offsets.withUnsafeBufferPointer { off in
            try tokens.withUnsafeBufferPointer { tok in
                try bits.withUnsafeBufferPointer { bw in
                    try leafItems.withUnsafeBufferPointer { leaves in
                        // Non-empty by construction (n >= 1, L >= 1).
                        guard let o = off.baseAddress, let t = tok.baseAddress, let li = leaves.baseAddress else {
                            throw DecodingError.internalInconsistency("empty trie arrays")
                        }
                        return try body(TrieView(
                            levels: levels, itemCount: itemCount, codebookSizes: codebookSizes,
                            nodeCounts: nodeCounts, denseLevels: denseLevels, offsetBase: offsetBase,
                            tokenBase: tokenBase, bitBase: bitBase, bitWords: bitWords,
                            offsets: o, tokens: t, bits: bw.count > 0 ? bw.baseAddress : nil, leafItems: li))
                    }
                }
            }
        }
    }
}
