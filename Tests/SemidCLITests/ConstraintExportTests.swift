import Foundation
import SemidDecoding
import SemidIndex
import SemidTestSupport
import Testing

@Suite("semid export --format trie and hf-tokens (real binary)")
struct ConstraintExportTests {
    /// The bytes NumPy writes for a 1-D int32 array.
    static func npy(_ values: [Int32]) -> [UInt8] {
        NpyBytes.file(descr: "<i4", shape: [values.count], payload: NpyBytes.bytes(int32: values))
    }

    @Test("trie: .npy CSR arrays equal to the index's trie, and trie.json describing them")
    func trieExport() throws {
        let dir = try TemporaryDirectory()
        let path = try InspectExportTests.buildIndex(in: dir)
        let out = dir.file("trie")
        try Semid.succeed(["export", path, "--format", "trie", "--out", out])
        let index = try IndexStore.open(at: path)
        let trie = try CodeTrie(index: index)
        let arrays = trie.arrays
        let files = try DirectorySnapshot.files(at: out)
        #expect(Set(files.keys) == Set(["trie.json", "leaf_items.npy"] + (0..<4).flatMap { ["offsets_\($0).npy", "tokens_\($0).npy"] }))
        for l in 0..<4 {
            #expect(files["offsets_\(l).npy"] == Self.npy(arrays.offsets[l]))
            #expect(files["tokens_\(l).npy"] == Self.npy(arrays.tokens[l].map { Int32($0) }))
        }
        #expect(files["leaf_items.npy"] == Self.npy(arrays.leafItems))

        let json = JSONPath(value: try parseJSON(String(decoding: files["trie.json"]!, as: UTF8.self)), path: "")
        #expect(json["format"].string() == "semid-trie" && json["format_version"].int() == 1)
        #expect(json["items"].int() == 300 && json["id_length"].int() == 4)
        let sizes = index.manifest.codeSizes
        #expect(json["code_sizes"].array().map { $0.int() } == sizes)
        #expect(json["node_counts"].array().map { $0.int() } == trie.nodeCounts)
        #expect(json["token_offsets"].array().map { $0.int() } == [0, sizes[0], sizes[0] + sizes[1], sizes[0] + sizes[1] + sizes[2]])
        #expect(json["token_template"].string() == "<{letter}_{code}>")
        #expect(json["offsets"].array().map { $0.string() } == (0..<4).map { "offsets_\($0).npy" })

        // Walking the exported arrays from the root reaches every item's ID, and only those.
        for item in 0..<300 {
            var node = 0
            for (l, code) in index.ids.row(item).enumerated() {
                let lo = Int(arrays.offsets[l][node]), hi = Int(arrays.offsets[l][node + 1])
                let j = try #require((lo..<hi).first { arrays.tokens[l][$0] == UInt16(code) })
                node = j
            }
            #expect(arrays.leafItems[node] == Int32(item))
        }
    }

    @Test("hf-tokens: the ID tokens in order, with the default or a given template")
    func hfTokens() throws {
        let dir = try TemporaryDirectory()
        let path = try InspectExportTests.buildIndex(in: dir)
        let sizes = try IndexStore.open(at: path).manifest.codeSizes
        for template in ["<{letter}_{code}>", "<s_{letter}_{code}>"] {
            let out = dir.file("tokens.json")
            try Semid.succeed(["export", path, "--format", "hf-tokens", "--token-template", template, "--out", out, "--force"])
            let tokens = try parseJSON(String(contentsOfFile: out, encoding: .utf8)) as? [String]
            #expect(tokens == (try TokenTemplate(template)).vocabulary(codeSizes: sizes))
            #expect(tokens?.first == (template.hasPrefix("<s_") ? "<s_a_0>" : "<a_0>"))
        }
    }

    @Test("bad template, existing output, a directory that is not an export, IDs without a trie")
    func errors() throws {
        let dir = try TemporaryDirectory()
        let path = try InspectExportTests.buildIndex(in: dir)
        Semid.expectFailure(try Semid.run(["export", path, "--format", "hf-tokens", "--token-template", "<{code}>", "--out", dir.file("t.json")]),
                            status: 2, mentions: ["token template", "{letter} or {position}"])
        Semid.expectFailure(try Semid.run(["export", path, "--format", "trie", "--out", dir.path]),
                            status: 1, mentions: ["already exists", "--force"])
        Semid.expectFailure(try Semid.run(["export", path, "--format", "trie", "--out", dir.path, "--force"]),
                            status: 1, mentions: ["not a semid trie export"])
        #expect(FileManager.default.fileExists(atPath: dir.file("idx.semid/manifest.json")), "nothing was replaced")
        let none = dir.file("none.semid")
        try Semid.succeed(["build", "--embeddings", dir.file("emb.npy"), "--collisions", "none", "--out", none] + Fixture.smallBuild)
        Semid.expectFailure(try Semid.run(["export", none, "--format", "trie", "--out", dir.file("t")]),
                            status: 1, mentions: ["same semantic ID"])
    }
}
