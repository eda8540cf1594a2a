import Foundation
import SemidIndex
import SemidModel
import SemidTestSupport
import Testing

/// The fixture's bare index with user IDs (`semid users`) and a model trained with
/// `--user-tokens` on it; built once.
final class UserTokenFixture: @unchecked Sendable {
    let base: ModelFixture
    var users: String { base.dir + "/users.semid" }
    var trained: String { base.dir + "/users-trained.semid" }

    static let shared: Result<UserTokenFixture, Error> = Result { try UserTokenFixture() }

    init() throws {
        base = try ModelFixture.shared.get()
        try? FileManager.default.removeItem(atPath: users)
        try FileManager.default.copyItem(atPath: base.bare, toPath: users)
        let ids = try Semid.run(["users", users, "--sequences", base.sequences, "--levels", "2", "--codebook-size", "4", "--quiet"])
        guard ids.status == 0 else { throw ModelFixture.FixtureError(message: "users failed: \(ids.stderr)") }
        let train = try Semid.run(ModelFixture.trainArguments(index: users, sequences: base.sequences, seed: 3)
                                        + ["--user-tokens", "--out", trained])
        guard train.status == 0 else { throw ModelFixture.FixtureError(message: "train --user-tokens failed: \(train.stderr)") }
    }
}

@Suite("train --user-tokens / recommend --user / eval with user tokens", .serialized)
struct UserTokenCommandTests {
    func fixture() throws -> UserTokenFixture { try UserTokenFixture.shared.get() }

    func json(_ text: String) -> [String: Any] {
        ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? [:]
    }

    @Test func theManifestRecordsUserTokensAndInspectShowsThem() throws {
        let f = try fixture()
        let manifest = json(try String(contentsOfFile: f.trained + "/manifest.json", encoding: .utf8))
        let model = ((manifest["extensions"] as? [String: Any])?["model"] as? [String: Any]) ?? [:]
        let configuration = model["configuration"] as? [String: Any] ?? [:]
        #expect(configuration["user_tokens"] as? Bool == true)
        #expect(configuration["user_token_placement"] as? String == "prefix")
        // Causal user IDs (the default) read the quantizer's 2 levels, not the suffix.
        #expect((configuration["user_code_sizes"] as? [Int])?.count == 2)
        let training = model["training"] as? [String: Any] ?? [:]
        #expect(training["user_id_source"] as? String == "causal", "\(training)")
        let tensors = model["tensors"] as? [String] ?? []
        #expect(tensors.contains("model.user.codes.0") && tensors.contains("model.user.position"))
        let inspect = try Semid.run(["inspect", f.trained])
        #expect(inspect.status == 0 && inspect.stdout.contains("user tokens (prefix, 2 ID positions, causal in training)"), "\(inspect.stdout)")
    }

