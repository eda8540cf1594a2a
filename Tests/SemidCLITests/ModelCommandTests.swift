import Foundation
import SemidMath
import SemidStorage
import SemidTestSupport
import Testing

/// A tiny dataset, an index built from it without a model, and a trained copy; built once.
final class ModelFixture: @unchecked Sendable {
    let dir: String
    var bare: String { dir + "/bare.semid" }
    var trained: String { dir + "/trained.semid" }
    var sequences: String { dir + "/seq.tsv" }
    let itemCount = 80

    static let shared: Result<ModelFixture, Error> = Result { try ModelFixture() }

    init() throws {
        dir = NSTemporaryDirectory() + "semid-cli-model-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var rng = SeededGenerator(seed: 5)
        // 80 items in 8 clusters of 8-d embeddings.
        let centers = (0..<8).map { _ in (0..<8).map { _ in rng.nextGaussian() } }
        var values: [Float] = []
        for i in 0..<itemCount { values += centers[i % 8].map { $0 + 0.3 * rng.nextGaussian() } }
        try NpyFile.write(Matrix(rows: itemCount, cols: 8, values: values), to: dir + "/emb.npy")
        let items = (0..<itemCount).map { "{\"item\": \($0), \"source_id\": \"S\($0)\", \"title\": \"Item number \($0)\"}" }
        try (items.joined(separator: "\n") + "\n").write(toFile: dir + "/items.jsonl", atomically: true, encoding: .utf8)
        // Users walk forward through the catalog with small random steps.
        var lines: [String] = []
        for u in 0..<60 {
            var x = rng.nextInt(below: itemCount)
            var seq: [Int] = []
            let length = 5 + rng.nextInt(below: 5)
            while seq.count < length {
                if !seq.contains(x) { seq.append(x) }
                x = (x + 1 + rng.nextInt(below: 2)) % itemCount
            }
            lines.append("\(u)\t" + seq.map(String.init).joined(separator: " "))
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/seq.tsv", atomically: true, encoding: .utf8)
        try "0\t1 2 3 4 5\n1\t6 7 8 9\n2 oops no tab\n".write(toFile: dir + "/malformed.tsv", atomically: true, encoding: .utf8)
        try "0\t1 2 3 4 5\n1\t6 7 500 9 10\n".write(toFile: dir + "/unknown.tsv", atomically: true, encoding: .utf8)
        let build = try Semid.run(["build", "--embeddings", dir + "/emb.npy", "--items", dir + "/items.jsonl", "--levels", "2",
                                         "--codebook-size", "4", "--collisions", "suffix", "--seed", "1", "--out", bare])
        guard build.status == 0 else { throw FixtureError(message: "build failed: \(build.stderr)") }
        let train = try Semid.run(Self.trainArguments(index: bare, sequences: sequences, seed: 3) + ["--out", trained])
        guard train.status == 0 else { throw FixtureError(message: "train failed: \(train.stderr)") }
    }

    static func trainArguments(index: String, sequences: String, seed: Int) -> [String] {
        ["train", index, "--sequences", sequences, "--epochs", "3", "--dim", "8", "--heads", "2", "--batch", "16",
         "--seed", "\(seed)", "--warmup", "2", "--lr", "0.01", "--quiet"]
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    struct FixtureError: Error, CustomStringConvertible { var message: String; var description: String { message } }
}

@Suite("train / recommend / eval commands", .serialized)
struct ModelCommandTests {
    func fixture() throws -> ModelFixture { try ModelFixture.shared.get() }

    @Test func recommendReturnsRealItemsWithTitles() throws {
        let f = try fixture()
        let r = try Semid.run(["recommend", f.trained, "--history", "3 4 5", "--top", "5", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let results = object?["results"] as? [[String: Any]] ?? []
        #expect(results.count == 5)
        for row in results {
            let item = row["item"] as? Int ?? -1
            #expect((0..<f.itemCount).contains(item))
            #expect(row["title"] as? String == "Item number \(item)")
            #expect((row["score"] as? Double ?? 1) <= 0)
        }
        let excluded = try Semid.run(["recommend", f.trained, "--history", "3 4 5", "--top", "10", "--exclude-history", "--json"])
        let rows = ((try JSONSerialization.jsonObject(with: Data(excluded.stdout.utf8)) as? [String: Any])?["results"] as? [[String: Any]]) ?? []
        #expect(rows.count == 10)
        #expect(rows.allSatisfy { ![3, 4, 5].contains($0["item"] as? Int ?? 3) })
        let text = try Semid.run(["recommend", f.trained, "--history", "3,4,5"])
        #expect(text.status == 0 && text.stdout.contains("Item number") && text.stdout.contains("ms"))
    }

    @Test func evalReportsMetricsAndBaseline() throws {
        let f = try fixture()
        for split in ["test", "valid"] {
            let r = try Semid.run(["eval", f.trained, "--sequences", f.sequences, "--split", split, "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
            let model = object["model"] as? [String: Any] ?? [:]
            let pop = object["popularity"] as? [String: Any] ?? [:]
            #expect(model["users"] as? Int == 60)
            #expect(model["invalid"] as? Int == 0)
            #expect(pop["invalid"] as? Int == 0)
            for key in ["recall@5", "ndcg@5", "recall@10", "ndcg@10"] {
                let v = model[key] as? Double ?? -1
                #expect(v >= 0 && v <= 1, "\(key)")
            }
        }
        let text = try Semid.run(["eval", f.trained, "--sequences", f.sequences, "--k", "1,3", "--beam", "5", "--exclude-history"])
        #expect(text.status == 0 && text.stdout.contains("recall@3") && text.stdout.contains("popularity"))
    }

    @Test func lcrecInterJSONGivesTheSameEvaluation() throws {
        let f = try fixture()
        // Convert the TSV fixture to LC-Rec's {"user": [items]} layout.
        var object: [String: [Int]] = [:]
        for line in try String(contentsOfFile: f.sequences, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: "\t")
            object[String(parts[0])] = parts[1].split(separator: " ").map { Int($0)! }
        }
        let json = f.dir + "/Fixture.inter.json"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: json))
        let a = try Semid.run(["eval", f.trained, "--sequences", f.sequences, "--json", "--no-baseline"])
        let b = try Semid.run(["eval", f.trained, "--sequences", json, "--json", "--no-baseline"])
        #expect(a.status == 0 && b.status == 0, "\(b.stderr)")
        func metrics(_ text: String) -> [String: Double] {
            let o = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
            let m = o?["model"] as? [String: Any] ?? [:]
            return m.compactMapValues { $0 as? Double }.filter { $0.key != "seconds" }
        }
        #expect(!metrics(a.stdout).isEmpty)
        #expect(metrics(a.stdout) == metrics(b.stdout))
    }

    @Test func trainingIsDeterministicAndTheIndexStaysReadable() throws {
        let f = try fixture()
        var digests: [[String]] = []
        for run in 0..<2 {
            let out = f.dir + "/det\(run).semid"
            let r = try Semid.run(ModelFixture.trainArguments(index: f.bare, sequences: f.sequences, seed: 3) + ["--out", out])
            #expect(r.status == 0, "\(r.stderr)")
            let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json"))) as? [String: Any]
            let shards = manifest?["shards"] as? [[String: Any]] ?? []
            digests.append(shards.filter { ($0["array"] as? String ?? "").hasPrefix("model.") }.compactMap { $0["sha256"] as? String })
            let inspect = try Semid.run(["inspect", out])
            #expect(inspect.status == 0)
        }
        #expect(!digests[0].isEmpty)
        #expect(digests[0] == digests[1])
        // The trained fixture was written from the same seed: same weights.
        let trainedManifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: f.trained + "/manifest.json"))) as? [String: Any]
        let trainedShards = (trainedManifest?["shards"] as? [[String: Any]] ?? []).filter { ($0["array"] as? String ?? "").hasPrefix("model.") }
        #expect(trainedShards.compactMap { $0["sha256"] as? String } == digests[0])
    }

