import Foundation
import SemidDecoding
import SemidIndex
import SemidStorage

/// What an open `semid_index *` points to: the index, its decoding trie, and the buffers the ABI
/// hands out without copying (valid until the handle is closed).
final class IndexHandle: @unchecked Sendable {
    /// The opened index, without its attachments.
    let index: SemanticIndex
    /// The decoding trie, or why there is none (IDs not unique under policy `none`).
    let trie: Result<CodeTrie, DecodingError>
    /// `ids`, `[n, idLength]`, in a buffer whose address is stable.
    let codes: UnsafeMutableBufferPointer<Int32>
    /// `rawCodes`, `[n, levels]`.
    let rawCodes: UnsafeMutableBufferPointer<Int32>
    /// manifest.json, NUL-terminated.
    let manifestJSON: UnsafeMutablePointer<CChar>

    private let lock = NSLock()
    private var catalogColumns: [CatalogText]?

    /// Opens the index at `path` and builds (or loads and checks) its trie.
    init(path: String) throws {
        guard FileSystem.exists(path) else { throw ABIError(.notFound, "\(path): index not found") }
        var index = try IndexStore.open(at: path)
        do {
            trie = .success(try CodeTrie(index: index))
        } catch let error as DecodingError {
            if case .duplicateID = error {
                trie = .failure(error)
            } else {
                throw error
            }
        }
        // Later stages' arrays (the stored trie, a trained model) are not needed once the trie is
        // loaded: the handle does not keep them in memory.
        index.attachments = [:]
        self.index = index
        codes = Self.copy(index.ids.values)
        rawCodes = Self.copy(index.rawCodes.values)
        manifestJSON = strdup(String(decoding: try IndexStore.encodeManifest(index.manifest), as: UTF8.self))!
    }

    deinit {
        codes.deallocate()
        rawCodes.deallocate()
        free(manifestJSON)
    }

    static func copy(_ values: [Int32]) -> UnsafeMutableBufferPointer<Int32> {
        let buffer = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(values.count, 1))
        _ = buffer.initialize(from: values)
        return buffer
    }

    /// The trie, or ``ABIError`` (unsupported) when the IDs are not unique.
    func requireTrie() throws -> CodeTrie {
        switch trie {
        case .success(let trie): return trie
        case .failure(let error):
            throw ABIError(.unsupported, "this index has no decoding trie: \(error)")
        }
    }

    /// A text column of the catalog (0 = title, 1 = source id), read on first use after checking
    /// the catalog's checksum.
    func catalogText(column: Int32) throws -> CatalogText {
        guard column == 0 || column == 1 else {
            throw ABIError.invalid("catalog column \(column) is not SEMID_COLUMN_TITLE (0) or SEMID_COLUMN_SOURCE_ID (1)")
        }
        lock.lock()
        defer { lock.unlock() }
        if catalogColumns == nil {
            guard let path = index.path else { throw ABIError(.internalError, "the index has no path") }
            try IndexStore.verifyCatalog(at: path, manifest: index.manifest)
            let items = try index.catalog().allItems()
            guard items.count == index.itemCount, items.enumerated().allSatisfy({ $0.offset == $0.element.id }) else {
                throw IndexError.corrupted(path: path + "/" + IndexStore.catalogFile,
                                           problem: "the catalog lists \(items.count) items, not exactly the index's items 0..<\(index.itemCount)")
            }
            catalogColumns = [CatalogText(items.map(\.title)), CatalogText(items.map(\.sourceID))]
        }
        return catalogColumns![Int(column)]
    }

    // MARK: Handles

    /// The addresses of open handles: a pointer that is not among them (closed twice, never
    /// opened) gives an error instead of a crash.
    nonisolated(unsafe) private static var open: Set<UInt> = []
    private static let registryLock = NSLock()

    /// Retains `handle` and returns its C pointer.
    static func register(_ handle: IndexHandle) -> OpaquePointer {
        let pointer = Unmanaged.passRetained(handle).toOpaque()
        registryLock.lock()
        open.insert(UInt(bitPattern: pointer))
        registryLock.unlock()
        return OpaquePointer(pointer)
    }

    /// The handle behind `pointer`, or an error when it is null or not an open index.
    static func from(_ pointer: OpaquePointer?) throws -> IndexHandle {
        let raw = UnsafeRawPointer(try required(pointer, "index"))
        registryLock.lock()
        defer { registryLock.unlock() }
        guard open.contains(UInt(bitPattern: raw)) else {
            throw ABIError.invalid("index \(raw) is not an open semid index (closed already?)")
        }
        return Unmanaged<IndexHandle>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Forgets and releases the handle behind `pointer`.
    static func close(_ pointer: OpaquePointer) throws {
        let raw = UnsafeRawPointer(pointer)
        registryLock.lock()
        let removed = open.remove(UInt(bitPattern: raw)) != nil
        registryLock.unlock()
        guard removed else { throw ABIError.invalid("index \(raw) is not an open semid index (closed already?)") }
        Unmanaged<IndexHandle>.fromOpaque(raw).release()
    }
}

/// One text column of the catalog for every item, laid out for `semid_index_catalog_strings`:
/// concatenated UTF-8 bytes, `n + 1` offsets, and a presence byte per item.
final class CatalogText: @unchecked Sendable {
    let bytes: UnsafeMutableBufferPointer<CChar>
    let offsets: UnsafeMutableBufferPointer<Int64>
    let present: UnsafeMutableBufferPointer<UInt8>

    init(_ values: [String?]) {
        var data: [CChar] = []
        var offsets: [Int64] = [0]
        var present: [UInt8] = []
        offsets.reserveCapacity(values.count + 1)
        present.reserveCapacity(values.count)
        for value in values {
            if let value { data.append(contentsOf: value.utf8.map { CChar(bitPattern: $0) }) }
            offsets.append(Int64(data.count))
            present.append(value == nil ? 0 : 1)
        }
        self.bytes = .allocate(capacity: max(data.count, 1))
        _ = self.bytes.initialize(from: data)
        self.offsets = .allocate(capacity: offsets.count)
        _ = self.offsets.initialize(from: offsets)
        self.present = .allocate(capacity: max(present.count, 1))
        _ = self.present.initialize(from: present)
    }

    deinit {
        bytes.deallocate()
        offsets.deallocate()
        present.deallocate()
    }
}
