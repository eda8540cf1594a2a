import Foundation
import SemidIndex
import SemidTestSupport
import Testing

/// `semid users` and `build --source/--method` baselines through the real binary.
@Suite("semid users and ID sources (real binary)")
struct UsersCommandTests {
    /// A TSV of `users` histories of 6 items over the fixture's 300 items.
    static func sequences(users: Int, length: Int = 6) -> [UInt8] {
        var lines = ""
        for u in 0..<users {
            let items = (0..<length).map { (u * 7 + $0 * 13) % Fixture.rows }
            lines += "\(u)\t" + items.map(String.init).joined(separator: " ") + "\n"
        }
        return Array(lines.utf8)
    }

    static func index(_ dir: borrowing TemporaryDirectory) throws -> String {
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let out = dir.file("idx.semid")
        try Semid.succeed(["build", "--embeddings", emb, "--out", out] + Fixture.smallBuild)
        return out
    }

    @Test("users get unique IDs, stored in the catalog and reported by inspect")
    func usersRoundTrip() throws {
        let dir = try TemporaryDirectory()
        let index = try Self.index(dir)
        let seq = try dir.write(Self.sequences(users: 120), to: "seq.tsv")
        let result = try Semid.succeed(["users", index, "--sequences", seq, "--levels", "2", "--codebook-size", "8", "--quiet"])
        #expect(result.stdout.contains("120 users"))
        let opened = try IndexStore.open(at: index)
        let users = try #require(try UserIDs.load(from: opened))
        #expect(Set((0..<120).map { Array(users.ids.row($0)) }).count == 120)
        #expect(try opened.catalog().allUsers().map(\.semanticID) == (0..<120).map { Array(users.ids.row($0)) })
        let json = try Semid.succeed(["inspect", index, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let usersReport = try #require(object["users"] as? [String: Any])
        #expect(usersReport["items"] as? Int == 120)
        #expect((usersReport["final"] as? [String: Any])?["collision_rate"] as? Double == 0)
        // A second run without --add or --force is refused; --add with the same users adds nothing.
        Semid.expectFailure(try Semid.run(["users", index, "--sequences", seq]), status: 1, mentions: ["already has user IDs"])
        #expect(try Semid.succeed(["users", index, "--sequences", seq, "--add"]).stdout.contains("nothing to add"))
    }

    struct BadCase: CustomTestStringConvertible, Sendable {
        var name: String
        var arguments: [String]
        var files: [String: [UInt8]]
        var status: Int32
        var mentions: [String]
        var testDescription: String { name }
    }

    static let badCases: [BadCase] = [
        BadCase(name: "user embeddings whose row count disagrees with the users",
                arguments: ["users", "@idx", "--sequences", "@seq.tsv", "--user-embeddings", "@u.npy"],
                files: ["seq.tsv": sequences(users: 10),
                        "u.npy": NpyBytes.file(shape: [9, 4], payload: NpyBytes.bytes(float32: [Float](repeating: 0.5, count: 36)))],
                status: 1, mentions: ["u.npy", "9 rows", "10 users"]),
        BadCase(name: "a user with an empty training history",
                arguments: ["users", "@idx", "--sequences", "@seq.tsv"],
                files: ["seq.tsv": Array("0\t1 2 3 4\n1\t5 6\n".utf8)],
                status: 1, mentions: ["user 1 has no training items"]),
        BadCase(name: "an unknown --source",
                arguments: ["build", "--embeddings", "@emb.npy", "--source", "telepathy", "--out", "@new.semid"],
                files: [:], status: 2, mentions: ["--source", "telepathy"]),
        BadCase(name: "collaborative IDs without sequences",
                arguments: ["build", "--embeddings", "@emb.npy", "--source", "collaborative", "--out", "@new.semid", "--quiet"],
                files: [:], status: 1, mentions: ["--sequences"]),
        BadCase(name: "sequences that mention an unknown item",
                arguments: ["users", "@idx", "--sequences", "@seq.tsv"],
                files: ["seq.tsv": Array("0\t1 2 3 400\n".utf8)],
                status: 1, mentions: ["seq.tsv:1", "item 400"]),
    ]

    @Test("bad input to users and to ID sources is refused clearly", arguments: badCases)
    func rejects(_ c: BadCase) throws {
        let dir = try TemporaryDirectory()
        let index = try Self.index(dir)
        _ = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        for (name, bytes) in c.files { try dir.write(bytes, to: name) }
        let before = try DirectorySnapshot.files(at: index)
        let arguments = c.arguments.map { $0 == "@idx" ? index : ($0.hasPrefix("@") ? dir.file(String($0.dropFirst())) : $0) }
        Semid.expectFailure(try Semid.run(arguments), status: c.status, mentions: c.mentions)
        #expect(try DirectorySnapshot.files(at: index) == before)
        #expect(!FileManager.default.fileExists(atPath: dir.file("new.semid")))
    }

    @Test("random, sequential, collaborative and hybrid indexes build and decode to unique IDs",
          arguments: [["--method", "random", "--collisions", "none"], ["--method", "sequential", "--collisions", "none"],
                      ["--source", "collaborative", "--collaborative-dim", "8"], ["--source", "hybrid", "--collaborative-dim", "8"]])
    func sources(_ extra: [String]) throws {
        let dir = try TemporaryDirectory()
        let emb = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let seq = try dir.write(Self.sequences(users: 200, length: 8), to: "seq.tsv")
        let out = dir.file("idx.semid")
        try Semid.succeed(["build", "--embeddings", emb, "--sequences", seq, "--out", out] + Fixture.smallBuild + extra)
        let opened = try IndexStore.open(at: out)
        #expect(Set((0..<Fixture.rows).map { Array(opened.ids.row($0)) }).count == Fixture.rows)
        #expect(opened.attachments["trie.leaf_items"] != nil, "a decoding trie is stored")
    }
}