    @Test func killedTrainingLeavesTheIndexUntouched() throws {
        let f = try fixture()
        let copy = f.dir + "/killme.semid"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: f.trained, toPath: copy)
        let before = try Data(contentsOf: URL(fileURLWithPath: copy + "/manifest.json"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestPaths.semidBinary)
        p.arguments = ["train", copy, "--sequences", f.sequences, "--epochs", "100000", "--patience", "0", "--dim", "8", "--quiet"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        Thread.sleep(forTimeInterval: 1.0)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let after = try Data(contentsOf: URL(fileURLWithPath: copy + "/manifest.json"))
        #expect(before == after)
        let r = try Semid.run(["recommend", copy, "--history", "1 2", "--top", "3"])
        #expect(r.status == 0)
    }

    struct BadInput: CustomTestStringConvertible, Sendable {
        var name: String
        var arguments: @Sendable (ModelFixture) -> [String]
        var status: Int32
        var message: String
        var testDescription: String { name }
    }

    static let badInputs: [BadInput] = [
        BadInput(name: "recommend without a model", arguments: { ["recommend", $0.bare, "--history", "1 2"] }, status: 1, message: "holds no trained model"),
        BadInput(name: "eval without a model", arguments: { ["eval", $0.bare, "--sequences", $0.sequences] }, status: 1, message: "holds no trained model"),
        BadInput(name: "empty history", arguments: { ["recommend", $0.trained, "--history", " "] }, status: 2, message: "--history is empty"),
        BadInput(name: "non-numeric history", arguments: { ["recommend", $0.trained, "--history", "1 x"] }, status: 2, message: "\"x\" is not an item id"),
        BadInput(name: "unknown history item", arguments: { ["recommend", $0.trained, "--history", "1 9999"] }, status: 1, message: "item 9999 is not in the index"),
        BadInput(name: "top 0", arguments: { ["recommend", $0.trained, "--history", "1", "--top", "0"] }, status: 2, message: "--top"),
        BadInput(name: "beam below top", arguments: { ["recommend", $0.trained, "--history", "1", "--top", "5", "--beam", "3"] }, status: 2, message: "--beam 3"),
        BadInput(name: "k 0", arguments: { ["eval", $0.trained, "--sequences", $0.sequences, "--k", "0"] }, status: 2, message: "--k"),
        BadInput(name: "k not a number", arguments: { ["eval", $0.trained, "--sequences", $0.sequences, "--k", "5,x"] }, status: 2, message: "--k"),
        BadInput(name: "bad split", arguments: { ["eval", $0.trained, "--sequences", $0.sequences, "--split", "train"] }, status: 2, message: "--split"),
        BadInput(name: "malformed sequences line", arguments: { ["eval", $0.trained, "--sequences", $0.dir + "/malformed.tsv"] }, status: 1, message: "malformed.tsv:3"),
        BadInput(name: "unknown item in training sequences", arguments: { ["train", $0.bare, "--sequences", $0.dir + "/unknown.tsv", "--dry-run"] }, status: 1, message: "unknown.tsv:2: item 500 is not in the catalog"),
        BadInput(name: "heads do not divide dim", arguments: { ["train", $0.bare, "--sequences", $0.sequences, "--dim", "8", "--heads", "3"] }, status: 2, message: "--heads"),
        BadInput(name: "unknown head", arguments: { ["train", $0.bare, "--sequences", $0.sequences, "--head", "magic"] }, status: 2, message: "--head"),
        BadInput(name: "missing index", arguments: { ["train", $0.dir + "/nope.semid", "--sequences", $0.sequences] }, status: 1, message: "nope.semid"),
        BadInput(name: "embeddings with the wrong row count", arguments: { ["train", $0.bare, "--sequences", $0.sequences, "--embeddings", $0.dir + "/short.npy", "--dry-run"] }, status: 1, message: "short.npy"),
    ]

    @Test(arguments: badInputs)
    func badInput(_ c: BadInput) throws {
        let f = try fixture()
        if !FileManager.default.fileExists(atPath: f.dir + "/short.npy") {
            try NpyFile.write(Matrix(rows: 3, cols: 8), to: f.dir + "/short.npy")
        }
        let r = try Semid.run(c.arguments(f))
        #expect(r.status == c.status, "\(c.name): exit \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.contains(c.message), "\(c.name): stderr was: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count <= 3, "\(c.name): error should be short: \(r.stderr)")
    }
}
