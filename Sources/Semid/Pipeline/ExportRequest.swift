/// What ``Pipeline/export(_:)`` writes.
public struct ExportRequest: Sendable {
    /// An export format: the final IDs, or the decoding constraint.
    public enum Format: String, CaseIterable, Sendable {
        /// LC-Rec's `*.index.json`.
        case lcrec
        /// Tab-separated `item  source_id  c0  c1 …`.
        case tsv
        /// NumPy `int32` `[items, id_length]`.
        case npy
        /// The trie as `.npy` CSR arrays and `trie.json`, in a directory.
        case trie
        /// The ID tokens in the order to add them to a tokenizer, a JSON array.
        case hfTokens = "hf-tokens"
    }

    /// The index directory.
    public var index: String
    /// What to write.
    public var format: Format
    /// The file (a directory for ``Format/trie``).
    public var output: String
    /// Token template of ``Format/trie`` and ``Format/hfTokens``.
    public var tokenTemplate: TokenTemplate = .lcrec
    /// Replace `output` if it exists.
    public var overwrite = false

    /// A request to export `index` as `format` to `output`.
    public init(index: String, format: Format, output: String) {
        self.index = index
        self.format = format
        self.output = output
    }
}

/// What ``Pipeline/export(_:)`` wrote.
public struct ExportResult: Sendable {
    /// How many items' IDs.
    public var items: Int
    /// The ID length.
    public var idLength: Int
}

extension Pipeline {
    /// Exports an index's final IDs (LC-Rec JSON, TSV, `.npy`) or its decoding constraint (trie
    /// arrays, tokenizer tokens). `O(items · id length)`.
    ///
    /// - Throws: ``PipelineError/outputExists(path:)`` when `output` exists and `overwrite` is not set.
    public static func export(_ request: ExportRequest) throws -> ExportResult {
        let out = request.output
        if FileSystem.exists(out) && !request.overwrite { throw PipelineError.outputExists(path: out) }
        let opened = try IndexStore.open(at: request.index)
        switch request.format {
        case .trie, .hfTokens:
            let format: ConstraintExport.Format = request.format == .trie ? .trie : .hfTokens
            try ConstraintExport.write(opened, format: format, template: request.tokenTemplate, to: out, overwrite: request.overwrite)
        case .lcrec, .tsv, .npy:
            let format: ExportFormat = request.format == .lcrec ? .lcrec : (request.format == .tsv ? .tsv : .npy)
            try IndexExport.write(ids: opened.ids, catalog: try opened.catalog().allItems(), format: format, to: out)
        }
        return ExportResult(items: opened.itemCount, idLength: opened.ids.levels)
    }
}