    @Test func evalUsesTheUsersAndReportsValidMetrics() throws {
        let f = try fixture()
        for extra in [[], ["--unknown-users"]] {
            let r = try Semid.run(["eval", f.trained, "--sequences", f.base.sequences, "--json"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let object = json(r.stdout)
            let model = object["model"] as? [String: Any] ?? [:]
            #expect(model["users"] as? Int == 60)
            #expect(model["invalid"] as? Int == 0)
            #expect(object["user_tokens"] as? String == (extra.isEmpty ? "ids" : "unknown"))
            for key in ["recall@10", "ndcg@10"] { #expect((0...1).contains(model[key] as? Double ?? -1), "\(key)") }
        }
        let exact = try Semid.run(["eval", f.trained, "--sequences", f.base.sequences, "--compare-exact", "--no-baseline"])
        #expect(exact.status == 0 && exact.stdout.contains("user tokens") && exact.stdout.contains("exact ranking"), "\(exact.stderr)")
    }

    @Test func recommendWithAndWithoutAUser() throws {
        let f = try fixture()
        var lists: [[Int]] = []
        for extra in [["--user", "3"], ["--user", "40"], []] {
            let r = try Semid.run(["recommend", f.trained, "--history", "3 4 5", "--top", "8", "--json"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let object = json(r.stdout)
            let rows = object["results"] as? [[String: Any]] ?? []
            #expect(rows.count == 8)
            let items = rows.map { $0["item"] as? Int ?? -1 }
            #expect(items.allSatisfy { (0..<f.base.itemCount).contains($0) } && Set(items).count == 8)
            #expect(object["user_token"] as? String == (extra.isEmpty ? "unknown" : "id"))
            lists.append(items)
        }
        let text = try Semid.run(["recommend", f.trained, "--history", "3 4 5"])
        #expect(text.status == 0 && text.stdout.contains("unknown-user token"))
    }

    /// A user who gets an ID after training (`semid users --add`) is recommended for and evaluated
    /// without retraining, and nobody else's ID changes.
    @Test func aUserAddedAfterTrainingJustWorks() throws {
        let f = try fixture()
        let copy = f.base.dir + "/users-added.semid"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: f.trained, toPath: copy)
        let extended = f.base.dir + "/seq-extended.tsv"
        let original = try String(contentsOfFile: f.base.sequences, encoding: .utf8)
        try (original + "60\t10 11 12 13 14 15\n61\t70 71 72 73 74\n").write(toFile: extended, atomically: true, encoding: .utf8)
        let before = try Semid.run(["eval", copy, "--sequences", f.base.sequences, "--json", "--no-baseline"])
        #expect(before.status == 0)
        // Before --add, user 60 is unknown to the index.
        let unknown = try Semid.run(["recommend", copy, "--history", "10 11", "--user", "60"])
        #expect(unknown.status == 1 && unknown.stderr.contains("user 60 has no user ID"), "\(unknown.stderr)")
        let evalUnknown = try Semid.run(["eval", copy, "--sequences", extended, "--no-baseline"])
        #expect(evalUnknown.status == 1 && evalUnknown.stderr.contains("user 60 has no user ID"), "\(evalUnknown.stderr)")
        let add = try Semid.run(["users", copy, "--sequences", extended, "--add"])
        #expect(add.status == 0, "\(add.stderr)")
        let r = try Semid.run(["recommend", copy, "--history", "10 11 12", "--user", "61", "--top", "5", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect((json(r.stdout)["results"] as? [[String: Any]])?.count == 5)
        let e = try Semid.run(["eval", copy, "--sequences", extended, "--json", "--no-baseline"])
        #expect(e.status == 0, "\(e.stderr)")
        let model = json(e.stdout)["model"] as? [String: Any] ?? [:]
        #expect(model["users"] as? Int == 62 && model["invalid"] as? Int == 0)
        // The old users' metrics are unchanged by the addition.
        let after = try Semid.run(["eval", copy, "--sequences", f.base.sequences, "--json", "--no-baseline"])
        func metrics(_ text: String) -> [String: Double] {
            ((json(text)["model"] as? [String: Any]) ?? [:]).compactMapValues { $0 as? Double }.filter { $0.key != "seconds" }
        }
        #expect(!metrics(before.stdout).isEmpty && metrics(before.stdout) == metrics(after.stdout))
    }

    /// A model stored before user tokens existed still loads: the shipped Beauty index with the
    /// settings that came with user tokens removed from its manifest, as older semid wrote it.
    @Test func anOlderStoredModelStillLoads() throws {
        let shipped = PackagePaths.path("Codebooks/beauty.semid")
        let dir = try TemporaryDirectory()
        let old = dir.file("old.semid")
        try FileManager.default.copyItem(atPath: shipped, toPath: old)
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: old + "/manifest.json")))
            as? [String: Any] ?? [:]
        var extensions = manifest["extensions"] as? [String: Any] ?? [:]
        var model = extensions["model"] as? [String: Any] ?? [:]
        var configuration = model["configuration"] as? [String: Any] ?? [:]
        var training = model["training"] as? [String: Any] ?? [:]
        for key in ["user_tokens", "user_token_placement", "user_code_sizes", "user_token_dropout"] { configuration[key] = nil }
        training["user_id_source"] = nil
        model["configuration"] = configuration
        model["training"] = training
        extensions["model"] = model
        manifest["extensions"] = extensions
        try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: old + "/manifest.json"))
        #expect(!(try String(contentsOfFile: old + "/manifest.json", encoding: .utf8)).contains("user_tokens"))
        let r = try Semid.run(["recommend", old, "--history", "1 2 3", "--top", "3", "--user", "5"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("--user has no effect"))
    }

    /// Causal user IDs built from `--item-embeddings` need the same file at training time; a
    /// different file or none is a clear error, and `--user-id-training stored` needs neither.
    @Test func causalUserIDsNeedTheirItemVectors() throws {
        let f = try fixture()
        let index = f.base.dir + "/users-embedded.semid"
        try? FileManager.default.removeItem(atPath: index)
        try FileManager.default.copyItem(atPath: f.base.bare, toPath: index)
        let embeddings = f.base.dir + "/emb.npy"
        let ids = try Semid.run(["users", index, "--sequences", f.base.sequences, "--item-embeddings", embeddings,
                                 "--levels", "2", "--codebook-size", "4", "--quiet"])
        #expect(ids.status == 0, "\(ids.stderr)")
        let train = ModelFixture.trainArguments(index: index, sequences: f.base.sequences, seed: 3) + ["--user-tokens", "--dry-run", "--epochs", "1"]
        let missing = try Semid.run(train)
        #expect(missing.status == 1 && missing.stderr.contains("give that file as --user-item-embeddings"), "\(missing.stderr)")
        let other = f.base.dir + "/emb-other.npy"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: embeddings))
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: other))
        let wrong = try Semid.run(train + ["--user-item-embeddings", other])
        #expect(wrong.status == 1 && wrong.stderr.contains("is not the file the user IDs were built from"), "\(wrong.stderr)")
        let right = try Semid.run(train + ["--user-item-embeddings", embeddings])
        #expect(right.status == 0, "\(right.stderr)")
        let stored = try Semid.run(train + ["--user-id-training", "stored"])
        #expect(stored.status == 0, "\(stored.stderr)")
    }

    /// With `sinkhorn` user IDs (the policy rewrites the last level of colliding users), a model
    /// trained on causal user IDs reads the quantizer's raw codes at inference, as in training.
    @Test func causalModelsReadRawUserCodes() throws {
        let f = try fixture()
        let index = f.base.dir + "/users-sinkhorn.semid"
        let trained = f.base.dir + "/users-sinkhorn-trained.semid"
        for path in [index, trained] { try? FileManager.default.removeItem(atPath: path) }
        try FileManager.default.copyItem(atPath: f.base.bare, toPath: index)
        let ids = try Semid.run(["users", index, "--sequences", f.base.sequences, "--levels", "2", "--codebook-size", "16",
                                 "--collisions", "sinkhorn", "--quiet"])
        #expect(ids.status == 0, "\(ids.stderr)")
        let stored = try #require(try UserIDs.load(from: IndexStore.open(at: index)))
        #expect(stored.ids.levels == 2 && stored.ids != stored.rawCodes, "sinkhorn moved some users")
        let train = try Semid.run(ModelFixture.trainArguments(index: index, sequences: f.base.sequences, seed: 3)
                                  + ["--user-tokens", "--out", trained])
        #expect(train.status == 0, "\(train.stderr)")
        let opened = try TrainedIndex.open(trained)
        #expect(opened.users?.codes == stored.rawCodes.values)
        #expect(opened.users?.codeSizes == [16, 16])
    }

    struct BadInput: CustomTestStringConvertible, Sendable {
        var name: String
        var arguments: @Sendable (UserTokenFixture) throws -> [String]
        var status: Int32
        var message: String
        var testDescription: String { name }
    }

    static let badInputs: [BadInput] = [
        BadInput(name: "--user-tokens on an index without user IDs",
                 arguments: { ["train", $0.base.bare, "--sequences", $0.base.sequences, "--user-tokens", "--dry-run", "--epochs", "1"] },
                 status: 1, message: "has no user IDs; run `semid users"),
        BadInput(name: "--user-tokens with a user that has no ID", arguments: { f in
            let path = f.base.dir + "/seq-new-user.tsv"
            let text = try String(contentsOfFile: f.base.sequences, encoding: .utf8) + "60\t1 2 3 4 5\n"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return ["train", f.users, "--sequences", path, "--user-tokens", "--dry-run", "--epochs", "1"]
        }, status: 1, message: "user 60 of"),
        BadInput(name: "recommend --user unknown", arguments: { ["recommend", $0.trained, "--history", "1 2", "--user", "999"] },
                 status: 1, message: "--user: user 999 has no user ID"),
        BadInput(name: "recommend --user negative", arguments: { ["recommend", $0.trained, "--history", "1 2", "--user=-4"] },
                 status: 2, message: "--user"),
        BadInput(name: "bad placement", arguments: { ["train", $0.users, "--sequences", $0.base.sequences, "--user-tokens", "--user-token-placement", "middle"] },
                 status: 2, message: "--user-token-placement"),
        BadInput(name: "too many user-token levels", arguments: { ["train", $0.users, "--sequences", $0.base.sequences, "--user-tokens", "--user-token-levels", "9", "--dry-run"] },
                 status: 1, message: "--user-token-levels must be in 1…2 with causal user IDs"),
        BadInput(name: "too many user-token levels, stored IDs", arguments: { ["train", $0.users, "--sequences", $0.base.sequences, "--user-tokens", "--user-id-training", "stored", "--user-token-levels", "4", "--dry-run"] },
                 status: 1, message: "--user-token-levels must be in 1…3 (the user IDs have 3 positions"),
        BadInput(name: "unknown --user-id-training", arguments: { ["train", $0.users, "--sequences", $0.base.sequences, "--user-tokens", "--user-id-training", "future"] },
                 status: 2, message: "is invalid for '--user-id-training <user-id-training>'. Please provide one of 'causal' and 'stored'"),
        BadInput(name: "--user-item-embeddings when the IDs used decoded codes", arguments: { f in
            ["train", f.users, "--sequences", f.base.sequences, "--user-tokens", "--user-item-embeddings", f.base.dir + "/emb.npy", "--dry-run", "--epochs", "1"]
        }, status: 1, message: "were built from the index's decoded item codes; leave it out"),
        BadInput(name: "--user-item-embeddings with stored user IDs", arguments: { f in
            ["train", f.users, "--sequences", f.base.sequences, "--user-tokens", "--user-id-training", "stored", "--user-item-embeddings", f.base.dir + "/emb.npy"]
        }, status: 2, message: "read only with --user-tokens and causal user IDs"),
        BadInput(name: "--user-embeddings when the IDs used none", arguments: { f in
            ["train", f.users, "--sequences", f.base.sequences, "--user-tokens", "--user-embeddings", f.base.dir + "/emb.npy", "--dry-run", "--epochs", "1"]
        }, status: 1, message: "built without per-user text embeddings"),
    ]

    @Test(arguments: badInputs)
    func badInput(_ c: BadInput) throws {
        let f = try fixture()
        let r = try Semid.run(try c.arguments(f))
        #expect(r.status == c.status, "\(c.name): exit \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.contains(c.message), "\(c.name): stderr was: \(r.stderr)")
        // Failures of the inputs are one line; usage errors (exit 2) may add ArgumentParser's usage hint.
        #expect(r.stderr.split(separator: "\n").count <= (c.status == 1 ? 1 : 3), "\(c.name): error should be one line: \(r.stderr)")
    }
}
