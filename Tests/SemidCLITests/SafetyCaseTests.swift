import Foundation
import SemidIndex
import SemidStorage
import SemidTestSupport
import Testing

/// The cases of issue 16, one row each: a crafted index, a corrupted catalog, an absurd flag or a
/// misuse, and what semid must answer. A failing case must exit normally with status 1 or 2 and
/// one line on stderr naming the problem, leave both indexes of the workspace byte for byte as
/// they were and leave no staging directory behind.
@Suite("issue 16: hostile indexes, catalogs, flags and misuse (real binary)", .serialized)
struct SafetyCaseTests {
    /// One case.
    struct Case: Sendable, CustomTestStringConvertible {
        /// What the run must do.
        enum Outcome: Sendable {
            /// Exit with this status and one stderr line containing every phrase.
            case failure(Int32, [String])
            /// Exit 0.
            case success
        }

        var name: String
        /// Prepares the workspace and returns the arguments of the run.
        var prepare: @Sendable (SafetyWorkspace) throws -> [String]
        /// Shell `ulimit` commands the run starts with.
        var limits = ""
        /// Seconds after which the run counts as hung.
        var timeout = 120.0
        var outcome: Outcome
        /// Checks after the run.
        var check: @Sendable (SafetyWorkspace, CommandResult) throws -> Void = { _, _ in }
        var testDescription: String { name }
    }

    static let billion = 1_000_000_000
    static let trillion = 1_000_000_000_000

    /// The recommend arguments for `index`.
    static func recommend(_ index: String) -> [String] { ["recommend", index, "--history", "1 2 3", "--top", "3"] }

    /// A build of the fixture's embeddings with `items` (JSONL text) into `name`.
    static func build(_ w: SafetyWorkspace, items: String, out name: String) throws -> String {
        let itemsFile = try w.write(items, to: name + ".jsonl")
        try Semid.succeed(["build", "--embeddings", w.embeddings, "--items", itemsFile, "--levels", "2", "--codebook-size", "4",
                           "--out", w.file(name), "--quiet"])
        return w.file(name)
    }

    /// The fixture's catalog with `replace` applied to the lines of the given items.
    static func items(_ w: SafetyWorkspace, replacing lines: [Int: String]) -> String {
        (0..<w.itemCount).map { lines[$0] ?? "{\"item\": \($0), \"source_id\": \"S\($0)\", \"title\": \"Item \($0)\"}" }
            .joined(separator: "\n") + "\n"
    }

    /// Catalog rows 70…79 deleted in place: the manifest's checksum no longer matches.
    static func deleteCatalogRows(_ w: SafetyWorkspace) throws {
        try IndexSurgery.editCatalog(w.index, "DELETE FROM items WHERE item >= 70")
    }

