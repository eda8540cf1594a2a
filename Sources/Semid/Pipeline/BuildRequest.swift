import Foundation

/// What ``Pipeline/build(_:)`` builds: the inputs, the settings and where to write.
public struct BuildRequest: Sendable {
    /// Content embeddings `[n, d]` (row `i` = item `i`), a 2-D `.npy` file or a matrix; needed for
    /// the `content` and `hybrid` sources.
    public var embeddings: PipelineInput<Matrix>?
    /// The item catalog (JSONL or LC-Rec `*.item.json`, ids exactly `0..<n`); without it items are
    /// untitled and their count comes from the embeddings.
    public var items: PipelineInput<[ItemRecord]>?
    /// User histories (TSV or LC-Rec `*.inter.json`) for collaborative or hybrid vectors and
    /// sequential IDs.
    public var sequences: PipelineInput<[UserSequence]>?
    /// The quantizer, collision policy, seed and layout.
    public var configuration: BuildConfiguration
    /// The index directory to write.
    public var output: String
    /// Replace `output` when it is an existing index (anything else is never replaced).
    public var overwrite = false
    /// What to do when another process is writing `output`.
    public var waiting: DirectoryLock.Waiting = .wait
    /// Called with progress events from the calling thread or worker threads.
    public var progress: ProgressHandler?
    /// Colliding groups listed in ``BuildResult/report``.
    public var reportGroups = 3

    /// A request to build `configuration` from `embeddings` into `output`.
    public init(embeddings: PipelineInput<Matrix>?, items: PipelineInput<[ItemRecord]>? = nil,
                sequences: PipelineInput<[UserSequence]>? = nil, configuration: BuildConfiguration, output: String) {
        self.embeddings = embeddings
        self.items = items
        self.sequences = sequences
        self.configuration = configuration
        self.output = output
    }
}

/// What ``Pipeline/build(_:)`` wrote.
public struct BuildResult: Sendable {
    /// The index as written, opened again from disk (every shard's checksum verified).
    public var index: SemanticIndex
    /// Its collision and codebook report (``BuildRequest/reportGroups`` largest groups).
    public var report: CollisionReport
    /// Whether the decoding trie is stored with the index (only when every final ID is unique).
    public var trieStored: Bool
    /// How much each quantizer level refined the raw IDs (from ``report``); a level with
    /// ``LevelGrowth/isNearDegenerate`` set barely tells items apart.
    public var levelGrowth: [LevelGrowth] { LevelGrowth.levels(of: report) }
    /// Wall-clock seconds from the first read to the reopened index.
    public var seconds: Double
}

extension Pipeline {
    /// Builds an index: reads the inputs, cross-checks them, trains the quantizer, assigns unique
    /// IDs, stores the decoding trie and writes the index atomically to ``BuildRequest/output``.
    ///
    /// Same inputs and configuration give a byte-identical index on every machine. RQ-KMeans on
    /// content embeddings from a file (a `.npy`, a directory of parts or a comma-separated list) is
    /// built by ``StreamingIndexBuild``: the file is read by chunks, so memory is bounded by the
    /// training sample and `O(n · L)` codes, not `n · d` (docs/scale.md). Other builds hold the
    /// vectors (``IndexBuilder/build(embeddings:items:sequences:inputs:configuration:progress:)``).
    /// Time for RQ-KMeans is about `O(levels · iterations · sample · K · d + n · ΣK · d)`, plus one
    /// pass over the written shards to verify them.
    ///
    /// - Throws: ``IndexError/outputExists(path:)`` when `output` exists and `overwrite` is not
    ///   set, ``PipelineError`` when inputs disagree, a reader's ``InputError`` for a malformed file.
    public static func build(_ request: BuildRequest) throws -> BuildResult {
        let out = request.output
        if FileSystem.exists(out) && !request.overwrite { throw IndexError.outputExists(path: out) }
        if FileSystem.exists(out) && !FileSystem.exists(out + "/" + IndexStore.manifestFile) {
            throw PipelineError.outputNotAnIndex(path: out)
        }
        let started = Date()
        let configuration = request.configuration
        var inputs: [InputFingerprint] = []
        // RQ-KMeans on content embeddings from a file streams it (StreamingIndexBuild, which also
        // fingerprints it while reading); the other methods and sources read it whole.
        var matrix: Matrix?
        var rowSource: NpyRowSource?
        var embeddingShape: (rows: Int, cols: Int)?
        if case .file(let path)? = request.embeddings, StreamingIndexBuild.supports(configuration) {
            let source = try NpyRowSource(path: path)
            rowSource = source
            embeddingShape = (source.rows, source.columns)
        } else {
            let embeddings = try request.embeddings?.load(role: "embeddings")
            matrix = embeddings?.value
            if let read = matrix { embeddingShape = (read.rows, read.cols) }
            if let fingerprint = embeddings?.fingerprint { inputs.append(fingerprint) }
        }
        if let path = request.embeddings?.path, let (rows, cols) = embeddingShape {
            if let largest = configuration.codebookSizes.max(), largest > rows, !configuration.method.isAssigned {
                // Checked here (and again by the quantizer) so the message names the file.
                throw PipelineError.fewerRowsThanCodes(file: path, rows: rows, codebookSize: largest)
            }
            if configuration.method == .rqKMeans, configuration.source == .content,
               let dims = configuration.kmeans.warmupDimensions, let large = dims.first(where: { 2 * $0 > cols }) {
                throw PipelineError.warmupDimensionTooLarge(dimension: large, embeddingDimension: cols, file: path)
            }
        }
        let embeddingRows = embeddingShape?.rows
        let items = try request.items?.load()
        let records = items?.value
        if let path = request.items?.path, let read = records {
            try ItemCatalogFile.validateDense(read, startingAt: 0, source: path)
            if let embeddingRows, read.count != embeddingRows {
                throw PipelineError.itemCountMismatch(items: path, count: read.count, embeddings: request.embeddings?.path,
                                                      rows: embeddingRows)
            }
        }
        if let fingerprint = items?.fingerprint { inputs.append(fingerprint) }
        let sequences = try request.sequences?.load(itemCount: embeddingRows ?? records?.count ?? 0)
        let histories = sequences?.value
        if let fingerprint = sequences?.fingerprint { inputs.append(fingerprint) }

        var built: (index: SemanticIndex, catalog: IndexStore.CatalogContent)
        if let rowSource {
            built = try StreamingIndexBuild.build(embeddings: rowSource, items: records, otherInputs: inputs,
                                                  configuration: configuration, progress: request.progress)
        } else {
            let made = try IndexBuilder.build(embeddings: matrix, items: records, sequences: histories, inputs: inputs,
                                              configuration: configuration, progress: request.progress)
            built = (made.index, .new(made.catalog))
        }
        // The decoding trie is stored with the index when IDs are unique (not under collision
        // policy none with collisions left, where generation would be ambiguous anyway).
        var trieStored = true
        do {
            try CodeTrie.attach(to: &built.index)
        } catch DecodingError.duplicateID {
            trieStored = false
        }
        try IndexStore.write(built.index, catalog: built.catalog, to: out, overwrite: request.overwrite,
                             progress: request.progress, waiting: request.waiting)
        let index = try IndexStore.open(at: out)
        let report = try index.report(groupLimit: request.reportGroups)
        return BuildResult(index: index, report: report, trieStored: trieStored,
                           seconds: Date().timeIntervalSince(started))
    }
}
