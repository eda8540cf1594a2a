import Foundation
import SemidMath
import SemidTestSupport
import Testing

/// Same inputs and seed, same index: whatever the BLAS thread count (`OPENBLAS_NUM_THREADS`) and the
/// number of semid's own workers (`SEMID_NUM_THREADS`), each set for one child process only. (The
/// BLAS kernel is not varied here, because tests never set `OPENBLAS_CORETYPE`; `make
/// bench-portable` builds under every kernel the CPU runs.)
@Suite("reproducible builds (real binary)")
struct ReproducibilityTests {
    static let settings: [[String: String]] = [
        ["OPENBLAS_NUM_THREADS": "1", "SEMID_NUM_THREADS": "1"],
        ["OPENBLAS_NUM_THREADS": "2", "SEMID_NUM_THREADS": "2"],
        ["OPENBLAS_NUM_THREADS": "1", "SEMID_NUM_THREADS": "4"],
    ]

    /// 3000 × 48 clustered vectors: large enough for several GEMM blocks, the principal-subspace
    /// warm-up, Hartigan moves and real collisions.
    static func dataset(in dir: borrowing TemporaryDirectory) throws -> String {
        let values = SyntheticData.clusteredValues(rows: 3000, cols: 48, clusters: 400, noise: 0.3, seed: 9)
        return try dir.write(NpyBytes.file(shape: [3000, 48], payload: NpyBytes.bytes(float32: values)), to: "emb.npy")
    }

    @Test("every file of the index is identical for 1 or 2 BLAS threads and 1, 2 or 4 workers",
          arguments: [["--collisions", "suffix"], ["--collisions", "sinkhorn"]])
    func identicalIndexes(policy: [String]) throws {
        let dir = try TemporaryDirectory()
        let emb = try Self.dataset(in: dir)
        var snapshots: [[String: [UInt8]]] = []
        for (n, environment) in Self.settings.enumerated() {
            let out = dir.file("run\(n).semid")
            try Semid.succeed(["build", "--embeddings", emb, "--levels", "3", "--codebook-size", "32", "--seed", "3",
                               "--out", out, "--quiet"] + policy, environment: environment)
            snapshots.append(try DirectorySnapshot.files(at: out))
        }
        #expect(snapshots[0].keys.contains("ids-00000.zst"))
        for n in 1..<snapshots.count {
            #expect(snapshots[n].keys.sorted() == snapshots[0].keys.sorted())
            for (name, bytes) in snapshots[0] {
                #expect(snapshots[n][name] == bytes, "\(name) differs under \(Self.settings[n])")
            }
        }
    }

    @Test("the bundled Beauty build gives the same IDs and codebooks with 1 and 2 threads",
          .enabled(if: TestPaths.beauty != nil))
    func beautyIsIdentical() throws {
        guard let beauty = TestPaths.beauty else { return }
        let dir = try TemporaryDirectory()
        var snapshots: [[String: [UInt8]]] = []
        for (n, environment) in [Self.settings[0], Self.settings[1]].enumerated() {
            let out = dir.file("beauty\(n).semid")
            try Semid.succeed(["build", "--embeddings", beauty.embeddings, "--levels", "3", "--codebook-size", "256",
                               "--collisions", "suffix", "--seed", "7", "--out", out, "--quiet"], environment: environment)
            snapshots.append(try DirectorySnapshot.files(at: out))
        }
        for name in ["ids-00000.zst", "raw_codes-00000.zst", "codebooks-00000.zst", "manifest.json"] {
            #expect(snapshots[1][name] == snapshots[0][name], "\(name) differs between 1 and 2 threads")
        }
    }

