import SemidDecoding
import SemidStorage

extension CodeTrie {
    /// Prefix of the index attachments that hold the trie (`trie.code_sizes`, `trie.offsets.L`,
    /// `trie.tokens.L`, `trie.leaf_items`). They are derived from the final IDs.
    public static let attachmentPrefix = "trie."

    /// The trie's arrays as named shard arrays for ``SemanticIndex/attachments``.
    public var attachments: [String: ShardArray] {
        let a = arrays
        var out: [String: ShardArray] = [
            "trie.code_sizes": ShardArray(int32: a.codebookSizes, shape: [a.codebookSizes.count]),
            "trie.leaf_items": ShardArray(int32: a.leafItems, shape: [a.leafItems.count]),
        ]
        for l in 0..<a.offsets.count {
            out["trie.offsets.\(l)"] = ShardArray(int32: a.offsets[l], shape: [a.offsets[l].count])
            out["trie.tokens.\(l)"] = ShardArray(uint16: a.tokens[l], shape: [a.tokens[l].count])
        }
        return out
    }

    /// Replaces the trie attachments of `index` with a trie built from its final IDs.
    public static func attach(to index: inout SemanticIndex) throws {
        let trie = try CodeTrie(ids: index.ids.values, codebookSizes: index.manifest.codeSizes)
        index.attachments = index.attachments.filter { !$0.key.hasPrefix(attachmentPrefix) }
        index.attachments.merge(trie.attachments) { _, new in new }
    }

    /// The trie of `index`: read from its attachments (checked against every invariant and against
    /// the index's IDs) or, when the index has none, built from the IDs.
    ///
    /// Throws ``DecodingError/corruptTrie(_:)`` when stored arrays are inconsistent.
    public init(index: SemanticIndex) throws {
        let source = (index.path ?? "index") + "/trie"
        guard let sizes = index.attachments["trie.code_sizes"] else {
            try self.init(ids: index.ids.values, codebookSizes: index.manifest.codeSizes)
            return
        }
        let levels = sizes.elementCount
        var offsets: [[Int32]] = []
        var tokens: [[UInt16]] = []
        for l in 0..<levels {
            guard let o = index.attachments["trie.offsets.\(l)"], let t = index.attachments["trie.tokens.\(l)"] else {
                throw DecodingError.corruptTrie("level \(l) arrays are missing from \(source)")
            }
            offsets.append(try o.int32Values(source: source + ".offsets.\(l)"))
            tokens.append(try t.uint16Values(source: source + ".tokens.\(l)"))
        }
        guard let leaves = index.attachments["trie.leaf_items"] else {
            throw DecodingError.corruptTrie("leaf items are missing from \(source)")
        }
        try self.init(arrays: CodeTrieArrays(codebookSizes: try sizes.int32Values(source: source + ".code_sizes"),
                                             offsets: offsets, tokens: tokens,
                                             leafItems: try leaves.int32Values(source: source + ".leaf_items")))
        // The stored trie must describe exactly the index's IDs.
        guard itemCount == index.itemCount, codebookSizes == index.manifest.codeSizes else {
            throw DecodingError.corruptTrie("stored trie has \(itemCount) items and code sizes \(codebookSizes); the index has \(index.itemCount) items and \(index.manifest.codeSizes)")
        }
        for item in 0..<index.itemCount where self.item(forID: Array(index.ids.row(item))) != Int32(item) {
            throw DecodingError.corruptTrie("stored trie does not map item \(item)'s ID \(Array(index.ids.row(item))) to it")
        }
    }
}
