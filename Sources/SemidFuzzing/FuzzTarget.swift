import Foundation
import SemidIndex
import SemidModel
import SemidStorage

/// The readers of untrusted bytes, as libFuzzer targets: each takes any bytes and must return
/// (a thrown error is a correct answer) without trapping, hanging or allocating without bound.
///
/// Run them with `make fuzz` (libFuzzer, `semid-fuzz`), replay files with
/// `semid-fuzz replay TARGET FILE…`; `SemidFuzzingTests` replays the seed corpora and every
/// input a run found (`Fuzz/corpus/TARGET/`, `Fuzz/regressions/TARGET/`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `.npy` header and data: ``NpyFile/readMatrix(at:)`` and ``NpyFile/readInt32Matrix(at:)``.
    case npy
    /// Item catalogs: JSON Lines and LC-Rec `*.item.json` (``ItemCatalogFile/read(at:)``).
    case items
    /// User sequences: TSV and LC-Rec `*.inter.json` (``SequenceFile/read(at:itemCount:)``).
    case sequences
    /// `manifest.json`: ``IndexStore/decodeManifest(_:file:)`` with the bounds checks, and the
    /// model and user-ID sections it may hold.
    case manifest
    /// The shard decoder: ``ShardArray/init(decoding:source:expected:)`` with and without the
    /// manifest's shape, and the typed element accessors.
    case shard
    /// Opening a catalog and running every query on it (``Catalog``).
    case catalog

    /// Runs the target on `bytes`; a thrown error is a correct answer to bad input, so it only
    /// decides the result: `true` when the input was read as valid.
    @discardableResult
    public func run(_ bytes: [UInt8]) -> Bool {
        do {
            switch self {
            case .npy: try Self.npy(bytes)
            case .items: try Self.items(bytes)
            case .sequences: try Self.sequences(bytes)
            case .manifest: try Self.manifest(bytes)
            case .shard: try Self.shard(bytes)
            case .catalog: try Self.catalog(bytes)
            }
            return true
        } catch {
            return false
        }
    }

    /// Whether the target reads `bytes` as valid input (seed corpora should have some that are,
    /// so the fuzzer starts from inputs that reach past the first check).
    public func accepts(_ bytes: [UInt8]) -> Bool { run(bytes) }

    // MARK: Targets

    static func npy(_ bytes: [UInt8]) throws {
        let path = try Scratch.shared.write(bytes, as: "input.npy")
        let float = try? NpyFile.readMatrix(at: path)
        let int = try? NpyFile.readInt32Matrix(at: path)
        if float == nil && int == nil { throw FuzzRejection() }
    }

    static func items(_ bytes: [UInt8]) throws {
        var accepted = false
        for name in ["items.jsonl", "items.item.json"] {
            let path = try Scratch.shared.write(bytes, as: name)
            if let records = try? ItemCatalogFile.read(at: path) {
                accepted = true
                _ = try? ItemCatalogFile.validateDense(records, startingAt: 0, source: path)
            }
        }
        if !accepted { throw FuzzRejection() }
    }

    static func sequences(_ bytes: [UInt8]) throws {
        var accepted = false
        for name in ["sequences.tsv", "sequences.inter.json"] {
            let path = try Scratch.shared.write(bytes, as: name)
            if (try? SequenceFile.read(at: path)) != nil { accepted = true }
            _ = try? SequenceFile.read(at: path, itemCount: 100)
        }
        if !accepted { throw FuzzRejection() }
    }

    static func manifest(_ bytes: [UInt8]) throws {
        let manifest = try IndexStore.decodeManifest(bytes, file: "manifest.json")
        if let model = manifest.extensions?[StoredModel.extensionKey] {
            let summary = try model.decode(ModelSummary.self, source: "extensions.model")
            try summary.configuration.validateStored(source: "extensions.model.configuration")
            try summary.training.validate()
        }
        if let users = manifest.extensions?[UserIDs.extensionKey] {
            let section = try users.decode(UserIDSection.self, source: "extensions.users")
            try section.validate(source: "extensions.users")
        }
        _ = try IndexStore.encodeManifest(manifest)
    }

    static func shard(_ bytes: [UInt8]) throws {
        // The first byte picks the dtype and shape a manifest would expect (or none).
        let expected: (ShardDType, [Int])?
        switch bytes.first.map({ $0 % 4 }) {
        case 1: expected = (.int32, [80, 3])
        case 2: expected = (.float32, [2, 4, 8])
        case 3: expected = (.uint16, [7])
        default: expected = nil
        }
        let frame = Array(bytes.dropFirst())
        let array = try ShardArray(decoding: frame, source: "shard.zst", expected: expected)
        // A shard that decodes must decode the same with its own shape expected, and be refused
        // when the manifest expects one more row.
        let again = try ShardArray(decoding: frame, source: "shard.zst", expected: (array.dtype, array.shape))
        precondition(again == array, "a shard decodes differently with its own shape expected")
        if let rows = array.shape.first {
            let other = [rows + 1] + array.shape.dropFirst()
            precondition((try? ShardArray(decoding: frame, source: "shard.zst", expected: (array.dtype, other))) == nil,
                         "a shard was accepted for a shape it does not have")
        }
        _ = array.elementCount
        _ = try? array.float32Values(source: "shard.zst")
        _ = try? array.int32Values(source: "shard.zst")
        _ = try? array.uint16Values(source: "shard.zst")
        _ = try? array.int64Values(source: "shard.zst")
        _ = try? array.uint8Values(source: "shard.zst")
        let decoded = try ShardArray(decoding: try array.encoded(), source: "shard.zst")
        precondition(decoded == array, "a shard does not survive re-encoding")
    }

    static func catalog(_ bytes: [UInt8]) throws {
        let path = try Scratch.shared.write(bytes, as: "catalog.sqlite")
        let catalog = try Catalog.open(at: path)
        _ = try? catalog.count()
        _ = try? catalog.allItems()
        _ = try? catalog.item(0)
        _ = try? catalog.items(withPrefix: [0], limit: 5)
        _ = try? catalog.titles(of: [0, 1, 2])
        _ = try? catalog.userIDLength()
        _ = try? catalog.allUsers()
    }
}

/// The input was refused by every reader the target tried.
struct FuzzRejection: Error {}

/// One scratch directory per process for the targets that read files.
final class Scratch: @unchecked Sendable {
    static let shared = Scratch()
    let directory: String

    private init() {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        directory = base + "/semid-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.shared.directory) }
    }

    /// Writes `bytes` to `name` in the scratch directory and returns its path.
    func write(_ bytes: [UInt8], as name: String) throws -> String {
        let path = directory + "/" + name
        try FileSystem.write(bytes, to: path, sync: false)
        return path
    }
}
