import Foundation
import SemidMath
import SemidQuantization
import SemidStorage

/// Reads and writes index directories:
///
/// ```
/// beauty.semid/
///   manifest.json          format version, parameters, seed, input fingerprints, shard list
///   catalog.sqlite         items: id, source id, title, semantic ID (by column c0, c1, …)
///   codebooks-00000.zst    quantizer arrays
///   raw_codes-00000.zst    [items, levels] int32, at most rows_per_shard rows per shard
///   ids-00000.zst          [items, id_length] int32
/// ```
///
/// Writes go to a staging directory that is renamed into place; reads verify every shard's size
/// and SHA-256 against the manifest and refuse newer format versions.
public enum IndexStore {
    /// The manifest's file name.
    public static let manifestFile = "manifest.json"
    /// The catalog's file name.
    public static let catalogFile = "catalog.sqlite"

    /// How the catalog of a written index is produced.
    public enum CatalogContent {
        /// A new catalog with these rows.
        case new([CatalogItem])
        /// A copy of the catalog at `path` with these rows added.
        case extending(path: String, adding: [CatalogItem])
        /// A copy of the catalog at `path`, changed by `edit` (e.g. to store user IDs).
        case edited(path: String, edit: (Catalog) throws -> Void)
    }

    // MARK: Writing

    /// Writes `index` to `destination` atomically. `manifest.shards` and `manifest.catalog` are
    /// filled in here. Fails if `destination` exists unless `overwrite` is set; on any failure the
    /// previous content of `destination` is untouched.
    @discardableResult
    public static func write(_ index: SemanticIndex, catalog: CatalogContent, to destination: String,
                             overwrite: Bool, progress: ProgressHandler? = nil) throws -> IndexManifest {
        if FileSystem.exists(destination) && !overwrite {
            throw IndexError.outputExists(path: destination)
        }
        if FileSystem.exists(destination) && !FileSystem.isDirectory(destination) {
            throw IndexError.inconsistentInput("\(destination) exists and is not an index directory; refusing to replace it")
        }
        if FileSystem.exists(destination) && !FileSystem.exists(destination + "/" + manifestFile) {
            throw IndexError.inconsistentInput("\(destination) exists and is not a semid index; refusing to replace it")
        }
        let staging = try FileSystem.makeStagingDirectory(for: destination)
        do {
            var manifest = index.manifest
            var arrays = try StoredQuantizer.arrays(of: index.quantizer)
            arrays.append(("raw_codes", ShardArray(int32: index.rawCodes.values, shape: [index.rawCodes.rows, index.rawCodes.levels])))
            arrays.append(("ids", ShardArray(int32: index.ids.values, shape: [index.ids.rows, index.ids.levels])))
            for name in index.attachments.keys.sorted() { arrays.append((name, index.attachments[name]!)) }
            manifest.shards = []
            for (name, array) in arrays {
                manifest.shards += try writeShards(name: name, array: array, rowsPerShard: manifest.parameters.rowsPerShard,
                                                   into: staging)
            }
            progress?(ProgressEvent(stage: "writing shards", step: manifest.shards.count, total: manifest.shards.count, finished: true))
            let catalogPath = staging + "/" + catalogFile
            switch catalog {
            case .new(let rows):
                let db = try Catalog.create(at: catalogPath, idLength: index.ids.levels)
                try db.insert(rows)
            case let .extending(path, rows):
                try FileSystem.write(try FileSystem.read(path), to: catalogPath, sync: false)
                let db = try Catalog.open(at: catalogPath, readOnly: false)
                try db.insert(rows)
            case let .edited(path, edit):
                try FileSystem.write(try FileSystem.read(path), to: catalogPath, sync: false)
                try edit(try Catalog.open(at: catalogPath, readOnly: false))
            }
            let catalogBytes = try FileSystem.read(catalogPath)
            manifest.catalog = FileFingerprint(file: catalogFile, bytes: catalogBytes.count, sha256: SHA256.hex(catalogBytes))
            try FileSystem.write(try encodeManifest(manifest), to: staging + "/" + manifestFile, sync: false)
            try FileSystem.commitDirectory(staging, to: destination)
            return manifest
        } catch {
            FileSystem.remove(staging)
            throw error
        }
    }

