import Foundation
import SemidIndex
import SemidStorage
import SemidTestSupport
import Testing

/// Bad input must give one line on stderr naming the file (or flag) and the problem, exit status 1
/// (bad input) or 2 (bad command line), nothing on stdout, and no output: no index directory and no
/// hidden `.NAME.staging-*` directory next to it.
@Suite("semid rejects bad input cleanly (real binary)")
struct BadInputTests {
    // MARK: build

    /// One bad `semid build` invocation.
    struct BuildCase: Sendable, CustomTestStringConvertible {
        var name: String
        /// Files written into the working directory before the run (name → bytes).
        var files: [String: [UInt8]]
        /// The arguments after `build`; `@NAME` stands for the path of NAME in the working directory.
        /// `--out @out.semid` is appended unless the case gives its own `--out`.
        var arguments: [String]
        /// The expected exit status.
        var status: Int32
        /// Phrases stderr must contain: the file (or flag) and what is wrong.
        var mentions: [String]
        var testDescription: String { name }

        init(_ name: String, files: [String: [UInt8]] = ["emb.npy": Fixture.embeddingsFile], _ arguments: [String],
             status: Int32 = 1, mentions: [String]) {
            self.name = name
            self.files = files
            self.arguments = arguments
            self.status = status
            self.mentions = mentions
        }
    }

    static let f4 = Fixture.embeddings
    static let good = Fixture.embeddingsFile
    /// The default build arguments on `@emb.npy` (3 levels × 8 codes).
    static let onEmbeddings = ["--embeddings", "@emb.npy"] + Fixture.smallBuild
    /// Embeddings with value `value` at (row, col).
    static func embeddings(setting value: Float, row: Int, col: Int) -> [UInt8] {
        var values = f4
        values[row * Fixture.cols + col] = value
        return NpyBytes.file(shape: [Fixture.rows, Fixture.cols], payload: NpyBytes.bytes(float32: values))
    }
    /// Embeddings and an items file.
    static func withItems(_ items: [UInt8]) -> [String: [UInt8]] { ["emb.npy": good, "items.jsonl": items] }
    static let onItems = onEmbeddings + ["--items", "@items.jsonl"]
    /// Build arguments on `@emb.npy` with the given `--levels` and `--codebook-size` (each flag once).
    static func parameters(levels: String = "3", codebookSize: String = "8") -> [String] {
        ["--embeddings", "@emb.npy", "--levels", levels, "--codebook-size", codebookSize, "--quiet"]
    }

