import Foundation
import SemidDecoding
import SemidMath
import SemidQuantization
import SemidStorage

/// Adds items to an existing index without changing any existing ID.
///
/// New items are encoded with the frozen quantizer and get IDs from the index's collision policy
/// (`suffix`: the next free rank of their group; `sinkhorn`: the nearest free last-level code;
/// `none`: their raw codes). The new index is written to a staging directory and swapped in
/// atomically, so a failure at any point leaves the old index readable and unchanged. The index's
/// writer lock is held from reading the index to swapping in the new one, so concurrent adds (or
/// an add and a `train`) run one after the other and none is lost.
public enum IndexAdder {
    /// Adds `embeddings` (`[m, d]`, row `j` = item `n + j`) with metadata `items` (ids must be
    /// exactly `n ..< n + m`, or `nil` for untitled items) to the index at `path`.
    ///
    /// The decoding trie is rebuilt from the updated IDs and stored with them (when they are
    /// unique; with collisions left under policy `none` the index keeps no trie).
    ///
    /// - Parameter refreshDerivedArrays: recomputes further attachments derived from the IDs on the
    ///   updated index before it is written (after the trie).
    /// - Parameter waiting: what to do when another process is writing the index.
    /// - Returns: the updated index as written.
    @discardableResult
    public static func add(to path: String, embeddings: Matrix, items: [ItemRecord]?, inputs: [InputFingerprint],
                           refreshDerivedArrays: ((inout SemanticIndex) throws -> Void)? = nil,
                           progress: ProgressHandler? = nil, waiting: DirectoryLock.Waiting = .wait) throws -> SemanticIndex {
        guard FileSystem.isDirectory(path) else { return try IndexStore.open(at: path) }  // the reader's error
        let lock = try DirectoryLock.acquire(FileSystem.resolvedWriteTarget(path), waiting: waiting)
        defer { lock.release() }
        var index = try IndexStore.open(at: path)
        let n = index.itemCount, m = embeddings.rows
        let d = index.quantizer.inputDimension
        guard m > 0 else { throw IndexError.inconsistentInput("no items to add: the embeddings have 0 rows") }
        guard embeddings.cols == d else {
            throw IndexError.inconsistentInput(
                "the new embeddings have dimension \(embeddings.cols) but the index was built on dimension \(d)")
        }
        if let bad = embeddings.firstNonFinite() {
            throw IndexError.inconsistentInput("new embeddings row \(bad.row), column \(bad.column) is not finite")
        }
        if let items {
            guard items.count == m else {
                throw IndexError.inconsistentInput(
                    "the items file lists \(items.count) items but the new embeddings have \(m) rows")
            }
            for (offset, item) in items.enumerated() where item.id != n + offset {
                if item.id < n {
                    throw IndexError.inconsistentInput(
                        "item \(item.id) already exists in the index (it has items 0…\(n - 1)); new items must be numbered \(n)…\(n + m - 1)")
                }
                throw IndexError.inconsistentInput(
                    "new item ids must be exactly \(n)…\(n + m - 1) (row j of the new embeddings is item \(n)+j); id \(n + offset) is missing")
            }
        }

        progress?(ProgressEvent(stage: "encoding \(m) new items"))
        let raw = try index.quantizer.encode(embeddings)
        let context = ResolutionContext { rows in
            try index.quantizer.lastLevelDistances(embeddings.gatheringRows(rows), codes: raw.gatheringRows(rows))
        }
        let (newIDs, codeSizes) = try index.manifest.parameters.collisionPolicy.resolver.extend(
            existingRaw: index.rawCodes, existingIDs: index.ids, codeSizes: index.manifest.codeSizes,
            newRaw: raw, context: context)

        let batchNumber = (index.manifest.batches.map(\.batch).max() ?? 0) + 1
        let (reconstruction, errors) = try IndexBuilder.reconstruction(of: embeddings, quantizer: index.quantizer, codes: raw,
                                                                       residualFractions: [])
        // Extend the per-item errors when the index has them (an index written before they existed keeps none).
        if let stored = try ReconstructionErrors.stored(in: index) {
            index.attachments[ReconstructionErrors.itemArray] = ShardArray(float32: stored + errors, shape: [n + m])
        }
        index.rawCodes = index.rawCodes.appendingRows(raw)
        index.ids = index.ids.appendingRows(newIDs)
        index.manifest.items = n + m
        index.manifest.codeSizes = codeSizes
        index.manifest.batches.append(Batch(batch: batchNumber, operation: "add", firstItem: n, items: m,
                                            inputs: inputs, reconstruction: reconstruction))
        index.attachments = index.attachments.filter { !$0.key.hasPrefix(CodeTrie.attachmentPrefix) }
        do { try CodeTrie.attach(to: &index) } catch DecodingError.duplicateID {}
        try refreshDerivedArrays?(&index)
        let rows = (0..<m).map { j in
            CatalogItem(id: n + j, sourceID: items?[j].sourceID, title: items?[j].title,
                        semanticID: Array(newIDs.row(j)), batch: batchNumber)
        }
        try IndexStore.write(index, catalog: .extending(path: path + "/" + IndexStore.catalogFile, adding: rows),
                             to: path, overwrite: true, progress: progress)
        return try IndexStore.open(at: path)
    }
}
