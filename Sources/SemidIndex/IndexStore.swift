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
/// - **Writes** go to a staging directory that is swapped in atomically, under the index's writer
///   lock (``DirectoryLock``): one writer at a time, and a writer that read the index must have
///   held the lock since (or the write is refused). Writing through a symbolic link replaces the
///   link's target. The previous version stays whole until the swap.
/// - **Reads** pin one version (``DirectoryPin``: a shared lock on its manifest) and read every
///   file of that version: shards are checked against the manifest's sizes, checksums and shapes,
///   the catalog against its checksum and row count; numbers in the manifest are bounded
///   (``IndexLimits``) before anything is allocated from them. Newer format versions are refused.
///
/// The protocol is specified in `docs/index-format.md`.
public enum IndexStore {
    /// The manifest's file name.
    public static let manifestFile = "manifest.json"
    /// The catalog's file name.
    public static let catalogFile = "catalog.sqlite"

    /// How the catalog of a written index is produced.
    public enum CatalogContent {
        /// A new catalog with these rows.
        case new([CatalogItem])
        /// A copy of the catalog at `path` with these rows added. The copy must match the
        /// fingerprint in the written index's manifest (the catalog it was opened with), or the
        /// write is refused: a writer never re-signs a catalog it did not verify.
        case extending(path: String, adding: [CatalogItem])
        /// A copy of the catalog at `path` (verified as for ``extending(path:adding:)``), changed
        /// by `edit` (e.g. to store user IDs).
        case edited(path: String, edit: (Catalog) throws -> Void)
        /// A new catalog of `count` rows made one at a time by `item(0..<count)` as they are
        /// inserted (the same bytes as ``new(_:)`` with those rows, without holding them).
        case generated(count: Int, item: (Int) -> CatalogItem)
    }

    // MARK: Writing

    /// Writes `index` to `destination` atomically. `manifest.shards` and `manifest.catalog` are
    /// filled in here. Fails if `destination` exists unless `overwrite` is set; on any failure the
    /// previous content of `destination` is untouched.
    ///
    /// The write holds the writer lock of an existing `destination` (taken here, waiting per
    /// `waiting`, unless the calling thread holds it already). When `index` was read from
    /// `destination` and the index has changed since (another writer committed in between, which
    /// a caller holding the lock from read to write rules out), nothing is written and
    /// ``ConcurrentAccessError/changedSinceRead(path:)`` is thrown. Errors name `destination`,
    /// never the hidden staging directory.
    @discardableResult
    public static func write(_ index: SemanticIndex, catalog: CatalogContent, to destination: String,
                             overwrite: Bool, progress: ProgressHandler? = nil,
                             waiting: DirectoryLock.Waiting = .wait) throws -> IndexManifest {
        let target = FileSystem.resolvedWriteTarget(destination)
        if FileSystem.exists(target) && !overwrite {
            throw IndexError.outputExists(path: destination)
        }
        var lock: DirectoryLock?
        if FileSystem.exists(target) {
            try refuseToReplace(target, named: destination)
            lock = try DirectoryLock.acquire(target, waiting: waiting)
        }
        defer { lock?.release() }
        if lock != nil, let base = index.source, base.path == FileSystem.canonicalPath(target) {
            let current = try FileSystem.sha256(ofFileAt: target + "/" + manifestFile).sha256
            guard current == base.manifestSHA256 else { throw ConcurrentAccessError.changedSinceRead(path: destination) }
        }
        let staging = try FileSystem.makeStagingDirectory(for: target)
        do {
            let manifest = try writeStaged(index, catalog: catalog, into: staging, progress: progress)
            try FileSystem.commitDirectory(staging, to: target, keyFile: manifestFile)
            return manifest
        } catch {
            FileSystem.remove(staging)
            throw StoragePaths.renaming(error, from: staging, to: destination)
        }
    }

    /// Throws if the output file `path` would be written directly inside an index directory
    /// (where it would replace, or sit among, the index's own files).
    public static func refuseOutputInsideIndex(_ path: String) throws {
        let target = FileSystem.resolvedWriteTarget(path)
        let parent = FileSystem.canonicalPath((target as NSString).deletingLastPathComponent.isEmpty
                                              ? "." : (target as NSString).deletingLastPathComponent)
        guard let bytes = try? FileSystem.read(parent + "/" + manifestFile),
              String(decoding: bytes, as: UTF8.self).contains("\"\(IndexManifest.formatName)\"") else { return }
        throw IndexError.inconsistentInput("\(path) is inside the index \(parent); writing it there would replace or add a file of the index, choose a path outside it")
    }

    /// Refuses to replace `target` unless it is an index directory.
    private static func refuseToReplace(_ target: String, named destination: String) throws {
        if !FileSystem.isDirectory(target) {
            throw IndexError.inconsistentInput("\(destination) exists and is not an index directory; refusing to replace it")
        }
        if !FileSystem.exists(target + "/" + manifestFile) {
            throw IndexError.inconsistentInput("\(destination) exists and is not a semid index; refusing to replace it")
        }
    }

