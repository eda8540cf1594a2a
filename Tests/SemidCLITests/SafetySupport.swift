import Foundation
import SemidMath
import SemidStorage
import SemidTestSupport
import Testing

// Helpers for the safety tests of issue 16: a scratch copy of the fixture indexes, hand edits of
// an index (manifest fields, shards with valid checksums, catalog rows), and `semid` runs under
// resource limits, with a timeout, or in the background.

/// A scratch directory with copies of the fixture indexes (`x.semid`: a trained model, no user
/// IDs; `u.semid`: user IDs and a model trained with `--user-tokens`) and their inputs.
final class SafetyWorkspace: @unchecked Sendable {
    /// The directory, removed when the workspace goes away.
    let dir: String
    /// The fixture the copies come from.
    let base: UserTokenFixture
    /// The copy of the trained index (80 items, 2 levels × 4 codes + suffix, a model).
    var index: String { dir + "/x.semid" }
    /// The copy of the index with user IDs and a user-token model.
    var usersIndex: String { dir + "/u.semid" }
    /// The fixture's sequences (60 users).
    var sequences: String { base.base.sequences }
    /// The fixture's embeddings (80 × 8).
    var embeddings: String { base.base.dir + "/emb.npy" }
    /// The fixture's item count.
    var itemCount: Int { base.base.itemCount }

    init() throws {
        base = try UserTokenFixture.shared.get()
        dir = NSTemporaryDirectory() + "semid-safety-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: base.base.trained, toPath: index)
        try FileManager.default.copyItem(atPath: base.trained, toPath: usersIndex)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    /// The path of `name` in the workspace.
    func file(_ name: String) -> String { dir + "/" + name }

    /// Writes `text` to `name` and returns its path.
    @discardableResult
    func write(_ text: String, to name: String) throws -> String {
        try text.write(toFile: file(name), atomically: true, encoding: .utf8)
        return file(name)
    }

    /// Embeddings (`.npy`, 8 columns) of `count` new items, seeded by `seed`.
    @discardableResult
    func newEmbeddings(_ count: Int, seed: UInt64 = 9, name: String = "new.npy") throws -> String {
        var rng = SeededGenerator(seed: seed)
        let values = (0..<(count * 8)).map { _ in rng.nextGaussian() }
        try NpyFile.write(Matrix(rows: count, cols: 8, values: values), to: file(name))
        return file(name)
    }

    /// A JSONL catalog of items `first ..< first + count` with source ids `<prefix><id>`.
    @discardableResult
    func newItems(first: Int, count: Int, prefix: String = "N", name: String = "new.jsonl") throws -> String {
        let lines = (first..<(first + count)).map { "{\"item\": \($0), \"source_id\": \"\(prefix)\($0)\", \"title\": \"New \($0)\"}\n" }
        return try write(lines.joined(), to: name)
    }

    /// Hidden staging directories (`.NAME.staging-*`) left in the workspace.
    func stagingLeftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".staging-") }
    }
}

