import Foundation
import SemidIndex
import SemidMath
import SemidQuantization
import SemidStorage
import SemidTestSupport
import Testing

/// `--codebook-size 16,8,4`: a different codebook size at every level, end to end.
@Suite("per-level codebook sizes (real binary)")
struct PerLevelSizesTests {
    static let sizes = [16, 8, 4]

    /// The parsed `manifest.json` of the index at `path`.
    static func manifestJSON(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path + "/manifest.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    @Test("a 16,8,4 build: unique IDs, every level's codes below its size, per-level sizes in the manifest, inspect, export and verify")
    func nonUniformBuild() throws {
        let dir = try TemporaryDirectory()
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let items = try dir.write(Fixture.itemsFile, to: "items.jsonl")
        let out = dir.file("nu.semid")
        let built = try Semid.succeed(["build", "--embeddings", emb, "--items", items, "--codebook-size", "16,8,4",
                                       "--seed", "3", "--out", out])
        #expect(built.stdout.contains("3 levels of 16/8/4 codes"), "\(built.stdout)")

        let index = try IndexStore.open(at: out)
        #expect(index.manifest.parameters.codebookSizes == Self.sizes)
        #expect(Array(index.manifest.codeSizes.prefix(3)) == Self.sizes && index.ids.levels == 4)
        #expect((index.quantizer as? ResidualQuantizer)?.codebooks.map(\.rows) == Self.sizes)
        for i in 0..<index.itemCount {
            for (l, k) in Self.sizes.enumerated() {
                #expect((0..<Int32(k)).contains(index.rawCodes[i, l]), "item \(i) level \(l)")
                #expect(index.ids[i, l] == index.rawCodes[i, l])
            }
        }
        #expect(Set((0..<index.itemCount).map { Array(index.ids.row($0)) }).count == index.itemCount)
        // Every code of every level is used (300 clustered rows, at most 16 codes a level).
        for (l, k) in Self.sizes.enumerated() {
            #expect(Set((0..<index.itemCount).map { index.rawCodes[$0, l] }).count == k)
        }

        // The manifest: codebook_sizes, no codebook_size; the codebooks array [ΣK, d].
        let parameters = try Self.manifestJSON(out)["parameters"] as? [String: Any] ?? [:]
        #expect(parameters["codebook_sizes"] as? [Int] == Self.sizes && parameters["codebook_size"] == nil)
        #expect(parameters["levels"] as? Int == 3)
        let shards = try Self.manifestJSON(out)["shards"] as? [[String: Any]] ?? []
        #expect(shards.first { $0["array"] as? String == "codebooks" }?["shape"] as? [Int] == [28, Fixture.cols])

        // inspect: per-level sizes in the JSON and the table.
        let report = try JSONSerialization.jsonObject(with: Data(try Semid.succeed(["inspect", out, "--json"]).stdout.utf8)) as? [String: Any] ?? [:]
        #expect(report["codebook_sizes"] as? [Int] == Self.sizes && report["codebook_size"] == nil)
        #expect((report["per_level"] as? [[String: Any]])?.map { $0["codebook_size"] as? Int } == Self.sizes.map(Optional.some))
        let text = try Semid.succeed(["inspect", out]).stdout
        #expect(text.contains("3 levels of 16/8/4 codes"))

        // export: the trie export and the token vocabulary follow the per-level sizes.
        let trieDir = dir.file("trie")
        try Semid.succeed(["export", out, "--format", "trie", "--out", trieDir])
        let trie = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: trieDir + "/trie.json"))) as? [String: Any] ?? [:]
        #expect((trie["code_sizes"] as? [Int]).map { Array($0.prefix(3)) } == Self.sizes)
        let tokens = dir.file("tokens.json")
        try Semid.succeed(["export", out, "--format", "hf-tokens", "--out", tokens])
        let vocabulary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tokens)))
        let count = (vocabulary as? [Any])?.count ?? ((vocabulary as? [String: Any])?["tokens"] as? [Any])?.count
        #expect(count == index.manifest.codeSizes.reduce(0, +), "one token per code of every position")

        // verify re-encodes every item with the stored quantizer.
        let verify = try Semid.succeed(["verify", out, "--embeddings", emb])
        #expect(verify.stdout.contains("300 reproduce their stored raw codes"), "\(verify.stdout)")

        // The same inputs and seed give the same bytes.
        let again = dir.file("again.semid")
        try Semid.succeed(["build", "--embeddings", emb, "--items", items, "--codebook-size", "16,8,4",
                           "--seed", "3", "--out", again, "--quiet"])
        #expect(try DirectorySnapshot.files(at: out) == DirectorySnapshot.files(at: again))
    }

    @Test("add to a 16,8,4 index keeps every existing ID and gives new items unique IDs")
    func addKeepsIDs() throws {
        let dir = try TemporaryDirectory()
        let cols = Fixture.cols, first = 250
        let head = try dir.write(NpyBytes.float32(Array(Fixture.embeddings[0..<(first * cols)]), rows: first, cols: cols), to: "old.npy")
        let tail = try dir.write(NpyBytes.float32(Array(Fixture.embeddings[(first * cols)...]), rows: Fixture.rows - first, cols: cols), to: "new.npy")
        let out = dir.file("nu.semid")
        try Semid.succeed(["build", "--embeddings", head, "--codebook-size", "16,8,4", "--out", out, "--quiet"])
        let before = try IndexStore.open(at: out)
        try Semid.succeed(["add", out, "--embeddings", tail, "--quiet"])
        let after = try IndexStore.open(at: out)
        #expect(after.itemCount == Fixture.rows && after.manifest.parameters.codebookSizes == Self.sizes)
        for i in 0..<first { #expect(after.ids.row(i) == before.ids.row(i)) }
        #expect(Set((0..<after.itemCount).map { Array(after.ids.row($0)) }).count == Fixture.rows)
        for i in first..<Fixture.rows {
            for (l, k) in Self.sizes.enumerated() { #expect((0..<Int32(k)).contains(after.rawCodes[i, l])) }
        }
    }

    @Test("rq-vae and random IDs take per-level sizes too")
    func otherMethods() throws {
        let dir = try TemporaryDirectory()
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let vae = dir.file("vae.semid")
        try Semid.succeed(["build", "--embeddings", emb, "--method", "rq-vae", "--codebook-size", "16,8", "--epochs", "2",
                           "--hidden", "32", "--latent-dim", "8", "--batch", "64", "--seed", "2", "--out", vae, "--quiet"])
        let v = try IndexStore.open(at: vae)
        #expect(v.manifest.parameters.codebookSizes == [16, 8] && v.quantizer.codebookSizes == [16, 8])
        #expect(v.manifest.parameters.rqvae?.codebookSizes == [16, 8])
        let rqvae = try Self.manifestJSON(vae)["parameters"].flatMap { ($0 as? [String: Any])?["rqvae"] as? [String: Any] } ?? [:]
        #expect(rqvae["codebook_sizes"] as? [Int] == [16, 8] && rqvae["codebook_size"] == nil)
        for i in 0..<v.itemCount { #expect(v.rawCodes[i, 0] < 16 && v.rawCodes[i, 1] < 8) }
        try Semid.succeed(["verify", vae, "--embeddings", emb])

        let random = dir.file("random.semid")
        try Semid.succeed(["build", "--embeddings", emb, "--method", "random", "--codebook-size", "32,8,2", "--out", random, "--quiet"])
        let r = try IndexStore.open(at: random)
        #expect(r.manifest.codeSizes == [32, 8, 2])
        #expect(Set((0..<r.itemCount).map { Array(r.ids.row($0)) }).count == r.itemCount)
        for i in 0..<r.itemCount { #expect(r.ids[i, 0] < 32 && r.ids[i, 1] < 8 && r.ids[i, 2] < 2) }
        let tooSmall = try Semid.run(["build", "--embeddings", emb, "--method", "random", "--codebook-size", "8,4,2",
                                      "--out", dir.file("small.semid"), "--quiet"])
        Semid.expectFailure(tooSmall, status: 1, mentions: ["8/4/2", "64 items", "300"])
    }

    @Test("bad --codebook-size lists give errors naming the flags", arguments: [
        (["--codebook-size", "16,8"], ["--levels", "3"], ["--codebook-size", "exactly 3 sizes", "--levels 3", "got 2"]),
        (["--codebook-size", "16,1,4"], [], ["--codebook-size", "at least 2", "level 2"]),
        (["--codebook-size", "16,70000"], [], ["--codebook-size", "at most 65536", "level 2"]),
        (["--codebook-size", "16,,4"], [], ["--codebook-size", "16,,4"]),
        (["--codebook-size", "16,x"], [], ["--codebook-size", "16,x"]),
        (["--codebook-size", "16,400,4"], [], ["emb.npy", "300 rows", "--codebook-size 400"]),
    ])
    func badLists(sizes: [String], levels: [String], mentions: [String]) throws {
        let dir = try TemporaryDirectory()
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let r = try Semid.run(["build", "--embeddings", emb, "--out", dir.file("x.semid"), "--quiet"] + sizes + levels)
        Semid.expectFailure(r, status: mentions.contains("emb.npy") ? 1 : 2, mentions: mentions)
        #expect(!FileManager.default.fileExists(atPath: dir.file("x.semid")))
    }

    @Test("--levels with a list of the same length, and one value with --levels, are accepted")
    func levelsRule() throws {
        let dir = try TemporaryDirectory()
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        try Semid.succeed(["build", "--embeddings", emb, "--levels", "3", "--codebook-size", "16,8,4", "--out", dir.file("a.semid"), "--quiet"])
        #expect(try IndexStore.open(at: dir.file("a.semid")).manifest.parameters.codebookSizes == Self.sizes)
        try Semid.succeed(["build", "--embeddings", emb, "--levels", "2", "--codebook-size", "8", "--out", dir.file("b.semid"), "--quiet"])
        let b = try IndexStore.open(at: dir.file("b.semid"))
        #expect(b.manifest.parameters.codebookSizes == [8, 8])
        // A uniform build still writes the single codebook_size (the bytes of earlier indexes).
        let parameters = try Self.manifestJSON(dir.file("b.semid"))["parameters"] as? [String: Any] ?? [:]
        #expect(parameters["codebook_size"] as? Int == 8 && parameters["codebook_sizes"] == nil)
    }

    @Test("user IDs with per-level sizes, and a model trained on a 8,4 index recommends real items")
    func usersAndModel() throws {
        let f = try ModelFixture.shared.get()
        let dir = try TemporaryDirectory()
        let index = dir.file("nu.semid")
        try Semid.succeed(["build", "--embeddings", f.dir + "/emb.npy", "--items", f.dir + "/items.jsonl",
                           "--codebook-size", "8,4", "--seed", "1", "--out", index, "--quiet"])
        let users = try Semid.succeed(["users", index, "--sequences", f.sequences, "--codebook-size", "8,4,2", "--quiet"])
        _ = users
        let opened = try IndexStore.open(at: index)
        let section = try #require(try UserIDs.load(from: opened))
        #expect(section.section.configuration.codebookSizes == [8, 4, 2] && section.quantizer.codebookSizes == [8, 4, 2])
        for u in 0..<section.section.users {
            #expect(section.rawCodes[u, 0] < 8 && section.rawCodes[u, 1] < 4 && section.rawCodes[u, 2] < 2)
        }
        let trained = dir.file("trained.semid")
        try Semid.succeed(ModelFixture.trainArguments(index: index, sequences: f.sequences, seed: 3) + ["--out", trained])
        let r = try Semid.succeed(["recommend", trained, "--history", "3 4 5", "--top", "10", "--json"])
        let results = ((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["results"] as? [[String: Any]]) ?? []
        #expect(results.count == 10)
        let items = results.compactMap { $0["item"] as? Int }
        #expect(items.count == 10 && Set(items).count == 10 && items.allSatisfy { (0..<f.itemCount).contains($0) })
    }
}