    /// Writes the shards, catalog and manifest of `index` into the empty directory `staging`.
    private static func writeStaged(_ index: SemanticIndex, catalog: CatalogContent, into staging: String,
                                    progress: ProgressHandler?) throws -> IndexManifest {
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
        /// Copies the catalog at `path`, refusing one that is not the catalog `index` was opened with.
        func copyVerified(_ path: String) throws {
            let expected = index.manifest.catalog
            let copied = try FileSystem.copyFile(path, to: catalogPath)
            guard copied.bytes == expected.bytes, copied.sha256 == expected.sha256 else {
                // Another writer may have replaced the source index since it was read.
                if let source = index.source,
                   (try? FileSystem.sha256(ofFileAt: source.path + "/" + manifestFile).sha256) != source.manifestSHA256 {
                    throw ConcurrentAccessError.changedSinceRead(path: index.path ?? source.path)
                }
                throw IndexError.checksumMismatch(path: path, expected: expected.sha256, found: copied.sha256)
            }
        }
        let db: Catalog
        switch catalog {
        case .new(let rows):
            db = try Catalog.create(at: catalogPath, idLength: index.ids.levels)
            try db.insert(rows)
        case let .generated(count, item):
            db = try Catalog.create(at: catalogPath, idLength: index.ids.levels)
            try db.insert(count: count, progress: { done in
                progress?(ProgressEvent(stage: "writing the catalog", step: done, total: count, finished: done == count))
            }, item: item)
        case let .extending(path, rows):
            try copyVerified(path)
            db = try Catalog.open(at: catalogPath, readOnly: false)
            try db.insert(rows)
        case let .edited(path, edit):
            try copyVerified(path)
            db = try Catalog.open(at: catalogPath, readOnly: false)
            try edit(db)
        }
        let rows = try db.count()
        guard rows == manifest.items else {
            throw IndexError.inconsistentInput("the catalog would have \(rows) items but the index has \(manifest.items); nothing was written")
        }
        let fingerprint = try FileSystem.sha256(ofFileAt: catalogPath)
        manifest.catalog = FileFingerprint(file: catalogFile, bytes: fingerprint.bytes, sha256: fingerprint.sha256)
        try FileSystem.write(try encodeManifest(manifest), to: staging + "/" + manifestFile, sync: false)
        return manifest
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

    /// Reads and checks the manifest of the index at `path` (see ``decodeManifest(_:file:)``).
    public static func readManifest(at path: String) throws -> IndexManifest {
        try checkIsIndexDirectory(path)
        let file = path + "/" + manifestFile
        return try decodeManifest(try FileSystem.read(file), file: file)
    }

    /// Decodes manifest bytes and checks them: the format name and version (newer versions are
    /// refused), every field's type, and every number against ``IndexLimits``
    /// (``IndexManifest/validate(file:)``); `file` names the manifest in errors.
    public static func decodeManifest(_ bytes: [UInt8], file: String) throws -> IndexManifest {
        let data = Data(bytes)
        struct Header: Decodable { var format: String?; var formatVersion: Int? }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let header = try? decoder.decode(Header.self, from: data) else {
            throw InputError(file, "not valid JSON")
        }
        guard header.format == IndexManifest.formatName, let version = header.formatVersion else {
            throw InputError(file, field: "format", "expected \"\(IndexManifest.formatName)\" with a format_version")
        }
        if version > IndexManifest.currentFormatVersion {
            throw IndexError.newerFormat(path: file, found: version, supported: IndexManifest.currentFormatVersion)
        }
        let manifest: IndexManifest
        // Field paths as the file spells them (snake_case), e.g. `parameters.codebook_sizes`.
        func field(_ path: [CodingKey]) -> String {
            path.map { key in
                key.intValue.map { "[\($0)]" } ?? key.stringValue.reduce(into: "") { out, c in
                    if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
                }
            }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        do {
            manifest = try decoder.decode(IndexManifest.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw InputError(file, field: field(context.codingPath + [key]), "missing")
        } catch let DecodingError.typeMismatch(_, context) {
            throw InputError(file, field: field(context.codingPath), "has the wrong type: \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            throw InputError(file, field: field(context.codingPath), context.debugDescription)
        } catch let DecodingError.valueNotFound(_, context) {
            throw InputError(file, field: field(context.codingPath), "is null")
        } catch {
            throw InputError(file, "cannot be decoded: \(error)")
        }
        try manifest.validate(file: file)
        return manifest
    }

    /// Throws "index not found" or ``IndexError/notAnIndex(path:)`` unless `path` is a
    /// directory with a manifest.
    private static func checkIsIndexDirectory(_ path: String) throws {
        guard FileSystem.isDirectory(path) else {
            if FileSystem.exists(path) { throw IndexError.notAnIndex(path: path) }
            throw InputError(path, "index not found")
        }
        guard FileSystem.exists(path + "/" + manifestFile) else { throw IndexError.notAnIndex(path: path) }
    }

    /// Reads every array of the index at `path`, verifying each shard's size, checksum and shape
    /// against `manifest` (the zstd frame's declared size against the shape before decoding).
    ///
    /// Reads by path: call it while the version `manifest` describes is pinned (as ``open(at:)``
    /// does) or while holding the index's writer lock.
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
                guard IndexLimits.isPlainFileName(entry.file), entry.rows.count == 2, entry.rows[0] == expectedStart,
                      let entryType = ShardDType.allCases.first(where: { $0.name == entry.dtype }) else {
                    throw IndexError.corrupted(path: path, problem: "manifest lists shard \(entry.file) with a bad name, type or row range")
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
                let piece = try ShardArray(decoding: bytes, source: file, expected: (entryType, entry.shape))
                guard piece.shape == entry.shape, piece.dtype == entryType else {
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

    /// Checks `catalog.sqlite` against the size and SHA-256 in `manifest`, if `manifest` is still
    /// the index's current version; when a writer has replaced the index since `manifest` was
    /// read, there is nothing left to check (``open(at:)`` verified the catalog of the version it
    /// opened, and its ``SemanticIndex/catalog()`` reads that one).
    public static func verifyCatalog(at path: String, manifest: IndexManifest) throws {
        try checkIsIndexDirectory(path)
        try DirectoryPin.withPinned(path, keyFile: manifestFile) { content in
            let current = try decodeManifest(content, file: path + "/" + manifestFile)
            guard current.catalog == manifest.catalog else { return }
            try checkCatalogFile(at: path, manifest: manifest)
        }
    }

    /// Size and checksum of the catalog file against `manifest`.
    static func checkCatalogFile(at path: String, manifest: IndexManifest) throws {
        let file = path + "/" + manifest.catalog.file
        guard FileSystem.exists(file) else { throw IndexError.corrupted(path: file, problem: "the catalog is missing") }
        let found = try FileSystem.sha256(ofFileAt: file)
        guard found.bytes == manifest.catalog.bytes, found.sha256 == manifest.catalog.sha256 else {
            throw IndexError.checksumMismatch(path: file, expected: manifest.catalog.sha256, found: found.sha256)
        }
    }

    /// Opens the catalog of the index at `path` read-only after checking it against `manifest`:
    /// size and checksum, ID length, and one row per item. Call it while the version `manifest`
    /// describes is pinned or locked.
    static func openVerifiedCatalog(at path: String, manifest: IndexManifest) throws -> Catalog {
        try checkCatalogFile(at: path, manifest: manifest)
        let file = path + "/" + manifest.catalog.file
        let catalog: Catalog
        do {
            catalog = try Catalog.open(at: file)
        } catch let error as StorageError {
            throw IndexError.corrupted(path: file, problem: "cannot be read as an SQLite catalog; it is corrupted (\(error))")
        }
        guard catalog.idLength == manifest.idLength else {
            throw IndexError.corrupted(path: file, problem: "the catalog holds IDs of \(catalog.idLength) codes, the manifest says \(manifest.idLength)")
        }
        let rows = try catalog.count()
        guard rows == manifest.items else {
            throw IndexError.corrupted(path: file, problem: "the catalog has \(rows) items, the manifest says \(manifest.items)")
        }
        return catalog
    }

    /// Opens the index at `path`: manifest, quantizer, codes, IDs and catalog, all from one
    /// version (pinned while they are read) and all verified; attachments are checked by the
    /// stages that use them. Killed writers' staging directories next to the index are removed.
    public static func open(at path: String) throws -> SemanticIndex {
        try checkIsIndexDirectory(path)
        FileSystem.removeAbandonedStagingDirectories(for: path)
        return try DirectoryPin.withPinned(path, keyFile: manifestFile) { content in
            try read(at: path, manifestContent: content)
        }
    }

    /// The index at `path` from the bytes of its manifest; every file read by path.
    private static func read(at path: String, manifestContent content: [UInt8]) throws -> SemanticIndex {
        let manifest = try decodeManifest(content, file: path + "/" + manifestFile)
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
        let rawSizes = manifest.parameters.codebookSizes
        for (position, code) in raw.values.enumerated() where code < 0 || Int(code) >= rawSizes[position % raw.levels] {
            throw IndexError.corrupted(path: path, problem: "item \(position / raw.levels) has raw code \(code) at level \(position % raw.levels), outside 0..<\(rawSizes[position % raw.levels])")
        }
        let ids = try codes("ids", levels: manifest.idLength)
        for i in 0..<ids.rows {
            for l in 0..<ids.levels where ids[i, l] < 0 || Int(ids[i, l]) >= manifest.codeSizes[l] {
                throw IndexError.corrupted(path: path, problem: "item \(i) has code \(ids[i, l]) at position \(l), outside 0..<\(manifest.codeSizes[l])")
            }
        }
        let catalog = try openVerifiedCatalog(at: path, manifest: manifest)
        for name in arrays.keys where StoredQuantizer.isQuantizerArray(name) { arrays.removeValue(forKey: name) }
        var index = SemanticIndex(manifest: manifest, quantizer: quantizer, rawCodes: raw, ids: ids,
                                  attachments: arrays, path: path)
        index.openedCatalog = catalog
        index.source = SemanticIndex.Source(path: FileSystem.canonicalPath(path), manifestSHA256: SHA256.hex(content))
        return index
    }
}