    static let buildCases: [BuildCase] = [
        // Embeddings files.
        BuildCase("truncated .npy data", files: ["emb.npy": Array(good.dropLast(100))], onEmbeddings,
                  mentions: ["emb.npy", "truncated", "19200 bytes of data, file has 19100"]),
        BuildCase(".npy cut inside its header", files: ["emb.npy": Array(good.prefix(50))], onEmbeddings,
                  mentions: ["emb.npy", "truncated"]),
        BuildCase("header claims more rows than the data holds",
                  files: ["emb.npy": NpyBytes.file(shape: [400, 16], payload: NpyBytes.bytes(float32: f4))], onEmbeddings,
                  mentions: ["emb.npy", "truncated", "[400, 16]"]),
        BuildCase("header claims fewer rows than the data holds",
                  files: ["emb.npy": NpyBytes.file(shape: [200, 16], payload: NpyBytes.bytes(float32: f4))], onEmbeddings,
                  mentions: ["emb.npy", "6400 extra bytes", "[200, 16]"]),
        BuildCase("NaN in a row", files: ["emb.npy": embeddings(setting: .nan, row: 17, col: 3)], onEmbeddings,
                  mentions: ["emb.npy", "row 17", "column 3 is NaN"]),
        BuildCase("+infinity in a row", files: ["emb.npy": embeddings(setting: .infinity, row: 299, col: 15)], onEmbeddings,
                  mentions: ["emb.npy", "row 299", "infinity"]),
        BuildCase("−infinity in a row", files: ["emb.npy": embeddings(setting: -.infinity, row: 0, col: 0)], onEmbeddings,
                  mentions: ["emb.npy", "row 0", "-infinity"]),
        BuildCase("3-D array", files: ["emb.npy": NpyBytes.file(shape: [300, 4, 4], payload: NpyBytes.bytes(float32: f4))], onEmbeddings,
                  mentions: ["emb.npy", "expected a 2-D array", "[300, 4, 4]"]),
        BuildCase("1-D array", files: ["emb.npy": NpyBytes.file(shape: [4800], payload: NpyBytes.bytes(float32: f4))], onEmbeddings,
                  mentions: ["emb.npy", "1-D"]),
        BuildCase("int32 dtype", files: ["emb.npy": NpyBytes.file(descr: "<i4", shape: [300, 16], payload: NpyBytes.bytes(float32: f4))], onEmbeddings,
                  mentions: ["emb.npy", "dtype '<i4'", "not supported"]),
        BuildCase("object dtype", files: ["emb.npy": NpyBytes.file(descr: "|O", shape: [300, 16], payload: NpyBytes.bytes(float32: f4))], onEmbeddings,
                  mentions: ["emb.npy", "'|O'"]),
        BuildCase("big-endian float32", files: ["emb.npy": NpyBytes.file(descr: ">f4", shape: [300, 16], payload: NpyBytes.bytes(float32: f4))], onEmbeddings,
                  mentions: ["emb.npy", "big-endian"]),
        BuildCase("Fortran order", files: ["emb.npy": NpyBytes.file(fortranOrder: true, shape: [300, 16], payload: NpyBytes.bytes(float32: f4))], onEmbeddings,
                  mentions: ["emb.npy", "fortran_order"]),
        BuildCase("empty embeddings file", files: ["emb.npy": []], onEmbeddings, mentions: ["emb.npy", "empty"]),
        BuildCase("embeddings that are not .npy", files: ["emb.npy": Array("item,x,y\n1,2,3\n".utf8)], onEmbeddings,
                  mentions: ["emb.npy", "not a .npy file"]),
        BuildCase("embeddings file does not exist", files: [:], onEmbeddings, mentions: ["emb.npy", "file not found"]),
        // Items files.
        BuildCase("items file lists fewer items than embedding rows", files: withItems(Fixture.items(Array(0..<299))), onItems,
                  mentions: ["items.jsonl", "299 items", "300 rows"]),
        BuildCase("items file lists more items than embedding rows", files: withItems(Fixture.items(Array(0..<301))), onItems,
                  mentions: ["items.jsonl", "301 items", "300 rows"]),
        BuildCase("item ids disagree with the rows (1…300)", files: withItems(Fixture.items(Array(1...300))), onItems,
                  mentions: ["items.jsonl", "id 0 is missing", "id 300 is out of range"]),
        BuildCase("duplicate item ids", files: withItems(Fixture.items(Array(0..<299) + [5])), onItems,
                  mentions: ["items.jsonl", "duplicate id 5"]),
        BuildCase("empty items file", files: withItems([]), onItems, mentions: ["items.jsonl", "empty"]),
        BuildCase("items line that is not JSON", files: withItems(Fixture.items([0, 1]) + Array("{item: 2}\n".utf8)), onItems,
                  mentions: ["items.jsonl:3", "not valid JSON"]),
        BuildCase("items line without an id", files: withItems(Array("{\"title\": \"x\"}\n".utf8)), onItems,
                  mentions: ["items.jsonl:1", "item", "missing"]),
        // Parameters.
        BuildCase("more codes per level than items", parameters(codebookSize: "512"),
                  mentions: ["emb.npy", "300 rows", "--codebook-size 512"]),
        BuildCase("--levels 0", parameters(levels: "0"), status: 2, mentions: ["--levels", "must be in 1…64"]),
        BuildCase("--codebook-size 1", parameters(codebookSize: "1"), status: 2, mentions: ["--codebook-size", "at least 2"]),
        BuildCase("--codebook-size that is not a number", parameters(codebookSize: "many"), status: 2,
                  mentions: ["--codebook-size", "many"]),
        BuildCase("unknown collision policy", onEmbeddings + ["--collisions", "sinkhorn-ish"], status: 2,
                  mentions: ["--collisions", "sinkhorn-ish"]),
        BuildCase("--rows-per-shard 0", onEmbeddings + ["--rows-per-shard", "0"], status: 2, mentions: ["--rows-per-shard"]),
        BuildCase("missing --embeddings", files: [:], ["--levels", "2"], status: 2, mentions: ["--embeddings"]),
        BuildCase("unknown option", onEmbeddings + ["--levles", "2"], status: 2, mentions: ["--levles"]),
        BuildCase("output directory's parent does not exist", onEmbeddings + ["--out", "@missing/out.semid"],
                  mentions: ["missing", "does not exist"]),
    ]

    @Test("build fails cleanly on", arguments: buildCases)
    func buildFails(_ c: BuildCase) throws {
        let dir = try TemporaryDirectory()
        for (name, bytes) in c.files { try dir.write(bytes, to: name) }
        var arguments = c.arguments
        if !arguments.contains("--out") { arguments += ["--out", "@out.semid"] }
        arguments = arguments.map { $0.hasPrefix("@") ? dir.file(String($0.dropFirst())) : $0 }

        let result = try Semid.run(["build"] + arguments)
        Semid.expectFailure(result, status: c.status, mentions: c.mentions)
        #expect(try dir.entries() == c.files.keys.sorted(), "no index, staging directory or temporary file is left")
    }

    // MARK: inspect and export on a damaged index

    /// One way to damage an index built by the binary.
    struct Damage: Sendable, CustomTestStringConvertible {
        var name: String
        /// Changes the index at the given path.
        var apply: @Sendable (String) throws -> Void
        /// Phrases stderr must contain.
        var mentions: [String]
        var testDescription: String { name }
    }

