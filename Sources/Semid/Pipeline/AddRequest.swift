/// What ``Pipeline/add(_:)`` adds to which index.
public struct AddRequest: Sendable {
    /// The index directory.
    public var index: String
    /// Embeddings of the new items `[m, d]` (same `d` as the index); row `j` is item `n + j`.
    public var embeddings: PipelineInput<Matrix>
    /// Catalog of the new items (ids exactly `n ..< n + m`), or `nil` for untitled items.
    public var items: PipelineInput<[ItemRecord]>?
    /// What to do when another process is writing the index.
    public var waiting: DirectoryLock.Waiting = .wait
    /// Called with progress events.
    public var progress: ProgressHandler?

    /// A request to add `embeddings` (and `items`) to the index at `index`.
    public init(index: String, embeddings: PipelineInput<Matrix>, items: PipelineInput<[ItemRecord]>? = nil) {
        self.index = index
        self.embeddings = embeddings
        self.items = items
    }
}

/// What ``Pipeline/add(_:)`` wrote.
public struct AddResult: Sendable {
    /// The updated index as written.
    public var index: SemanticIndex
    /// How many items were added.
    public var added: Int
    /// The updated index's collision report (no groups listed).
    public var report: CollisionReport
}

extension Pipeline {
    /// Adds items to an index without changing any existing ID: they are encoded with the frozen
    /// quantizer, get IDs from the index's collision policy, and the decoding trie is rebuilt; the
    /// index is rewritten atomically under its writer lock.
    ///
    /// Costs one encoding of the new items (`O(m · levels · K · d)`) and one rewrite of the index.
    public static func add(_ request: AddRequest) throws -> AddResult {
        let matrix: Matrix
        var inputs: [InputFingerprint] = []
        switch request.embeddings {
        case .file(let path):
            matrix = try NpyFile.readMatrix(at: path)
            inputs.append(try InputFingerprint(role: "embeddings", path: path, rows: matrix.rows, columns: matrix.cols))
        case let .memory(value, fingerprint):
            matrix = value
            if let fingerprint { inputs.append(fingerprint) }
        }
        var records: [ItemRecord]?
        switch request.items {
        case .file(let path):
            let read = try ItemCatalogFile.read(at: path)
            records = read
            inputs.append(try InputFingerprint(role: "items", path: path, rows: read.count, columns: nil))
        case let .memory(value, fingerprint):
            records = value
            if let fingerprint { inputs.append(fingerprint) }
        case nil:
            break
        }
        let before = try IndexStore.readManifest(at: request.index).items
        let updated = try IndexAdder.add(
            to: request.index, embeddings: matrix, items: records, inputs: inputs,
            refreshDerivedArrays: { index in
                do { try CodeTrie.attach(to: &index) } catch DecodingError.duplicateID {}
            },
            progress: request.progress, waiting: request.waiting)
        return AddResult(index: updated, added: updated.itemCount - before, report: try updated.report(groupLimit: 0))
    }
}
