import Foundation
import SemidMath
import SemidQuantization
import SemidStorage
import SemidTestSupport
import Testing
@testable import SemidIndex

@Suite("IndexStore: writing and reading index directories")
struct IndexStoreTests {
    /// 60 items, 2 levels × 4 codes, suffix policy, at most 7 rows per shard.
    static func writeSmallIndex(to path: String, rowsPerShard: Int = 7) throws -> (built: SemanticIndex, manifest: IndexManifest, catalog: [CatalogItem]) {
        let (index, catalog) = try IndexFixture.build(rows: 60, levels: 2, codebookSize: 4, rowsPerShard: rowsPerShard)
        let manifest = try IndexStore.write(index, catalog: .new(catalog), to: path, overwrite: false)
        return (index, manifest, catalog)
    }

    @Test("write → open gives back the manifest, codes, IDs and quantizer; arrays span several shards")
    func roundTrip() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("small.semid")
        let (built, written, catalogRows) = try Self.writeSmallIndex(to: path)
        let opened = try IndexStore.open(at: path)

        #expect(opened.manifest == written)
        #expect(opened.rawCodes == built.rawCodes)
        #expect(opened.ids == built.ids)
        #expect(opened.ids.levels == 3 && opened.rawCodes.levels == 2 && opened.itemCount == 60)
        let q = try #require(opened.quantizer as? ResidualQuantizer)
        #expect(q == built.quantizer as? ResidualQuantizer)
        #expect(q.levels == 2 && q.codebookSizes == [4, 4] && q.inputDimension == 8)
        #expect(opened.path == path)
        // The only per-item array besides codes and IDs: each item's squared reconstruction error.
        #expect(opened.attachments.keys.sorted() == [ReconstructionErrors.itemArray])
        #expect(opened.attachments[ReconstructionErrors.itemArray] == built.attachments[ReconstructionErrors.itemArray])
        // The reopened quantizer encodes the data to the stored raw codes.
        #expect(try q.encode(IndexFixture.embeddings(rows: 60, cols: 8)) == opened.rawCodes)

        // 60 rows at 7 per shard: 9 shards per per-item array, rows [0, 7), [7, 14), …, [56, 60).
        for array in ["raw_codes", "ids"] {
            let shards = written.shards.filter { $0.array == array }
            #expect(shards.count == 9)
            #expect(shards.map(\.rows) == (0..<9).map { [7 * $0, min(60, 7 * $0 + 7)] })
            #expect(shards.map(\.file) == (0..<9).map { String(format: "%@-%05d.zst", array, $0) })
        }
        #expect(written.shards.filter { $0.array == "codebooks" }.map(\.shape) == [[2, 4, 8]])