    /// Reads, changes and rewrites the file `name` of the index at `path`.
    static func edit(_ path: String, _ name: String, _ change: (inout [UInt8]) -> Void) throws {
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
        change(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path + "/" + name))
    }

    static let damages: [Damage] = [
        Damage(name: "one flipped byte in a shard", apply: { path in
            try edit(path, "ids-00000.zst") { $0[$0.count / 2] ^= 0x01 }
        }, mentions: ["ids-00000.zst", "checksum mismatch"]),
        Damage(name: "a truncated shard", apply: { path in
            try edit(path, "raw_codes-00000.zst") { $0.removeLast($0.count / 2) }
        }, mentions: ["raw_codes-00000.zst", "truncated or modified"]),
        Damage(name: "bytes appended to a shard", apply: { path in
            try edit(path, "codebooks-00000.zst") { $0 += [0, 0, 0, 0] }
        }, mentions: ["codebooks-00000.zst", "truncated or modified"]),
        Damage(name: "one flipped byte in a trie shard", apply: { path in
            try edit(path, "trie.tokens.1-00000.zst") { $0[$0.count / 2] ^= 0x10 }
        }, mentions: ["trie.tokens.1-00000.zst", "checksum mismatch"]),
        Damage(name: "a shard listed in the manifest is missing", apply: { path in
            try FileManager.default.removeItem(atPath: path + "/ids-00000.zst")
        }, mentions: ["ids-00000.zst", "missing"]),
        Damage(name: "a manifest from a newer format version", apply: { path in
            try edit(path, "manifest.json") { bytes in
                let text = String(decoding: bytes, as: UTF8.self)
                bytes = Array(text.replacingOccurrences(of: "\"format_version\" : 1,", with: "\"format_version\" : 2,").utf8)
            }
        }, mentions: ["manifest.json", "format version 2 is newer", "upgrade semid"]),
        Damage(name: "a truncated manifest", apply: { path in
            try edit(path, "manifest.json") { $0.removeLast($0.count / 2) }
        }, mentions: ["manifest.json", "not valid JSON"]),
        Damage(name: "a manifest without its shard list", apply: { path in
            try edit(path, "manifest.json") { bytes in
                var object = try! JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
                object.removeValue(forKey: "shards")
                bytes = Array(try! JSONSerialization.data(withJSONObject: object))
            }
        }, mentions: ["manifest.json", "shards", "missing"]),
        Damage(name: "the catalog is missing", apply: { path in
            try FileManager.default.removeItem(atPath: path + "/catalog.sqlite")
        }, mentions: ["catalog.sqlite", "missing"]),
        Damage(name: "the catalog is not an SQLite database", apply: { path in
            try edit(path, "catalog.sqlite") { $0.replaceSubrange(0..<16, with: Array("not a database!!".utf8)) }
        }, mentions: ["catalog.sqlite", "corrupted"]),
        Damage(name: "no manifest", apply: { path in
            try FileManager.default.removeItem(atPath: path + "/manifest.json")
        }, mentions: ["idx.semid", "not a semid index"]),
        Damage(name: "no index at all", apply: { path in
            try FileManager.default.removeItem(atPath: path)
        }, mentions: ["idx.semid", "not found"]),
    ]

    @Test("inspect and export fail cleanly on", arguments: damages)
    func damagedIndex(_ damage: Damage) throws {
        let dir = try TemporaryDirectory()
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let index = dir.file("idx.semid")
        try Semid.succeed(["build", "--embeddings", emb, "--out", index] + Fixture.smallBuild)
        try damage.apply(index)
        let before = try dir.entries()

        for arguments in [["inspect", index], ["inspect", "--json", index]] {
            Semid.expectFailure(try Semid.run(arguments), status: 1, mentions: damage.mentions)
        }
        for format in ["lcrec", "tsv", "npy"] {
            let out = dir.file("ids.\(format)")
            let result = try Semid.run(["export", index, "--format", format, "--out", out])
            Semid.expectFailure(result, status: 1, mentions: damage.mentions)
        }
        #expect(try dir.entries() == before, "export wrote nothing, not even a temporary file")
    }

    // MARK: export arguments

    @Test("export refuses an existing --out without --force, replaces it with --force")
    func exportExistingOutput() throws {
        let dir = try TemporaryDirectory()
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let index = dir.file("idx.semid")
        try Semid.succeed(["build", "--embeddings", emb, "--out", index] + Fixture.smallBuild)
        let out = try dir.write(Array("keep me\n".utf8), to: "ids.tsv")
        let refused = try Semid.run(["export", index, "--format", "tsv", "--out", out])
        Semid.expectFailure(refused, status: 1, mentions: ["ids.tsv", "already exists", "--force"])
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "keep me\n")

        try Semid.succeed(["export", index, "--format", "tsv", "--out", out, "--force"])
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("item\tsource_id\tc0\tc1\tc2\tc3\n"))
        #expect(try dir.entries() == ["emb.npy", "ids.tsv", "idx.semid"])
    }

    @Test("export rejects an unknown format with a usage error")
    func exportUnknownFormat() throws {
        let dir = try TemporaryDirectory()
        let result = try Semid.run(["export", dir.file("idx.semid"), "--format", "parquet", "--out", dir.file("x")])
        Semid.expectFailure(result, status: 2, mentions: ["--format", "parquet", "'lcrec', 'tsv', 'npy'"])
        #expect(try dir.entries().isEmpty)
    }
}
