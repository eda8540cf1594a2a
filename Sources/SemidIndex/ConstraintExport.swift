import Foundation
import SemidDecoding
import SemidStorage

/// Exports of an index's decoding constraint for LLM pipelines that do not link semid: the trie as
/// NumPy arrays, and the ID tokens to add to a tokenizer.
///
/// **`trie`** writes a directory readable with NumPy alone (the layout vectorised constraint
/// decoders such as STATIC use: CSR arrays over the lexicographically sorted IDs):
///
/// ```
/// DIR/
///   trie.json           format, items, id_length, code_sizes, node_counts, token template and
///                       per-position token offsets, the array files
///   offsets_<l>.npy     int32 [nodes(l) + 1]: children of node v at depth l are entries
///                       offsets_l[v] ..< offsets_l[v+1] of level l
///   tokens_<l>.npy      int32 [nodes(l+1)]: the level-l code of each entry, ascending per node
///   leaf_items.npy      int32 [items]: the item at each leaf
/// ```
///
/// Entry `j` of level `l` *is* node `j` of depth `l + 1` (children are contiguous), so there is
/// no separate child array; at the last level entry `j` is leaf `j`, whose item is
/// `leaf_items[j]`. Depth 0 is the root alone. The allowed next codes after a prefix are one CSR
/// row per step: `node = 0; for l, c in prefix: row = tokens_l[offsets_l[node]:offsets_l[node+1]];
/// node = offsets_l[node] + searchsorted(row, c)`.
///
/// **`hf-tokens`** writes a JSON array of the ID tokens in the order to add them to a tokenizer
/// (position 0's codes, then position 1's, …), so the token of code `c` at position `l` lands at
/// `base + token_offsets[l] + c`.
public enum ConstraintExport {
    /// The export formats.
    public enum Format: String, CaseIterable, Sendable {
        /// The trie as `.npy` CSR arrays and `trie.json`, in a directory.
        case trie
        /// The ID tokens in order, a JSON array of strings.
        case hfTokens = "hf-tokens"
    }

    /// The `format` of `trie.json`.
    public static let trieFormatName = "semid-trie"
    /// The `format_version` of `trie.json`.
    public static let trieFormatVersion = 1
    /// The description file of a trie export.
    public static let trieDescriptionFile = "trie.json"

    /// `trie.json`.
    struct TrieDescription: Codable {
        var format: String
        var formatVersion: Int
        var items: Int
        var idLength: Int
        var codeSizes: [Int]
        var nodeCounts: [Int]
        var tokenTemplate: String
        var tokenOffsets: [Int]
        var offsets: [String]
        var tokens: [String]
        var leafItems: String
        var layout: String
    }

    /// Writes the export of `index` in `format` to `path` (a directory for `trie`, a file for
    /// `hf-tokens`), atomically. An existing `path` is replaced only with `overwrite`, and a trie
    /// export only replaces a directory that holds a previous trie export.
    ///
    /// - Throws: ``IndexError/outputExists(path:)``, ``IndexError/inconsistentInput(_:)`` for a path
    ///   that is not a trie export or lies inside an index directory, ``DecodingError`` when the index's IDs are not unique (no trie).
    public static func write(_ index: SemanticIndex, format: Format, template: TokenTemplate = .lcrec,
                             to path: String, overwrite: Bool) throws {
        if FileSystem.exists(path) && !overwrite { throw IndexError.outputExists(path: path) }
        try IndexStore.refuseOutputInsideIndex(path)
        switch format {
        case .hfTokens:
            let tokens = template.vocabulary(codeSizes: index.manifest.codeSizes)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            let lines = try tokens.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
            let text = "[\n" + lines.map { "  " + $0 }.joined(separator: ",\n") + "\n]\n"
            try FileSystem.writeAtomically(Array(text.utf8), to: path)
        case .trie:
            if FileSystem.exists(path) && !FileSystem.exists(path + "/" + trieDescriptionFile) {
                throw IndexError.inconsistentInput("\(path) exists and is not a semid trie export (no \(trieDescriptionFile)); refusing to replace it")
            }
            try writeTrie(CodeTrie(index: index), template: template, to: path)
        }
    }

    /// Writes `trie` as a trie export directory at `path` (staged next to it, then renamed in).
    public static func writeTrie(_ trie: CodeTrie, template: TokenTemplate, to path: String) throws {
        let arrays = trie.arrays
        let levels = trie.levels
        var offsets: [Int] = []
        var running = 0
        for size in trie.codebookSizes {
            offsets.append(running)
            running += size
        }
        let description = TrieDescription(
            format: trieFormatName, formatVersion: trieFormatVersion, items: trie.itemCount, idLength: levels,
            codeSizes: trie.codebookSizes, nodeCounts: trie.nodeCounts, tokenTemplate: template.text,
            tokenOffsets: offsets,
            offsets: (0..<levels).map { "offsets_\($0).npy" }, tokens: (0..<levels).map { "tokens_\($0).npy" },
            leafItems: "leaf_items.npy",
            layout: "entry j of level l is node j of depth l+1; the children of node v at depth l are entries "
                + "offsets_l[v] ..< offsets_l[v+1] of level l, with codes tokens_l[...] ascending; at the last level "
                + "entry j is leaf j, holding item leaf_items[j]; the token of code c at position l is "
                + "base + token_offsets[l] + c")
        let staging = try FileSystem.makeStagingDirectory(for: path)
        do {
            for l in 0..<levels {
                try NpyFile.write(int32: arrays.offsets[l], shape: [arrays.offsets[l].count],
                                  to: staging + "/" + description.offsets[l])
                try NpyFile.write(int32: arrays.tokens[l].map { Int32($0) }, shape: [arrays.tokens[l].count],
                                  to: staging + "/" + description.tokens[l])
            }
            try NpyFile.write(int32: arrays.leafItems, shape: [arrays.leafItems.count], to: staging + "/" + description.leafItems)
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try FileSystem.write(Array(try encoder.encode(description)) + [UInt8(ascii: "\n")],
                                 to: staging + "/" + trieDescriptionFile, sync: false)
            try FileSystem.commitDirectory(staging, to: path)
        } catch {
            FileSystem.remove(staging)
            throw error
        }
    }
}