        // Exactly the listed files, and nothing left next to the index.
        let files = Set(written.shards.map(\.file) + [IndexStore.manifestFile, IndexStore.catalogFile])
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: path)) == files)
        #expect(try directory.entries() == ["small.semid"])

        // The manifest's catalog fingerprint matches the file; the catalog holds the IDs.
        let catalogBytes = Array(try Data(contentsOf: URL(fileURLWithPath: path + "/" + IndexStore.catalogFile)))
        #expect(written.catalog.bytes == catalogBytes.count && written.catalog.sha256 == SHA256.hex(catalogBytes))
        let stored = try opened.catalog().allItems()
        #expect(stored == catalogRows)
        #expect(stored.map(\.semanticID) == (0..<60).map { Array(opened.ids.row($0)) })
    }

    @Test("an existing destination is refused without overwrite and replaced with it")
    func overwrite() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("idx")
        _ = try Self.writeSmallIndex(to: path)
        let (other, otherCatalog) = try IndexFixture.build(rows: 40, levels: 2, codebookSize: 4, policy: .none)
        let error = #expect(throws: IndexError.self) {
            try IndexStore.write(other, catalog: .new(otherCatalog), to: path, overwrite: false)
        }
        #expect(error?.description.contains("already exists") == true)
        #expect(try IndexStore.open(at: path).itemCount == 60, "the old index is untouched")

        try IndexStore.write(other, catalog: .new(otherCatalog), to: path, overwrite: true)
        let replaced = try IndexStore.open(at: path)
        #expect(replaced.itemCount == 40 && replaced.manifest.parameters.collisionPolicy == .none)
        #expect(!FileManager.default.fileExists(atPath: path + "/ids-00008.zst"), "no shard of the old index survives")
        #expect(try directory.entries() == ["idx"], "no staging directory is left behind")
    }

    @Test("a destination that is not an index is never replaced")
    func refusesToReplaceOtherDirectories() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("photos")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: path + "/holiday.jpg", contents: Data([1, 2, 3]))
        let (index, catalog) = try IndexFixture.build(rows: 40)
        #expect(throws: IndexError.self) { try IndexStore.write(index, catalog: .new(catalog), to: path, overwrite: true) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: path) == ["holiday.jpg"])
        #expect(try directory.entries() == ["photos"])
    }

    @Test("a write that fails half-way leaves neither a new index nor a staging directory, and keeps the old index")
    func failedWriteLeavesNothing() throws {
        let directory = try TemporaryDirectory()
        let (index, catalog) = try IndexFixture.build(rows: 40)
        var badCatalog = catalog
        badCatalog[20].semanticID.removeLast()  // the catalog insert fails after the shards are written
        let fresh = directory.file("fresh.semid")
        let error = #expect(throws: InputError.self) {
            try IndexStore.write(index, catalog: .new(badCatalog), to: fresh, overwrite: false)
        }
        #expect(error?.description.contains("item 20") == true)
        #expect(try directory.entries().isEmpty)

        let existing = directory.file("existing.semid")
        try IndexStore.write(index, catalog: .new(catalog), to: existing, overwrite: false)
        let before = try FileManager.default.contentsOfDirectory(atPath: existing).sorted()
        #expect(throws: InputError.self) {
            try IndexStore.write(index, catalog: .new(badCatalog), to: existing, overwrite: true)
        }
        #expect(try directory.entries() == ["existing.semid"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: existing).sorted() == before)
        #expect(try IndexStore.open(at: existing).ids == index.ids)
    }

    /// A way to damage a written index and what `open` must then say.
    struct Damage: Sendable, CustomTestStringConvertible {
        var name: String
        /// Damages the index at the given path.
        var apply: @Sendable (String) throws -> Void
        /// Phrases the error description must contain.
        var expected: [String]
        var testDescription: String { name }
    }

    /// Re-encodes `array` as shard `file` and updates its manifest entry so sizes and checksums
    /// agree: only the content is wrong.
    static func replaceShard(_ file: String, in path: String, with array: ShardArray, updateShape: Bool) throws {
        let bytes = try array.encoded()
        try FileSystem.write(bytes, to: path + "/" + file, sync: false)
        try IndexStore.editManifest(at: path) { manifest in
            let i = manifest.shards.firstIndex { $0.file == file }!
            manifest.shards[i].bytes = bytes.count
            manifest.shards[i].sha256 = SHA256.hex(bytes)
            if updateShape { manifest.shards[i].shape = array.shape }
        }
    }

    static let damages: [Damage] = [
        Damage(name: "a shard listed in the manifest is missing", apply: { path in
            try FileManager.default.removeItem(atPath: path + "/ids-00004.zst")
        }, expected: ["ids-00004.zst", "shard listed in the manifest is missing"]),
        Damage(name: "one flipped byte in a shard", apply: { path in
            var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path + "/raw_codes-00002.zst")))
            bytes[bytes.count / 2] ^= 0x40
            try FileSystem.write(bytes, to: path + "/raw_codes-00002.zst", sync: false)
        }, expected: ["raw_codes-00002.zst", "checksum mismatch"]),
        Damage(name: "a truncated shard", apply: { path in
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path + "/codebooks-00000.zst")))
            try FileSystem.write(Array(bytes.prefix(bytes.count - 10)), to: path + "/codebooks-00000.zst", sync: false)
        }, expected: ["codebooks-00000.zst", "truncated or modified"]),
        Damage(name: "a shard whose shape disagrees with its manifest entry", apply: { path in
            try replaceShard("ids-00002.zst", in: path, with: ShardArray(int32: [Int32](repeating: 0, count: 14), shape: [7, 2]), updateShape: false)
        }, expected: ["ids-00002.zst", "zstd frame declares 96 bytes of content, the manifest's shape needs 124"]),
        Damage(name: "a shard whose shape disagrees with the other shards of its array", apply: { path in
            try replaceShard("ids-00002.zst", in: path, with: ShardArray(int32: [Int32](repeating: 0, count: 14), shape: [7, 2]), updateShape: true)
        }, expected: ["ids-00002.zst", "disagree on shape"]),
        Damage(name: "a shard with the wrong element type", apply: { path in
            try replaceShard("ids-00000.zst", in: path, with: ShardArray(float32: [Float](repeating: 0, count: 21), shape: [7, 3]), updateShape: false)
        }, expected: ["ids-00000.zst", "f32", "i32"]),
        Damage(name: "the manifest's item count disagrees with the arrays", apply: { path in
            try IndexStore.editManifest(at: path) { $0.items = 61 }
        }, expected: ["raw_codes", "shape [60, 2], expected [61, 2]"]),
        Damage(name: "a gap in a shard's row ranges", apply: { path in
            try IndexStore.editManifest(at: path) { $0.shards.removeAll { $0.file == "raw_codes-00003.zst" } }
        }, expected: ["raw_codes-00004.zst", "row range"]),
        Damage(name: "a code outside its position's vocabulary", apply: { path in
            try replaceShard("ids-00000.zst", in: path, with: ShardArray(int32: [0, 0, 0, 0, 0, 99] + [Int32](repeating: 0, count: 15), shape: [7, 3]), updateShape: false)
        }, expected: ["item 1 has code 99 at position 2"]),
        Damage(name: "a manifest from a newer format version", apply: { path in
            try IndexStore.editManifest(at: path) { $0.formatVersion = IndexManifest.currentFormatVersion + 1 }
        }, expected: ["manifest.json", "format version 2 is newer", "upgrade semid"]),
        Damage(name: "a manifest that is not JSON", apply: { path in
            try FileSystem.write(Array("{\"format\": ".utf8), to: path + "/manifest.json", sync: false)
        }, expected: ["manifest.json", "not valid JSON"]),
        Damage(name: "no manifest", apply: { path in
            try FileManager.default.removeItem(atPath: path + "/manifest.json")
        }, expected: ["not a semid index"]),
    ]

    @Test("open rejects a damaged index with an error naming the file", arguments: damages)
    func damagedIndex(_ damage: Damage) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("small.semid")
        _ = try Self.writeSmallIndex(to: path)
        try damage.apply(path)
        let error = #expect(throws: (any Error).self) { try IndexStore.open(at: path) }
        let description = error.map { String(describing: $0) } ?? ""
        #expect(error is IndexError || error is InputError, "unexpected error type: \(description)")
        for phrase in damage.expected {
            #expect(description.contains(phrase), "missing \"\(phrase)\" in: \(description)")
        }
        #expect(!description.contains("\n"))
    }

    @Test("a newer format version is refused before the rest of the manifest is decoded")
    func newerVersionWithUnknownFields() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("future.semid")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        try FileSystem.write(Array(#"{"format": "semid-index", "format_version": 7, "brand_new": {"x": 1}}"#.utf8),
                             to: path + "/manifest.json", sync: false)
        let error = #expect(throws: IndexError.self) { try IndexStore.readManifest(at: path) }
        guard case let .newerFormat(_, found, supported)? = error else {
            Issue.record("expected newerFormat, got \(String(describing: error))")
            return
        }
        #expect(found == 7 && supported == IndexManifest.currentFormatVersion)
    }

    @Test("the manifest is stable JSON: encoding twice gives the same bytes, and it decodes back")
    func manifestEncoding() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("small.semid")
        let (_, written, _) = try Self.writeSmallIndex(to: path)
        let onDisk = Array(try Data(contentsOf: URL(fileURLWithPath: path + "/manifest.json")))
        #expect(try IndexStore.encodeManifest(written) == onDisk)
        #expect(try IndexStore.readManifest(at: path) == written)
        let text = String(decoding: onDisk, as: UTF8.self)
        #expect(text.contains(#""format_version" : 1"#) && text.contains(#""rows_per_shard" : 7"#))
        #expect(text.contains(#""collision_policy" : {"#))
    }
}

@Suite("IndexAdder: failures leave the index untouched")
struct IndexAdderFailureTests {
    @Test("a failure just before the swap leaves every file as it was")
    func failureBeforeSwap() throws {
        let scratch = try TemporaryDirectory()
        let dir = scratch.path
        let built = try IndexFixture.build(rows: 120, levels: 2, codebookSize: 4)
        let path = dir + "/idx.semid"
        try IndexStore.write(built.index, catalog: .new(built.catalog), to: path, overwrite: false)
        let before = try DirectorySnapshot.files(at: path)
        struct Injected: Error {}
        #expect(throws: Injected.self) {
            try IndexAdder.add(to: path, embeddings: IndexFixture.embeddings(rows: 10, cols: 8), items: nil, inputs: [],
                               refreshDerivedArrays: { _ in throw Injected() })
        }
        #expect(try DirectorySnapshot.files(at: path) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["idx.semid"])
    }
}