    static let cases: [Case] = [
        // 3. A crafted index: shard shapes, declared sizes and manifest numbers.
        Case(name: "shard header whose shape overflows elements × width", prepare: { w throws in
            let header = IndexSurgery.shardHeader(dtype: 2, shape: [1 << 39, 1 << 23])
            try IndexSurgery.replaceShard(w.index, file: "ids-00000.zst", bytes: try Zstd.compress(header), shape: [1 << 39, 1 << 23])
            return ["inspect", w.index]
        }, outcome: .failure(1, ["ids-00000.zst", "shape"])),
        Case(name: "small shard declaring 6 GB of content (4 GB address space)", prepare: { w throws in
            let content = IndexSurgery.shardHeader(dtype: 2, shape: [80, 3]) + [UInt8](repeating: 0, count: 960)
            try IndexSurgery.replaceShard(w.index, file: "ids-00000.zst",
                                          bytes: IndexSurgery.zstdFrame(content: content, declaredSize: 6_000_000_000))
            return ["inspect", w.index]
        }, limits: "ulimit -v 4000000", outcome: .failure(1, ["ids-00000.zst", "6000000000"])),
        Case(name: "manifest codebook_size = 10^12", prepare: { w throws in
            try IndexSurgery.setManifestField(w.index, ["parameters", "codebook_size"], to: trillion)
            return ["inspect", w.index]
        }, outcome: .failure(1, ["manifest.json", "codebook_size"])),
        Case(name: "model max_history = 10^12", prepare: { w throws in
            try IndexSurgery.setManifestField(w.index, ["extensions", "model", "configuration", "max_history"], to: trillion)
            return recommend(w.index)
        }, outcome: .failure(1, ["max_history"])),
        Case(name: "manifest dimension disagrees with the codebooks", prepare: { w throws in
            try IndexSurgery.setManifestField(w.index, ["parameters", "dimension"], to: billion)
            return ["add", w.index, "--embeddings", try w.newEmbeddings(4)]
        }, outcome: .failure(1, ["dimension"])),
        Case(name: "shard row range far beyond the items", prepare: { w throws in
            try IndexSurgery.editManifest(w.index) { object in
                var shards = object["shards"] as? [[String: Any]] ?? []
                for i in shards.indices where shards[i]["file"] as? String == "ids-00000.zst" { shards[i]["rows"] = [0, trillion] }
                object["shards"] = shards
            }
            return ["inspect", w.index]
        }, outcome: .failure(1, ["ids-00000.zst", "rows"])),
        Case(name: "catalog rows deleted: export", prepare: { w throws in
            try deleteCatalogRows(w)
            return ["export", w.index, "--format", "tsv", "--out", w.file("ids.tsv")]
        }, outcome: .failure(1, ["catalog.sqlite", "checksum"])),
        Case(name: "catalog rows deleted: recommend", prepare: { w throws in
            try deleteCatalogRows(w)
            return recommend(w.index)
        }, outcome: .failure(1, ["catalog.sqlite", "checksum"])),
        Case(name: "catalog rows deleted: add", prepare: { w throws in
            try deleteCatalogRows(w)
            return ["add", w.index, "--embeddings", try w.newEmbeddings(4)]
        }, outcome: .failure(1, ["catalog.sqlite", "checksum"])),
        Case(name: "catalog rows deleted: users", prepare: { w throws in
            try deleteCatalogRows(w)
            return ["users", w.index, "--sequences", w.sequences, "--levels", "2", "--codebook-size", "4", "--quiet"]
        }, outcome: .failure(1, ["catalog.sqlite", "checksum"])),
        Case(name: "catalog rows deleted: train", prepare: { w throws in
            try deleteCatalogRows(w)
            return ModelFixture.trainArguments(index: w.index, sequences: w.sequences, seed: 1)
        }, outcome: .failure(1, ["catalog.sqlite", "checksum"])),
        Case(name: "catalog rows deleted and the manifest re-signed: export", prepare: { w throws in
            try deleteCatalogRows(w)
            try IndexSurgery.resignCatalog(w.index)
            return ["export", w.index, "--format", "tsv", "--out", w.file("ids.tsv")]
        }, outcome: .failure(1, ["catalog.sqlite", "70 items", "80"])),

        // 3. Absurd size flags and malformed values.
        Case(name: "train --max-history 10^9", prepare: { w throws in
            ["train", w.index, "--sequences", w.sequences, "--max-history", "\(billion)"]
        }, outcome: .failure(2, ["--max-history"])),
        Case(name: "train --dim 10^6", prepare: { w throws in
            ["train", w.index, "--sequences", w.sequences, "--dim", "1000000"]
        }, outcome: .failure(2, ["--dim"])),
        Case(name: "bench decode --queries 10^9", prepare: { w throws in
            ["bench", "decode", w.index, "--queries", "\(billion)"]
        }, outcome: .failure(2, ["--queries"])),
        Case(name: "build --kmeans-warmup empty", prepare: { w throws in
            ["build", "--embeddings", w.embeddings, "--levels", "2", "--codebook-size", "4", "--kmeans-warmup", "", "--out", w.file("k.semid")]
        }, outcome: .failure(2, ["--kmeans-warmup"])),
        Case(name: "build --kmeans-warmup with an empty entry", prepare: { w throws in
            ["build", "--embeddings", w.embeddings, "--levels", "2", "--codebook-size", "4", "--kmeans-warmup", "2,,4", "--out", w.file("k.semid")]
        }, outcome: .failure(2, ["--kmeans-warmup", "2,,4"])),
        Case(name: "build --kmeans-warmup above half the dimension", prepare: { w throws in
            ["build", "--embeddings", w.embeddings, "--levels", "2", "--codebook-size", "4", "--kmeans-warmup", "1000", "--out", w.file("k.semid")]
        }, outcome: .failure(2, ["--kmeans-warmup", "1000"])),
        Case(name: "negative --seed", prepare: { w throws in
            ["build", "--embeddings", w.embeddings, "--levels", "2", "--codebook-size", "4", "--seed", "-1", "--out", w.file("k.semid")]
        }, outcome: .failure(2, ["--seed", "-1"]), check: { _, r throws in
            #expect(!r.stderr.contains("Missing value"), "\(r)")
        }),
        Case(name: "negative --top", prepare: { w throws in recommend(w.index) + ["--top", "-3"] },
             outcome: .failure(2, ["--top", "-3"])),

        // 4. Symlinks, NUL, \r, and the smaller items.
        Case(name: "add through a symlinked index writes to its target", prepare: { w throws in
            try FileManager.default.createSymbolicLink(atPath: w.file("link.semid"), withDestinationPath: w.index)
            return ["add", w.file("link.semid"), "--embeddings", try w.newEmbeddings(10),
                    "--items", try w.newItems(first: 80, count: 10), "--quiet"]
        }, outcome: .success, check: { w, _ throws in
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: w.file("link.semid")) == w.index)
            #expect(try IndexStore.readManifest(at: w.index).items == 90)
            #expect(try IndexStore.open(at: w.index).catalog().count() == 90)
        }),
        Case(name: "NUL in a title and a source id is kept", prepare: { w throws in
            _ = try build(w, items: items(w, replacing: [5: "{\"item\": 5, \"source_id\": \"S\\u00005\", \"title\": \"Nul\\u0000Title\"}"]),
                          out: "nul.semid")
            return ["inspect", w.file("nul.semid")]
        }, outcome: .success, check: { w, _ throws in
            let item = try IndexStore.open(at: w.file("nul.semid")).catalog().item(5)
            #expect(item?.title == "Nul\u{0}Title")
            #expect(item?.sourceID == "S\u{0}5")
        }),
        Case(name: "TSV export escapes \\r, NUL, tabs and newlines", prepare: { w throws in
            let index = try build(w, items: items(w, replacing: [
                3: "{\"item\": 3, \"source_id\": \"a\\rb\"}", 4: "{\"item\": 4, \"source_id\": \"c\\td\\ne\\\\f\"}",
                5: "{\"item\": 5, \"source_id\": \"S\\u00005\"}",
            ]), out: "cr.semid")
            return ["export", index, "--format", "tsv", "--out", w.file("cr.tsv")]
        }, outcome: .success, check: { w, _ throws in
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: w.file("cr.tsv"))))
            #expect(!bytes.contains(0x0D) && !bytes.contains(0))
            let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
            #expect(lines.count == 81)
            #expect(lines.allSatisfy { $0.split(separator: "\t", omittingEmptySubsequences: false).count == 2 + 3 })
            #expect(lines[4].hasPrefix("3\ta\\rb\t"), "\(lines[4])")
            #expect(lines[5].hasPrefix("4\tc\\td\\ne\\\\f\t"), "\(lines[5])")
            #expect(lines[6].hasPrefix("5\tS\\05\t"), "\(lines[6])")
        }),
        Case(name: "export to a full disk leaves no temporary file", prepare: { w throws in
            ["export", w.index, "--format", "lcrec", "--out", w.file("full.json")]
        }, limits: "ulimit -f 1", outcome: .failure(1, ["full.json"]), check: { w, _ throws in
            #expect(try FileManager.default.contentsOfDirectory(atPath: w.dir).filter { $0.contains("full.json") }.isEmpty)
        }),
        Case(name: "a killed writer's staging directory is removed by the next read", prepare: { w throws in
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "/bin/true")
            try probe.run()
            probe.waitUntilExit()
            let staging = w.file(".x.semid.staging-\(probe.processIdentifier)-17")
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
            try Data(count: 4096).write(to: URL(fileURLWithPath: staging + "/ids-00000.zst"))
            return ["inspect", w.index]
        }, outcome: .success, check: { w, _ throws in
            #expect(try w.stagingLeftovers().isEmpty)
        }),
        Case(name: "export --out INDEX/manifest.json --force", prepare: { w throws in
            ["export", w.index, "--format", "lcrec", "--out", w.index + "/manifest.json", "--force"]
        }, outcome: .failure(1, ["manifest.json", "inside the index"])),
        Case(name: "export --format hf-tokens --out INDEX/manifest.json --force", prepare: { w throws in
            ["export", w.index, "--format", "hf-tokens", "--out", w.index + "/manifest.json", "--force"]
        }, outcome: .failure(1, ["manifest.json", "inside the index"])),
        Case(name: "export --format trie --out INDEX/trie --force", prepare: { w throws in
            ["export", w.index, "--format", "trie", "--out", w.index + "/trie", "--force"]
        }, outcome: .failure(1, ["trie", "inside the index"])),
        Case(name: "a FIFO in place of an input", prepare: { w throws in
            #expect(mkfifo(w.file("items.fifo"), 0o644) == 0)
            return ["build", "--embeddings", w.embeddings, "--items", w.file("items.fifo"), "--levels", "2", "--codebook-size", "4",
                    "--out", w.file("f.semid")]
        }, timeout: 20, outcome: .failure(1, ["items.fifo", "not a regular file"])),
        Case(name: "add on a full disk names the index, not its staging directory", prepare: { w throws in
            ["add", w.index, "--embeddings", try w.newEmbeddings(4), "--quiet"]
        }, limits: "ulimit -f 4", outcome: .failure(1, ["x.semid"]), check: { _, r throws in
            #expect(!r.stderr.contains(".staging-"), "\(r)")
        }),
        Case(name: "users on a full disk names the index, not its staging directory", prepare: { w throws in
            ["users", w.index, "--sequences", w.sequences, "--levels", "2", "--codebook-size", "4", "--quiet"]
        }, limits: "ulimit -f 4", outcome: .failure(1, ["x.semid"]), check: { _, r throws in
            #expect(!r.stderr.contains(".staging-"), "\(r)")
        }),
        Case(name: "train --out an existing file fails before training", prepare: { w throws in
            try w.write("keep me\n", to: "taken.txt")
            return ["train", w.index, "--sequences", w.sequences, "--epochs", "2", "--dim", "8", "--out", w.file("taken.txt")]
        }, outcome: .failure(1, ["taken.txt"]), check: { w, _ throws in
            #expect(try String(contentsOfFile: w.file("taken.txt"), encoding: .utf8) == "keep me\n")
        }),
        Case(name: "compare --out an existing file", prepare: { w throws in
            try w.write("keep me\n", to: "taken.txt")
            return ["compare", "--embeddings", w.embeddings, "--sequences", w.sequences, "--schemes", "content-rq-kmeans",
                    "--levels", "2", "--codebook-size", "4", "--epochs", "1", "--seeds", "1", "--user-tokens", "off",
                    "--out", w.file("taken.txt")]
        }, outcome: .failure(1, ["taken.txt", "not a directory"]), check: { _, r throws in
            #expect(!r.stderr.contains("NSCocoaErrorDomain") && !r.stderr.contains("couldn"), "\(r)")
        }),
        Case(name: "users --force after training with user tokens warns that the model no longer matches", prepare: { w throws in
            ["users", w.usersIndex, "--sequences", w.sequences, "--levels", "2", "--codebook-size", "4", "--seed", "5", "--force", "--quiet"]
        }, outcome: .success, check: { _, r throws in
            #expect(r.stderr.contains("warning") && r.stderr.contains("user tokens") && r.stderr.contains("semid train"), "\(r)")
        }),
    ]

    /// Crafted manifests that already gave a clean one-line error before issue 16 (their numbers
    /// were caught when the data disagreed); the errors now come from the manifest check first
    /// and name the field. Kept so that stays true.
    static let guards: [Case] = [
        Case(name: "manifest code_sizes[0] = 10^12", prepare: { w throws in
            try IndexSurgery.setManifestField(w.index, ["code_sizes", "0"], to: trillion)
            return recommend(w.index)
        }, outcome: .failure(1, ["manifest.json", "code_sizes"])),
        Case(name: "model dimension = 10^9", prepare: { w throws in
            try IndexSurgery.setManifestField(w.index, ["extensions", "model", "configuration", "dimension"], to: billion)
            return recommend(w.index)
        }, outcome: .failure(1, ["dimension"])),
        Case(name: "manifest items = 10^12", prepare: { w throws in
            try IndexSurgery.setManifestField(w.index, ["items"], to: trillion)
            return ["export", w.index, "--format", "npy", "--out", w.file("ids.npy")]
        }, outcome: .failure(1, ["manifest.json", "items"])),
        Case(name: "manifest levels = 10^6", prepare: { w throws in
            try IndexSurgery.setManifestField(w.index, ["parameters", "levels"], to: 1_000_000)
            return ["inspect", w.index]
        }, outcome: .failure(1, ["manifest.json", "levels"])),
        Case(name: "user IDs section claims 10^12 users", prepare: { w throws in
            try IndexSurgery.setManifestField(w.usersIndex, ["extensions", "users", "users"], to: trillion)
            return recommend(w.usersIndex) + ["--user", "1"]
        }, outcome: .failure(1, ["users"])),

        // 2. A corrupted catalog is refused by every command that uses it, and never re-signed.
    ]

    @Test(arguments: cases)
    func answers(_ c: Case) throws { try run(c) }

    @Test(arguments: guards)
    func stillAnswers(_ c: Case) throws { try run(c) }

    func run(_ c: Case) throws {
        let w = try SafetyWorkspace()
        let arguments = try c.prepare(w)
        let before = try (DirectorySnapshot.files(at: w.index), DirectorySnapshot.files(at: w.usersIndex))
        let result = try HostileRun.run(arguments, limits: c.limits, timeout: c.timeout)
        switch c.outcome {
        case let .failure(status, mentions):
            Semid.expectFailure(result, status: status, mentions: mentions)
            #expect(try DirectorySnapshot.files(at: w.index) == before.0, "\(c.name): the index changed")
            #expect(try DirectorySnapshot.files(at: w.usersIndex) == before.1, "\(c.name): the users index changed")
        case .success:
            #expect(result.exited && result.status == 0, "\(result)")
        }
        #expect(try w.stagingLeftovers().isEmpty)
        try c.check(w, result)
    }
}
