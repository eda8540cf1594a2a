import Foundation
import SemidMath
import SemidQuantization
import SemidStorage

/// An index in memory: its manifest, the trained quantizer, raw codes and final semantic IDs.
///
/// Item metadata (source ids, titles) lives in the SQLite catalog next to the shards; open it with
/// ``catalog()``.
public struct SemanticIndex: Sendable {
    /// The manifest.
    public var manifest: IndexManifest
    /// The trained quantizer (frozen: `add` encodes with it).
    public var quantizer: any SemanticQuantizer
    /// Raw quantizer codes, `[items, levels]`.
    public var rawCodes: CodeMatrix
    /// Final semantic IDs, `[items, idLength]`.
    public var ids: CodeMatrix
    /// Arrays stored by later stages (e.g. a trained model), by array name.
    public var attachments: [String: ShardArray]
    /// The directory this index was read from, if any.
    public var path: String?

    /// Creates an index value.
    public init(manifest: IndexManifest, quantizer: any SemanticQuantizer, rawCodes: CodeMatrix, ids: CodeMatrix,
                attachments: [String: ShardArray] = [:], path: String? = nil) {
        self.manifest = manifest
        self.quantizer = quantizer
        self.rawCodes = rawCodes
        self.ids = ids
        self.attachments = attachments
        self.path = path
    }

    /// Number of items.
    public var itemCount: Int { ids.rows }

    /// The catalog of an index read from disk (read-only).
    public func catalog() throws -> Catalog {
        guard let path else { throw IndexError.inconsistentInput("this index has not been written to disk yet") }
        let file = path + "/" + IndexStore.catalogFile
        guard FileSystem.exists(file) else { throw IndexError.corrupted(path: file, problem: "the catalog is missing") }
        do {
            return try Catalog.open(at: file)
        } catch let error as StorageError {
            throw IndexError.corrupted(path: file, problem: "cannot be read as an SQLite catalog; it is corrupted (\(error))")
        }
    }

    /// Collision and codebook figures, with titles of the `groupLimit` largest groups from the catalog.
    public func report(groupLimit: Int = 10) throws -> CollisionReport {
        let catalog = path != nil ? try catalog() : nil
        return try CollisionReport(manifest: manifest, rawCodes: rawCodes, finalIDs: ids, groupLimit: groupLimit) { items in
            try catalog?.titles(of: items) ?? [:]
        }
    }
}