/// Hand edits of an index directory, as an attacker or a broken tool would make them: the
/// checksums in the manifest are kept valid, so only semid's own bounds checks stand in the way.
enum IndexSurgery {
    /// The parsed `manifest.json` of `index`.
    static func manifest(_ index: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: index + "/manifest.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Rewrites `manifest.json` of `index` after `edit`.
    static func editManifest(_ index: String, _ edit: (inout [String: Any]) throws -> Void) throws {
        var object = try manifest(index)
        try edit(&object)
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: index + "/manifest.json"))
    }

    /// Sets the value at `path` (object keys, or decimal indexes into arrays) in `object`.
    static func set(_ value: Any, at path: [String], in object: inout [String: Any]) {
        guard let first = path.first else { return }
        if path.count == 1 { object[first] = value; return }
        if var child = object[first] as? [String: Any] {
            set(value, at: Array(path.dropFirst()), in: &child)
            object[first] = child
        } else if var array = object[first] as? [Any], let i = Int(path[1]), array.indices.contains(i) {
            if path.count == 2 {
                array[i] = value
            } else if var element = array[i] as? [String: Any] {
                set(value, at: Array(path.dropFirst(2)), in: &element)
                array[i] = element
            }
            object[first] = array
        }
    }

    /// Sets one manifest field of `index`.
    static func setManifestField(_ index: String, _ path: [String], to value: Any) throws {
        try editManifest(index) { set(value, at: path, in: &$0) }
    }

    /// Replaces shard `file` of `index` by `bytes` and records their size and SHA-256 (and, when
    /// given, `shape`) in the manifest, so the file passes the checksum test.
    static func replaceShard(_ index: String, file: String, bytes: [UInt8], shape: [Int]? = nil) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: index + "/" + file))
        try editManifest(index) { object in
            var shards = object["shards"] as? [[String: Any]] ?? []
            for i in shards.indices where shards[i]["file"] as? String == file {
                shards[i]["bytes"] = bytes.count
                shards[i]["sha256"] = SHA256.hex(bytes)
                if let shape { shards[i]["shape"] = shape }
            }
            object["shards"] = shards
        }
    }

    /// Records the catalog's current size and SHA-256 in the manifest of `index`.
    static func resignCatalog(_ index: String) throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: index + "/catalog.sqlite")))
        try editManifest(index) { object in
            object["catalog"] = ["file": "catalog.sqlite", "bytes": bytes.count, "sha256": SHA256.hex(bytes)]
        }
    }

    /// Runs `sql` on the catalog of `index` (in place, leaving the manifest alone).
    static func editCatalog(_ index: String, _ sql: String) throws {
        let database = try SQLiteDatabase(path: index + "/catalog.sqlite", mode: .readWrite)
        try database.execute(sql)
    }

    /// The 24-byte `SEMIDARR` shard header for `dtype` (1 = f32, 2 = i32, …) and `shape`.
    static func shardHeader(dtype: UInt32, shape: [UInt64]) -> [UInt8] {
        var bytes = Array("SEMIDARR".utf8)
        for word in [UInt32(1), dtype, UInt32(shape.count), 0] { bytes += withUnsafeBytes(of: word.littleEndian, Array.init) }
        for s in shape { bytes += withUnsafeBytes(of: s.littleEndian, Array.init) }
        return bytes
    }

    /// A zstd frame of one raw block holding `content` whose header declares `declaredSize` bytes
    /// of content (which may be a lie).
    static func zstdFrame(content: [UInt8], declaredSize: UInt64) -> [UInt8] {
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]  // magic 0xFD2FB528
        frame.append(0xE0)                            // 8-byte content size, single segment, no checksum
        frame += withUnsafeBytes(of: declaredSize.littleEndian, Array.init)
        let blockHeader = UInt32(content.count) << 3 | 1  // raw block, last
        frame += [UInt8(blockHeader & 0xFF), UInt8((blockHeader >> 8) & 0xFF), UInt8((blockHeader >> 16) & 0xFF)]
        return frame + content
    }
}

/// `semid` runs with resource limits, a timeout, or several at once.
enum HostileRun {
    /// Runs `semid arguments…` through bash after `limits` (e.g. `ulimit -f 16`), with SIGXFSZ
    /// ignored so a file-size limit shows up as a failing write (as on a full disk); kills the
    /// run after `timeout` seconds (the result then has `exited == false`).
    static func run(_ arguments: [String], limits: String = "", timeout: Double = 120,
                    directory: String? = nil) throws -> CommandResult {
        let process = try start(arguments, limits: limits, directory: directory)
        return process.wait(timeout: timeout)
    }

    /// Starts `semid arguments…` in the background.
    static func start(_ arguments: [String], limits: String = "", directory: String? = nil) throws -> Background {
        let scratch = NSTemporaryDirectory() + "semid-run-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let outPath = scratch + "/stdout", errPath = scratch + "/stderr"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        if limits.isEmpty {
            process.executableURL = URL(fileURLWithPath: TestPaths.semidBinary)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", "\(limits); trap '' XFSZ; exec \"$0\" \"$@\"", TestPaths.semidBinary] + arguments
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        return Background(process: process, scratch: scratch)
    }

    /// A `semid` process running in the background.
    final class Background: @unchecked Sendable {
        let process: Process
        let scratch: String
        init(process: Process, scratch: String) {
            self.process = process
            self.scratch = scratch
        }

        /// The process id.
        var pid: Int32 { process.processIdentifier }

        /// What the process has written to stderr so far.
        var stderrSoFar: String {
            (try? String(contentsOfFile: scratch + "/stderr", encoding: .utf8)) ?? ""
        }

        /// Waits for the process (killing it after `timeout` seconds) and collects its output.
        func wait(timeout: Double = 300) -> CommandResult {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            let timedOut = process.isRunning
            if timedOut { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let out = (try? String(contentsOfFile: scratch + "/stdout", encoding: .utf8)) ?? ""
            var err = (try? String(contentsOfFile: scratch + "/stderr", encoding: .utf8)) ?? ""
            if timedOut { err += "\n(killed after \(timeout) s: the command hung)" }
            return CommandResult(status: process.terminationStatus, exited: !timedOut && process.terminationReason == .exit,
                                 stdout: out, stderr: err)
        }
    }
}
