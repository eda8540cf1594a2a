import Foundation
import Testing

@Suite("compare: indexing schemes side by side", .serialized)
struct CompareCommandTests {
    func fixture() throws -> ModelFixture { try ModelFixture.shared.get() }

    func arguments(_ f: ModelFixture, out: String) -> [String] {
        ["compare", "--embeddings", f.dir + "/emb.npy", "--items", f.dir + "/items.jsonl", "--sequences", f.sequences,
         "--levels", "2", "--codebook-size", "16", "--rqvae-epochs", "5", "--user-levels", "2", "--user-codebook-size", "4", "--epochs", "2", "--patience", "0",
         "--dim", "8", "--batch", "16", "--lr", "0.01", "--warmup", "2", "--seeds", "1,2", "--out", out]
    }

    @Test func everySchemeWithAndWithoutUserTokensGivesValidMetrics() throws {
        let f = try fixture()
        let out = f.dir + "/compare-json"
        let r = try Semid.run(arguments(f, out: out) + ["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try parseJSON(r.stdout) as? [[String: Any]])
        let schemes = ["random", "sequential", "content rq-kmeans", "content rq-vae", "collaborative", "hybrid"]
        #expect(rows.count == schemes.count * 2)
        #expect(rows.map { $0["scheme"] as? String ?? "" } == schemes.flatMap { [$0, $0] })
        #expect(rows.map { $0["user_tokens"] as? Bool ?? false } == Array(repeating: [false, true], count: schemes.count).flatMap { $0 })
        for row in rows {
            let name = row["scheme"] as? String ?? ""
            #expect(row["content_only"] as? Bool == name.hasPrefix("content"), "\(name)")
            #expect(row["invalid"] as? Int == 0, "\(name)")
            let recall = row["recall10"] as? [Double] ?? []
            let ndcg = row["ndcg10"] as? [Double] ?? []
            #expect(recall.count == 2 && ndcg.count == 2, "\(name): one value per seed")
            #expect(recall.allSatisfy { (0...1).contains($0) } && ndcg.allSatisfy { (0...1).contains($0) }, "\(name)")
            #expect(zip(recall, ndcg).allSatisfy { $0.1 <= $0.0 + 1e-12 }, "\(name): NDCG@10 ≤ Recall@10")
            #expect(row["epochs"] as? [Int] == [2, 2], "\(name)")
            let rate = row["raw_collision_rate"] as? Double ?? -1
            #expect((0...1).contains(rate), "\(name)")
            // Random and sequential IDs are unique by construction; the rest end unique by the suffix.
            if name == "random" || name == "sequential" { #expect(rate == 0, "\(name)") }
        }
        // Each scheme's index is kept and opens with `inspect`.
        for name in ["random", "sequential", "content-rq-kmeans", "content-rq-vae", "collaborative", "hybrid"] {
            let inspect = try Semid.run(["inspect", out + "/\(name).semid", "--json"])
            #expect(inspect.status == 0, "\(name): \(inspect.stderr)")
            let object = try parseJSON(inspect.stdout) as? [String: Any] ?? [:]
            let final = object["final"] as? [String: Any] ?? [:]
            #expect(final["collision_rate"] as? Double == 0, "\(name)")
            #expect(object["users"] != nil, "\(name): user IDs were built for the user-token runs")
        }
    }

    @Test func theTableNamesTheBestSchemeAndIsDeterministic() throws {
        let f = try fixture()
        var tables: [String] = []
        for run in 0..<2 {
            let r = try Semid.run(arguments(f, out: f.dir + "/compare-table-\(run)")
                                        + ["--schemes", "content-rq-kmeans,collaborative", "--user-tokens", "off", "--seeds", "4"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("scheme") && r.stdout.contains("R@10") && r.stdout.contains("mean of 1 seed"), "\(r.stdout)")
            #expect(!r.stdout.contains("user tokens read"), "no user-token runs: \(r.stdout)")
            #expect(r.stdout.contains("relative to the best content-only scheme (content rq-kmeans)"), "\(r.stdout)")
            // Timing columns differ between runs; the metrics must not.
            tables.append(r.stdout.split(separator: "\n").filter { $0.hasPrefix("content") || $0.hasPrefix("collab") }
                .map { $0.split(separator: " ", omittingEmptySubsequences: true).prefix(7).joined(separator: " ") }.joined(separator: "\n"))
        }
        #expect(tables[0] == tables[1] && !tables[0].isEmpty, "\(tables)")
    }

    @Test(arguments: [
        (["--schemes", "random,bogus"], "unknown scheme bogus"),
        (["--user-tokens", "maybe"], "'maybe' is invalid for '--user-tokens <user-tokens>'. Please provide one of 'off', 'on' or 'both'"),
        (["--seeds", "1,x"], "--seeds must be comma-separated integers"),
        (["--representation", "mixed"], "'mixed' is invalid for '--representation <representation>'. Please provide one of 'ids' and 'full'"),
        (["--beam", "0"], "--beam must be at least 1"),
        (["--user-token-levels", "9"], "--user-token-levels must be all or 1…3"),
        (["--user-token-dropout", "1"], "--user-token-dropout must be in [0, 1)"),
        (["--user-id-training", "leaky"], "'leaky' is invalid for '--user-id-training <user-id-training>'. Please provide one of 'causal' and 'stored'"),
        (["--kmeans-iterations", "0"], "--kmeans-iterations must be at least 1"),
        (["--user-token-levels", "all"], "causal user IDs have only the quantizer's 2 positions"),
    ])
    func badFlagsAreUsageErrors(extra: [String], message: String) throws {
        let f = try fixture()
        let r = try Semid.run(arguments(f, out: f.dir + "/compare-bad") + extra)
        Semid.expectFailure(r, status: 2, mentions: [message])
    }

    @Test func aUserCodebookLargerThanTheUsersNamesItsFlag() throws {
        let f = try fixture()
        let r = try Semid.run(arguments(f, out: f.dir + "/compare-users") + ["--user-codebook-size", "100", "--user-tokens", "on"])
        Semid.expectFailure(r, status: 1, mentions: ["--user-codebook-size 100 is larger than the 60 users"])
    }

    @Test func aMissingSequencesFileNamesIt() throws {
        let f = try fixture()
        var args = arguments(f, out: f.dir + "/compare-missing")
        if let i = args.firstIndex(of: "--sequences") { args[i + 1] = f.dir + "/nope.tsv" }
        let r = try Semid.run(args)
        Semid.expectFailure(r, status: 1, mentions: ["nope.tsv"])
    }
}
