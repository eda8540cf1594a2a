import Foundation
import SemidIndex
import SemidQuantization
import SemidStorage
import SemidTestSupport
import Testing

@Suite("semid build (real binary)")
struct BuildCommandTests {
    @Test("the semid binary is found next to the test runner and runs")
    func binaryRuns() throws {
        #expect(FileManager.default.isExecutableFile(atPath: TestPaths.semidBinary), "not found: \(TestPaths.semidBinary)")
        let result = try Semid.succeed(["--version"])
        #expect(result.stdout.hasPrefix("semid \(SemidVersion.current)\n"))
        #expect(result.stdout.contains("BLAS: OpenBLAS"))
    }

    @Test("a build with items writes a complete index and prints its report")
    func buildWithItems() throws {
        let dir = try TemporaryDirectory()
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let items = try dir.write(Fixture.itemsFile, to: "items.jsonl")
        let out = dir.file("out.semid")
        let result = try Semid.succeed(["build", "--embeddings", emb, "--items", items, "--out", out] + Fixture.smallBuild)
        #expect(result.stdout.contains("wrote \(out)"))
        #expect(result.stdout.contains("final      300 distinct IDs, collision rate 0.00%"))
        #expect(result.stderr.isEmpty, "no progress output when stderr is not a terminal: \(result.stderr)")
        #expect(try dir.entries() == ["emb.npy", "items.jsonl", "out.semid"])

        let index = try IndexStore.open(at: out)
        #expect(index.itemCount == 300 && index.ids.levels == 4)
        #expect(index.manifest.parameters.levels == 3 && index.manifest.parameters.codebookSizes == [8, 8, 8])
        #expect(index.manifest.batches[0].inputs.map(\.role) == ["embeddings", "items"])
        #expect(index.manifest.batches[0].inputs.map(\.file) == ["emb.npy", "items.jsonl"])
        let catalog = try index.catalog().allItems()
        #expect(catalog.map(\.id) == Array(0..<300))
        #expect(catalog.map(\.title) == (0..<300).map { "Item \($0)" })
        #expect(catalog.map(\.sourceID) == (0..<300).map { "S\($0)" })
        #expect(catalog.map(\.semanticID) == (0..<300).map { Array(index.ids.row($0)) })
    }

    @Test("build without --items: items 0…n−1, untitled, without source ids")
    func buildWithoutItems() throws {
        let dir = try TemporaryDirectory()
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let out = dir.file("bare.semid")
        try Semid.succeed(["build", "--embeddings", emb, "--out", out, "--collisions", "suffix"] + Fixture.smallBuild)
        let index = try IndexStore.open(at: out)
        #expect(index.manifest.batches[0].inputs.map(\.role) == ["embeddings"])
        let catalog = try index.catalog().allItems()
        #expect(catalog.map(\.id) == Array(0..<300))
        #expect(catalog.allSatisfy { $0.title == nil && $0.sourceID == nil })
        #expect(Set(catalog.map(\.semanticID)).count == 300)

        let tsv = dir.file("bare.tsv")
        try Semid.succeed(["export", out, "--format", "tsv", "--out", tsv])
        let lines = try String(contentsOfFile: tsv, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 301)
        #expect(lines[1].hasPrefix("0\t\t"), "empty source_id column: \(lines[1])")
    }

    @Test("same inputs and seed give a byte-identical index; several shards per array")
    func deterministicSynthetic() throws {
        let dir = try TemporaryDirectory()
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let items = try dir.write(Fixture.itemsFile, to: "items.jsonl")
        let flags = ["--embeddings", emb, "--items", items, "--seed", "11", "--rows-per-shard", "64"] + Fixture.smallBuild
        try Semid.succeed(["build", "--out", dir.file("a.semid")] + flags)
        try Semid.succeed(["build", "--out", dir.file("b.semid")] + flags)
        let a = try DirectorySnapshot.files(at: dir.file("a.semid"))
        let b = try DirectorySnapshot.files(at: dir.file("b.semid"))
        #expect(a.keys.sorted() == b.keys.sorted())
        #expect(a.keys.contains("ids-00004.zst") && a.keys.contains("catalog.sqlite") && a.keys.contains("manifest.json"))
        for name in a.keys.sorted() {
            #expect(a[name] == b[name], "\(name) differs between two builds with the same seed")
        }
    }

    @Test("a different seed gives different codebooks")
    func seedMatters() throws {
        let dir = try TemporaryDirectory()
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        try Semid.succeed(["build", "--embeddings", emb, "--out", dir.file("s1"), "--seed", "1"] + Fixture.smallBuild)
        try Semid.succeed(["build", "--embeddings", emb, "--out", dir.file("s2"), "--seed", "2"] + Fixture.smallBuild)
        let q1 = try #require(IndexStore.open(at: dir.file("s1")).quantizer as? ResidualQuantizer)
        let q2 = try #require(IndexStore.open(at: dir.file("s2")).quantizer as? ResidualQuantizer)
        #expect(q1.codebooks != q2.codebooks)
        #expect(q1.codebooks.map(\.rows) == [8, 8, 8] && q2.codebooks.map(\.rows) == [8, 8, 8])
        #expect(try IndexStore.readManifest(at: dir.file("s2")).parameters.seed == 2)
    }

    @Test("an existing --out is refused without --force and left untouched")
    func refusesExistingOutput() throws {
        let dir = try TemporaryDirectory()
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let out = dir.file("out.semid")
        try Semid.succeed(["build", "--embeddings", emb, "--out", out] + Fixture.smallBuild)
        let before = try DirectorySnapshot.files(at: out)
        let result = try Semid.run(["build", "--embeddings", emb, "--out", out, "--seed", "5"] + Fixture.smallBuild)
        Semid.expectFailure(result, status: 1, mentions: ["out.semid", "already exists", "--force"])
        #expect(try DirectorySnapshot.files(at: out) == before)
        #expect(try dir.entries() == ["emb.npy", "out.semid"])
    }

    @Test("--force replaces an existing index completely")
    func forceReplaces() throws {
        let dir = try TemporaryDirectory()
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let out = dir.file("out.semid")
        try Semid.succeed(["build", "--embeddings", emb, "--out", out, "--rows-per-shard", "50"] + Fixture.smallBuild)
        #expect(FileManager.default.fileExists(atPath: out + "/ids-00005.zst"))
        try Semid.succeed(["build", "--embeddings", emb, "--out", out, "--force", "--levels", "2", "--codebook-size", "4",
                           "--collisions", "none", "--quiet"])
        let index = try IndexStore.open(at: out)
        #expect(index.manifest.parameters.levels == 2 && index.manifest.parameters.codebookSizes == [4, 4])
        #expect(index.manifest.parameters.collisionPolicy == .none && index.ids.levels == 2)
        #expect(!FileManager.default.fileExists(atPath: out + "/ids-00005.zst"), "old shards are gone")
        #expect(try dir.entries() == ["emb.npy", "out.semid"], "no staging or old directory left next to it")
    }

    @Test("--force never replaces something that is not an index")
    func forceKeepsOtherFiles() throws {
        let dir = try TemporaryDirectory()
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let notes = try dir.write(Array("my notes\n".utf8), to: "notes.txt")
        let result = try Semid.run(["build", "--embeddings", emb, "--out", notes, "--force"] + Fixture.smallBuild)
        Semid.expectFailure(result, status: 1, mentions: ["notes.txt", "not a semid index"])
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "my notes\n")
        #expect(try dir.entries() == ["emb.npy", "notes.txt"])
    }
}