    /// Splits `array` along its first axis into shards of at most `rowsPerShard` rows.
    static func writeShards(name: String, array: ShardArray, rowsPerShard: Int, into directory: String) throws -> [ShardEntry] {
        let rows = array.shape.first ?? 1
        let rowBytes = rows == 0 ? 0 : array.data.count / rows
        var entries: [ShardEntry] = []
        var start = 0
        var part = 0
        repeat {
            let end = min(rows, start + max(1, rowsPerShard))
            var shape = array.shape
            if !shape.isEmpty { shape[0] = end - start }
            let piece = ShardArray(dtype: array.dtype, shape: shape,
                                   data: Array(array.data[(start * rowBytes)..<(end * rowBytes)]))
            let file = String(format: "%@-%05d.zst", name, part)
            let bytes = try piece.encoded()
            try FileSystem.write(bytes, to: directory + "/" + file, sync: false)
            entries.append(ShardEntry(file: file, array: name, dtype: array.dtype.name, shape: shape,
                                      rows: [start, end], bytes: bytes.count, sha256: SHA256.hex(bytes)))
            start = end
            part += 1
        } while start < rows
        return entries
    }

    /// The manifest as stable, pretty-printed JSON (sorted keys, so identical content gives identical bytes).
    public static func encodeManifest(_ manifest: IndexManifest) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(manifest)) + [UInt8(ascii: "\n")]
    }

    // MARK: Reading

    /// Reads and checks the manifest of the index at `path`.
    public static func readManifest(at path: String) throws -> IndexManifest {
        let file = path + "/" + manifestFile
        guard FileSystem.isDirectory(path) else {
            if FileSystem.exists(path) { throw IndexError.notAnIndex(path: path) }
            throw InputError(path, "index not found")
        }
        guard FileSystem.exists(file) else { throw IndexError.notAnIndex(path: path) }
        let bytes = Data(try FileSystem.read(file))
        struct Header: Decodable { var format: String?; var formatVersion: Int? }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let header = try? decoder.decode(Header.self, from: bytes) else {
            throw InputError(file, "not valid JSON")
        }
        guard header.format == IndexManifest.formatName, let version = header.formatVersion else {
            throw InputError(file, field: "format", "expected \"\(IndexManifest.formatName)\" with a format_version")
        }
        if version > IndexManifest.currentFormatVersion {
            throw IndexError.newerFormat(path: file, found: version, supported: IndexManifest.currentFormatVersion)
        }
        do {
            return try decoder.decode(IndexManifest.self, from: bytes)
        } catch let DecodingError.keyNotFound(key, context) {
            throw InputError(file, field: (context.codingPath + [key]).map(\.stringValue).joined(separator: "."), "missing")
        } catch let DecodingError.typeMismatch(_, context) {
            throw InputError(file, field: context.codingPath.map(\.stringValue).joined(separator: "."), "has the wrong type: \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            throw InputError(file, field: context.codingPath.map(\.stringValue).joined(separator: "."), context.debugDescription)
        } catch let DecodingError.valueNotFound(_, context) {
            throw InputError(file, field: context.codingPath.map(\.stringValue).joined(separator: "."), "is null")
        }
    }

    /// Reads every array of the index at `path`, verifying each shard's size and checksum.
    public static func readArrays(at path: String, manifest: IndexManifest) throws -> [String: ShardArray] {
        var byArray: [String: [ShardEntry]] = [:]
        for entry in manifest.shards { byArray[entry.array, default: []].append(entry) }
        var arrays: [String: ShardArray] = [:]
        for (name, entries) in byArray {
            let ordered = entries.sorted { $0.rows[0] < $1.rows[0] }
            var data: [UInt8] = []
            var shape: [Int] = []
            var dtype: ShardDType?
            var expectedStart = 0
            for entry in ordered {
                let file = path + "/" + entry.file
                guard !entry.file.contains("/"), entry.rows.count == 2, entry.rows[0] == expectedStart else {
                    throw IndexError.corrupted(path: path, problem: "manifest lists shard \(entry.file) with a bad name or row range")
                }
                guard FileSystem.exists(file) else {
                    throw IndexError.corrupted(path: file, problem: "shard listed in the manifest is missing")
                }
                let bytes = try FileSystem.read(file)
                guard bytes.count == entry.bytes else {
                    throw IndexError.corrupted(path: file, problem: "shard is \(bytes.count) bytes, the manifest says \(entry.bytes) (truncated or modified)")
                }
                let digest = SHA256.hex(bytes)
                guard digest == entry.sha256 else {
                    throw IndexError.checksumMismatch(path: file, expected: entry.sha256, found: digest)
                }
                let piece = try ShardArray(decoding: bytes, source: file)
                guard piece.shape == entry.shape, piece.dtype.name == entry.dtype,
                      (piece.shape.first ?? 1) == entry.rows[1] - entry.rows[0] else {
                    throw IndexError.corrupted(path: file, problem: "shard holds \(piece.dtype.name) \(piece.shape), manifest says \(entry.dtype) \(entry.shape)")
                }
                if let dtype, dtype != piece.dtype {
                    throw IndexError.corrupted(path: file, problem: "shards of \(name) disagree on element type")
                }
                if !shape.isEmpty && Array(shape.dropFirst()) != Array(piece.shape.dropFirst()) {
                    throw IndexError.corrupted(path: file, problem: "shards of \(name) disagree on shape")
                }
                dtype = piece.dtype
                if shape.isEmpty { shape = piece.shape } else { shape[0] += piece.shape[0] }
                data += piece.data
                expectedStart = entry.rows[1]
            }
            if let dtype {
                arrays[name] = ShardArray(dtype: dtype, shape: shape, data: data)
            }
        }
        return arrays
    }

    /// Checks `catalog.sqlite` against the size and SHA-256 the manifest recorded.
    public static func verifyCatalog(at path: String, manifest: IndexManifest) throws {
        let file = path + "/" + manifest.catalog.file
        guard FileSystem.exists(file) else { throw IndexError.corrupted(path: file, problem: "the catalog is missing") }
        let bytes = try FileSystem.read(file)
        let digest = SHA256.hex(bytes)
        guard bytes.count == manifest.catalog.bytes, digest == manifest.catalog.sha256 else {
            throw IndexError.checksumMismatch(path: file, expected: manifest.catalog.sha256, found: digest)
        }
    }

    /// Opens the index at `path`: manifest, quantizer, codes and IDs, all verified.
    public static func open(at path: String) throws -> SemanticIndex {
        let manifest = try readManifest(at: path)
        var arrays = try readArrays(at: path, manifest: manifest)
        let quantizer = try StoredQuantizer.load(method: manifest.parameters.method, arrays: arrays, path: path,
                                                 parameters: manifest.parameters)
        func codes(_ name: String, levels: Int) throws -> CodeMatrix {
            guard let a = arrays.removeValue(forKey: name), a.shape.count == 2 else {
                throw IndexError.corrupted(path: path, problem: "array \(name) is missing or not 2-D")
            }
            guard a.shape[0] == manifest.items, a.shape[1] == levels else {
                throw IndexError.corrupted(path: path, problem: "array \(name) has shape \(a.shape), expected [\(manifest.items), \(levels)]")
            }
            return CodeMatrix(rows: a.shape[0], levels: a.shape[1], values: try a.int32Values(source: path + "/" + name))
        }
        let raw = try codes("raw_codes", levels: manifest.parameters.levels)
        for (position, code) in raw.values.enumerated() where code < 0 || Int(code) >= manifest.parameters.codebookSize {
            throw IndexError.corrupted(path: path, problem: "item \(position / raw.levels) has raw code \(code) at level \(position % raw.levels), outside 0..<\(manifest.parameters.codebookSize)")
        }
        let ids = try codes("ids", levels: manifest.idLength)
        guard manifest.codeSizes.count == manifest.idLength else {
            throw IndexError.corrupted(path: path, problem: "code_sizes has \(manifest.codeSizes.count) entries for id_length \(manifest.idLength)")
        }
        for i in 0..<ids.rows {
            for l in 0..<ids.levels where ids[i, l] < 0 || Int(ids[i, l]) >= manifest.codeSizes[l] {
                throw IndexError.corrupted(path: path, problem: "item \(i) has code \(ids[i, l]) at position \(l), outside 0..<\(manifest.codeSizes[l])")
            }
        }
        for name in arrays.keys where StoredQuantizer.isQuantizerArray(name) { arrays.removeValue(forKey: name) }
        return SemanticIndex(manifest: manifest, quantizer: quantizer, rawCodes: raw, ids: ids,
                             attachments: arrays, path: path)
    }
}
