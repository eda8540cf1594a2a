import Foundation
import SemidTestSupport
import Testing

/// `semid plan` through the real binary: the table, the JSON, determinism and bad flags.
@Suite("semid plan")
struct PlanCommandTests {
    @Test("prints a table per shape and level and a recommendation; --json has the plan's fields; same seed, same output")
    func plans() throws {
        let dir = try TemporaryDirectory()
        let embeddings = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let arguments = ["plan", "--embeddings", embeddings, "--shapes", "2x4,3x8,2x16", "--sample", "200", "--seed", "3", "--items", "100000", "--quiet"]
        let table = try Semid.succeed(arguments)
        #expect(table.stdout.contains("300 × 16 embeddings; sample 200 rows (seed 3); estimates at N = 100000 items"), "\(table)")
        for shape in ["2x4", "3x8", "2x16"] { #expect(table.stdout.contains(shape)) }
        #expect(table.stdout.contains("recommended: "))
        #expect(try Semid.succeed(arguments).stdout == table.stdout, "same seed, same plan")

        let json = try Semid.succeed(arguments + ["--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["rows"] as? Int == 300 && object["sample"] as? Int == 200 && object["items"] as? Int == 100_000)
        let candidates = try #require(object["candidates"] as? [[String: Any]])
        #expect(candidates.map { $0["shape"] as? String } == ["2x4", "3x8", "2x16"])
        let levels = try #require(candidates[1]["levels"] as? [[String: Any]])
        #expect(levels.count == 3)
        let prefixes = levels.compactMap { $0["sample_distinct_prefixes"] as? Int }
        #expect(prefixes.count == 3 && prefixes == prefixes.sorted() && (prefixes.last ?? 0) <= 200)
        let rates = candidates.compactMap { $0["estimated_collision_rate"] as? Double }
        #expect(rates.count == 3 && rates.allSatisfy { (0...1).contains($0) })
        // 16 codes × 2 levels hold at most 256 IDs: 100,000 items must collide almost surely.
        #expect(rates[2] > 0.99)
        let recommended = try #require(object["recommended"] as? Int)
        #expect((0..<3).contains(recommended))

        let other = try Semid.succeed(["plan", "--embeddings", embeddings, "--shapes", "2x4,3x8,2x16", "--sample", "200", "--seed", "4", "--items", "100000", "--quiet"])
        #expect(other.stdout.contains("(seed 4)"))
    }

    @Test("bad flags name the flag and the value")
    func errors() throws {
        let dir = try TemporaryDirectory()
        let embeddings = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        for (shapes, mention) in [("3x0", "'3x0'"), ("abc", "'abc'"), ("3x70000", "65536"), ("2x4,", "''")] {
            Semid.expectFailure(try Semid.run(["plan", "--embeddings", embeddings, "--shapes", shapes]), status: 2, mentions: ["--shapes", mention])
        }
        Semid.expectFailure(try Semid.run(["plan", "--embeddings", embeddings, "--shapes", "2x256", "--sample", "100"]), status: 2,
                            mentions: ["--shapes", "256", "--sample", "100"])
        Semid.expectFailure(try Semid.run(["plan", "--embeddings", embeddings, "--shapes", "2x4", "--max-collision-rate", "2"]), status: 2,
                            mentions: ["--max-collision-rate", "2"])
        Semid.expectFailure(try Semid.run(["plan", "--embeddings", embeddings, "--shapes", "2x4", "--items", "0"]), status: 2,
                            mentions: ["--items", "0"])
        Semid.expectFailure(try Semid.run(["plan", "--embeddings", dir.file("missing.npy")]), status: 1, mentions: ["missing.npy"])
    }
}

/// `semid build` warns on stderr about a level that barely splits the groups of the levels before it.
@Suite("semid build: near-degenerate levels")
struct DegenerateLevelWarningTests {
    @Test("duplicated vectors make level 2 near-degenerate: build warns, naming the level and the numbers")
    func warns() throws {
        let dir = try TemporaryDirectory()
        // 4 distinct 8-d vectors, each repeated 16 times: level 1 separates them, level 2 cannot add any prefix.
        var values: [Float] = []
        for copy in 0..<64 {
            let cluster = copy % 4
            values += (0..<8).map { Float(($0 == cluster ? 4 : 0) + ($0 == cluster + 4 ? 1 : 0)) }
        }
        let embeddings = try dir.write(NpyBytes.file(shape: [64, 8], payload: NpyBytes.bytes(float32: values)), to: "dup.npy")
        let built = try Semid.succeed(["build", "--embeddings", embeddings, "--levels", "2", "--codebook-size", "4",
                                       "--collisions", "suffix", "--out", dir.file("dup.semid"), "--quiet"])
        #expect(built.stderr.contains("warning: level 2 (4 codes) is near-degenerate: 4 distinct prefixes after it (from 4 after level 1)"), "\(built)")
        #expect(!built.stderr.contains("level 1 (4 codes) is near-degenerate"))

        let clean = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let fine = try Semid.succeed(["build", "--embeddings", clean, "--levels", "2", "--codebook-size", "4",
                                      "--out", dir.file("fine.semid"), "--quiet"])
        #expect(!fine.stderr.contains("near-degenerate"), "\(fine)")
    }
}
