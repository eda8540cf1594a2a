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

    /// The catalog of the version ``IndexStore/open(at:)`` read, opened and verified then.
    var openedCatalog: Catalog?
    /// Where and from which manifest this index was read: a write back to the same directory
    /// checks that the index has not changed since.
    var source: Source?

    /// The directory an index was read from and the SHA-256 of the manifest it was read from.
    struct Source: Sendable {
        /// The directory, symbolic links resolved (``FileSystem/canonicalPath(_:)``).
        var path: String
        /// SHA-256 of the manifest's bytes.
        var manifestSHA256: String
    }

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

    /// The catalog of an index read from disk (read-only): for an index from
    /// ``IndexStore/open(at:)``, the catalog of the very version it read, verified then (checksum,
    /// ID length, one row per item) even if a writer has replaced the index since. For an index
    /// value given a ``path`` by hand, the catalog at `path`, verified against ``manifest``.
    public func catalog() throws -> Catalog {
        if let openedCatalog { return openedCatalog }
        guard let path else { throw IndexError.inconsistentInput("this index has not been written to disk yet") }
        return try IndexStore.openVerifiedCatalog(at: path, manifest: manifest)
    }

    /// Collision and codebook figures, with titles of the `groupLimit` largest groups from the catalog.
    public func report(groupLimit: Int = 10) throws -> CollisionReport {
        let catalog = path != nil ? try catalog() : nil
        return try CollisionReport(manifest: manifest, rawCodes: rawCodes, finalIDs: ids, groupLimit: groupLimit) { items in
            try catalog?.titles(of: items) ?? [:]
        }
    }
}