    @Test("verify: the index re-encodes to its codes; other embeddings or a wrong count fail clearly")
    func verify() throws {
        let dir = try TemporaryDirectory()
        let emb = try Self.dataset(in: dir)
        let out = dir.file("v.semid")
        try Semid.succeed(["build", "--embeddings", emb, "--levels", "3", "--codebook-size", "32", "--seed", "3",
                           "--out", out, "--quiet"])
        let passed = try Semid.succeed(["verify", out, "--embeddings", emb])
        #expect(passed.stdout.contains("the input of batch 0"))
        #expect(passed.stdout.contains("3000 reproduce their stored raw codes"))
        let json = try parseJSON(try Semid.succeed(["verify", out, "--embeddings", emb, "--json"]).stdout) as? [String: Any]
        #expect(json?["reproduced"] as? Int == 3000 && json?["items"] as? Int == 3000)

        // Five rows moved far away: they cannot keep their codes.
        var values = SyntheticData.clusteredValues(rows: 3000, cols: 48, clusters: 400, noise: 0.3, seed: 9)
        for row in 0..<5 { for t in 0..<48 { values[row * 48 + t] = 40 + Float(t) } }
        let other = try dir.write(NpyBytes.file(shape: [3000, 48], payload: NpyBytes.bytes(float32: values)), to: "other.npy")
        let failed = try Semid.run(["verify", out, "--embeddings", other])
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("not an input recorded in the manifest"))
        #expect(failed.stdout.contains("item 0: stored"))
        #expect(failed.stderr.contains("of 3000 items re-encode to other raw codes"))

        let short = try dir.write(NpyBytes.file(shape: [10, 48], payload: NpyBytes.bytes(float32: Array(values[0..<480]))), to: "short.npy")
        Semid.expectFailure(try Semid.run(["verify", out, "--embeddings", short]), status: 1,
                            mentions: ["10 rows", "3000 items"])
        Semid.expectFailure(try Semid.run(["verify", out]), status: 2, mentions: ["--embeddings"])
    }

    /// 1500 items in 30 clusters (32-d) and 800 users walking through the catalog: large enough for
    /// OpenBLAS to split its products across threads (which changes their last bits).
    static func modelDataset(in dir: borrowing TemporaryDirectory) throws -> (embeddings: String, sequences: String) {
        let values = SyntheticData.clusteredValues(rows: 1500, cols: 32, clusters: 30, noise: 0.3, seed: 13)
        let embeddings = try dir.write(NpyBytes.file(shape: [1500, 32], payload: NpyBytes.bytes(float32: values)), to: "emb.npy")
        var rng = SeededGenerator(seed: 14)
        var lines: [String] = []
        for user in 0..<800 {
            var x = rng.nextInt(below: 1500)
            var items: [Int] = []
            let length = 8 + rng.nextInt(below: 8)
            while items.count < length {
                if !items.contains(x) { items.append(x) }
                x = (x + 1 + rng.nextInt(below: 3)) % 1500
            }
            lines.append("\(user)\t" + items.map(String.init).joined(separator: " "))
        }
        let sequences = try dir.write(Array((lines.joined(separator: "\n") + "\n").utf8), to: "seq.tsv")
        return (embeddings, sequences)
    }

    @Test("a trained model and an RQ-VAE are identical for 1 or 2 BLAS threads and 1, 2 or 4 workers")
    func identicalTraining() throws {
        let dir = try TemporaryDirectory()
        let (emb, seq) = try Self.modelDataset(in: dir)
        let base = dir.file("base.semid")
        try Semid.succeed(["build", "--embeddings", emb, "--levels", "2", "--codebook-size", "64", "--seed", "1",
                           "--out", base, "--quiet"])
        var models: [[String: [UInt8]]] = [], vaes: [[String: [UInt8]]] = []
        for (n, environment) in Self.settings.enumerated() {
            let out = dir.file("model\(n).semid")
            try Semid.succeed(["train", base, "--sequences", seq, "--epochs", "1", "--seed", "2", "--out", out, "--quiet"],
                              environment: environment)
            models.append(try DirectorySnapshot.files(at: out))
            let vae = dir.file("vae\(n).semid")
            try Semid.succeed(["build", "--method", "rq-vae", "--embeddings", emb, "--levels", "2", "--codebook-size", "32",
                               "--epochs", "3", "--batch", "256", "--seed", "4", "--out", vae, "--quiet"], environment: environment)
            vaes.append(try DirectorySnapshot.files(at: vae))
        }
        #expect(models[0].keys.contains("model.item_vectors-00000.zst"))
        for n in 1..<Self.settings.count {
            for (name, bytes) in models[0] { #expect(models[n][name] == bytes, "model: \(name) differs under \(Self.settings[n])") }
            for (name, bytes) in vaes[0] { #expect(vaes[n][name] == bytes, "rq-vae: \(name) differs under \(Self.settings[n])") }
        }
    }
}
