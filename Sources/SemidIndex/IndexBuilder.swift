import Foundation
import SemidMath
import SemidQuantization
import SemidStorage

/// The version of semid that writes indexes (recorded as `created_by`).
public enum SemidVersion {
    /// Semantic version of this release.
    public static let current = "0.1.0"
}

/// How a build makes IDs.
public enum QuantizationMethod: String, Codable, Sendable, CaseIterable {
    /// Residual k-means.
    case rqKMeans = "rq-kmeans"
    /// RQ-VAE: MLP encoder, residual codebooks in its latent space, MLP decoder.
    case rqVAE = "rq-vae"
    /// Baseline: random unique codes (no vectors).
    case random
    /// Baseline: items numbered by first appearance in the training sequences, written as digits.
    case sequential

    /// Whether IDs are assigned without quantizing vectors.
    public var isAssigned: Bool { self == .random || self == .sequential }
}

/// Everything `semid build` needs besides the data.
public struct BuildConfiguration: Sendable {
    /// The quantizer.
    public var method: QuantizationMethod = .rqKMeans
    /// Codes at each quantizer level, `K_l` (one entry per level; `L` = its count). Sequential
    /// IDs ignore the sizes and use `⌈n^(1/L)⌉` at every level.
    public var codebookSizes: [Int]
    /// Quantizer levels `L`.
    public var levels: Int { codebookSizes.count }
    /// How colliding raw codes are made unique.
    public var collisionPolicy: CollisionPolicy = .suffix
    /// The seed of every random choice.
    public var seed: UInt64 = 0
    /// k-means settings for RQ-KMeans (`clusters` is set to each level's size).
    public var kmeans: KMeans.Configuration
    /// RQ-VAE settings (its `codebookSizes` are set from this configuration's).
    public var rqvae: RQVAE.Configuration
    /// Maximum rows per shard for per-item arrays.
    public var rowsPerShard: Int = 262_144
    /// The vectors the quantizer sees.
    public var source: ItemVectorSource = .content
    /// Settings for collaborative and hybrid vectors (and the held-out items of sequential IDs).
    public var collaborative = CollaborativeConfiguration()

    /// A configuration with one size per level and default k-means and RQ-VAE settings.
    public init(codebookSizes: [Int], collisionPolicy: CollisionPolicy = .suffix, seed: UInt64 = 0) {
        self.codebookSizes = codebookSizes
        self.collisionPolicy = collisionPolicy
        self.seed = seed
        self.kmeans = KMeans.Configuration(clusters: codebookSizes.first ?? 2)
        self.rqvae = RQVAE.Configuration(codebookSizes: codebookSizes)
    }

    /// `levels` levels of `codebookSize` codes each, default k-means and RQ-VAE settings.
    public init(levels: Int, codebookSize: Int, collisionPolicy: CollisionPolicy = .suffix, seed: UInt64 = 0) {
        self.init(codebookSizes: Array(repeating: codebookSize, count: Swift.max(0, levels)),
                  collisionPolicy: collisionPolicy, seed: seed)
    }
}

/// Builds an index in memory from embeddings and item metadata: train, encode, resolve collisions,
/// measure. ``IndexStore/write(_:catalog:to:overwrite:progress:)`` then puts it on disk.
public enum IndexBuilder {
    /// The largest embedding magnitude accepted: squared distances of 1e4 × d-dimensional vectors
    /// stay far inside float32's range.
    public static let maximumMagnitude: Float = 1e12

    /// Makes IDs for the items: computes the configured vectors, trains the quantizer and assigns
    /// final IDs (or assigns baseline IDs).
    ///
    /// - Parameters:
    ///   - embeddings: content embeddings `[n, d]`, row `i` = item `i`; needed for the `content`
    ///     and `hybrid` sources.
    ///   - items: metadata for items `0..<n` (ids must be exactly `0..<n`), or `nil` for untitled items.
    ///   - sequences: user histories; needed for the `collaborative` and `hybrid` sources and for
    ///     `sequential` IDs. Only their training part (all but the last `heldOutPerUser` items) is used.
    ///   - inputs: fingerprints of the input files, recorded in the manifest.
    /// - Returns: the index and its catalog rows.
    public static func build(
        embeddings: Matrix?, items: [ItemRecord]?, sequences: [UserSequence]? = nil, inputs: [InputFingerprint],
        configuration: BuildConfiguration, progress: ProgressHandler? = nil
    ) throws -> (index: SemanticIndex, catalog: [CatalogItem]) {
        guard let n = embeddings?.rows ?? items?.count else {
            throw IndexError.missingInput(input: "items or embeddings", neededBy: "")
        }
        try checkItems(items, count: n)
        if let embeddings {
            if let bad = embeddings.firstNonFinite() {
                throw IndexError.inconsistentInput("embeddings row \(bad.row), column \(bad.column) is not finite")
            }
            try checkMagnitude(embeddings)
        }
        if configuration.method.isAssigned {
            return try buildAssigned(items: items, count: n, sequences: sequences, inputs: inputs, configuration: configuration)
        }
        let (vectors, vectorStatistics) = try itemVectors(embeddings: embeddings, count: n, sequences: sequences,
                                                          configuration: configuration, progress: progress)
        if configuration.rowsPerShard < 1 {
            throw QuantizationError.invalidParameter(name: "rowsPerShard", value: "\(configuration.rowsPerShard)", expected: "at least 1")
        }
        try configuration.collisionPolicy.validate()
        let trained = try trainQuantizer(vectors, configuration: configuration, progress: progress)
        let (reconstruction, errors) = try Self.reconstruction(of: vectors, quantizer: trained.quantizer, codes: trained.codes,
                                                               residualFractions: trained.residualFractions)
        let quantizer = trained.quantizer
        let context = ResolutionContext { rows in
            try quantizer.lastLevelDistances(vectors.gatheringRows(rows), codes: trained.codes.gatheringRows(rows))
        }
        return try assemble(quantizer: quantizer, rawCodes: trained.codes, errors: errors, reconstruction: reconstruction,
                            dimension: vectors.cols, context: context, trained: trained, vectorStatistics: vectorStatistics,
                            items: items, inputs: inputs, configuration: configuration)
    }

    /// The index and catalog rows of a trained quantizer and its raw codes: resolves collisions and
    /// writes the manifest (parameters, training report, reconstruction figures).
    ///
    /// - Parameters:
    ///   - rawCodes: `[n, L]`; `errors`: each item's squared reconstruction error, `[n]`.
    ///   - context: what the collision resolver may consult (distances for `sinkhorn`).
    ///   - trained: the training outcome (configurations and reports for the manifest).
    static func assemble(
        quantizer: any SemanticQuantizer, rawCodes: CodeMatrix, errors: [Float], reconstruction: ReconstructionStatistics,
        dimension: Int, context: ResolutionContext, trained: TrainedQuantizer, vectorStatistics: ItemVectors.Statistics?,
        items: [ItemRecord]?, inputs: [InputFingerprint], configuration: BuildConfiguration
    ) throws -> (index: SemanticIndex, catalog: [CatalogItem]) {
        let index = try assembleIndex(quantizer: quantizer, rawCodes: rawCodes, errors: errors, reconstruction: reconstruction,
                                      dimension: dimension, context: context, trained: trained,
                                      vectorStatistics: vectorStatistics, inputs: inputs, configuration: configuration)
        let ids = index.ids
        let rows = (0..<rawCodes.rows).map { i in
            CatalogItem(id: i, sourceID: items?[i].sourceID, title: items?[i].title, semanticID: Array(ids.row(i)), batch: 0)
        }
        return (index, rows)
    }

    /// The index of ``assemble(quantizer:rawCodes:errors:reconstruction:dimension:context:trained:vectorStatistics:items:inputs:configuration:)``
    /// without its catalog rows (a streaming build makes them one at a time as they are written).
    static func assembleIndex(
        quantizer: any SemanticQuantizer, rawCodes: CodeMatrix, errors: [Float], reconstruction: ReconstructionStatistics,
        dimension: Int, context: ResolutionContext, trained: TrainedQuantizer, vectorStatistics: ItemVectors.Statistics?,
        inputs: [InputFingerprint], configuration: BuildConfiguration
    ) throws -> SemanticIndex {
        let n = rawCodes.rows
        let resolution = try configuration.collisionPolicy.resolver.resolve(
            raw: rawCodes, codebookSizes: quantizer.codebookSizes, context: context)

        let manifest = IndexManifest(
            format: IndexManifest.formatName, formatVersion: IndexManifest.currentFormatVersion,
            createdBy: "semid \(SemidVersion.current)",
            parameters: BuildParameters(
                method: configuration.method.rawValue, codebookSizes: quantizer.codebookSizes, dimension: dimension,
                collisionPolicy: configuration.collisionPolicy, seed: configuration.seed,
                kmeans: configuration.method == .rqKMeans ? trained.kmeansConfiguration : nil,
                rqvae: configuration.method == .rqVAE ? trained.rqvaeConfiguration : nil,
                rowsPerShard: configuration.rowsPerShard, source: configuration.source,
                collaborative: configuration.source == .content ? nil : configuration.collaborative),
            items: n, idLength: resolution.ids.levels, codeSizes: resolution.codeSizes,
            statistics: BuildStatistics(kmeans: trained.kmeansReport,
                                        rqvae: trained.methodReport, collisions: resolution.summary,
                                        collaborative: vectorStatistics),
            batches: [Batch(batch: 0, operation: "build", firstItem: 0, items: n, inputs: inputs,
                            reconstruction: reconstruction)],
            shards: [], catalog: FileFingerprint(file: IndexStore.catalogFile, bytes: 0, sha256: ""), extensions: nil)
        return SemanticIndex(manifest: manifest, quantizer: quantizer, rawCodes: rawCodes, ids: resolution.ids,
                             attachments: [ReconstructionErrors.itemArray: ShardArray(float32: errors, shape: [n])])
    }

    /// Throws unless `items` (when given) are exactly items `0..<n`, in order.
    static func checkItems(_ items: [ItemRecord]?, count n: Int) throws {
        guard let items else { return }
        guard items.count == n else {
            throw IndexError.inconsistentInput(
                "the items file lists \(items.count) items but the embeddings have \(n) rows; row i must be item i")
        }
        for (position, item) in items.enumerated() where item.id != position {
            throw IndexError.inconsistentInput(
                "item ids must be exactly 0..<\(n) (row i of the embeddings is item i); id \(position) is missing")
        }
    }

    /// Throws for the first value of `x` beyond ``maximumMagnitude``, naming its row of the
    /// embeddings: `row(r) + firstRow` for row `r` of `x`.
    static func checkMagnitude(_ x: Matrix, firstRow: Int = 0, row: (Int) -> Int = { $0 }) throws {
        if let large = x.values.firstIndex(where: { abs($0) > Self.maximumMagnitude }) {
            throw IndexError.inconsistentInput(
                "embeddings row \(row(large / x.cols) + firstRow), column \(large % x.cols) is \(x.values[large]); values beyond ±\(Self.maximumMagnitude) overflow squared distances in float32 (rescale the embeddings)")
        }
    }

    /// The vectors the quantizer sees, per ``BuildConfiguration/source``.
    static func itemVectors(embeddings: Matrix?, count: Int, sequences: [UserSequence]?, configuration: BuildConfiguration,
                            progress: ProgressHandler?) throws -> (Matrix, ItemVectors.Statistics?) {
        func collaborative() throws -> (Matrix, ItemVectors.Statistics) {
            guard let sequences else {
                throw IndexError.missingInput(input: "sequences", neededBy: "source \(configuration.source.rawValue)")
            }
            progress?(ProgressEvent(stage: "collaborative vectors from \(sequences.count) sequences"))
            return try ItemVectors.collaborative(sequences: sequences, itemCount: count,
                                                 configuration: configuration.collaborative, seed: configuration.seed)
        }
        func content() throws -> Matrix {
            guard let embeddings else {
                throw IndexError.missingInput(input: "embeddings", neededBy: "source \(configuration.source.rawValue)")
            }
            return embeddings
        }
        switch configuration.source {
        case .content:
            return (try content(), nil)
        case .collaborative:
            let (vectors, statistics) = try collaborative()
            return (vectors, statistics)
        case .hybrid:
            let c = try content()
            let (u, statistics) = try collaborative()
            return (ItemVectors.hybrid(content: c, collaborative: u, contentWeight: configuration.collaborative.contentWeight), statistics)
        }
    }

    /// Random or sequential baseline IDs: no quantizer, no collisions.
    static func buildAssigned(items: [ItemRecord]?, count n: Int, sequences: [UserSequence]?, inputs: [InputFingerprint],
                              configuration: BuildConfiguration) throws -> (index: SemanticIndex, catalog: [CatalogItem]) {
        if configuration.levels < 1 {
            throw QuantizationError.invalidParameter(name: "levels", value: "\(configuration.levels)", expected: "at least 1")
        }
        let ids: CodeMatrix
        let sizes: [Int]
        switch configuration.method {
        case .sequential:
            guard let sequences else {
                throw IndexError.missingInput(input: "sequences", neededBy: "method sequential")
            }
            let (sequential, base) = try AssignedIDs.sequential(items: n, levels: configuration.levels, sequences: sequences,
                                                                heldOut: configuration.collaborative.heldOutPerUser)
            (ids, sizes) = (sequential, Array(repeating: base, count: configuration.levels))
        default:
            try ResidualKMeans.Configuration.validate(codebookSizes: configuration.codebookSizes, items: Int.max)
            ids = try AssignedIDs.random(items: n, codebookSizes: configuration.codebookSizes, seed: configuration.seed)
            sizes = configuration.codebookSizes
        }
        let none = ReconstructionStatistics(vectors: 0, meanSquaredError: 0, totalVariance: 0, relativeMse: 0,
                                            residualFractionByLevel: [])
        let manifest = IndexManifest(
            format: IndexManifest.formatName, formatVersion: IndexManifest.currentFormatVersion,
            createdBy: "semid \(SemidVersion.current)",
            parameters: BuildParameters(
                method: configuration.method.rawValue, codebookSizes: sizes, dimension: 0,
                collisionPolicy: .none, seed: configuration.seed, kmeans: nil, rqvae: nil, rowsPerShard: configuration.rowsPerShard,
                source: nil, collaborative: configuration.method == .sequential ? configuration.collaborative : nil),
            items: n, idLength: configuration.levels, codeSizes: sizes,
            statistics: BuildStatistics(kmeans: nil, rqvae: nil,
                                        collisions: .init(itemsMoved: 0, suffixSize: nil, rounds: []), collaborative: nil),
            batches: [Batch(batch: 0, operation: "build", firstItem: 0, items: n, inputs: inputs, reconstruction: none)],
            shards: [], catalog: FileFingerprint(file: IndexStore.catalogFile, bytes: 0, sha256: ""), extensions: nil)
        let quantizer = AssignedCodes(method: configuration.method.rawValue, codebookSizes: sizes)
        let index = SemanticIndex(manifest: manifest, quantizer: quantizer, rawCodes: ids, ids: ids)
        let rows = (0..<n).map { i in
            CatalogItem(id: i, sourceID: items?[i].sourceID, title: items?[i].title, semanticID: Array(ids.row(i)), batch: 0)
        }
        return (index, rows)
    }

    /// What training a quantizer produced.
    struct TrainedQuantizer {
        var quantizer: any SemanticQuantizer
        /// Raw codes of the training data, `[n, L]`.
        var codes: CodeMatrix
        /// Mean squared residual after each level over the variance of the quantized vectors.
        var residualFractions: [Double]
        var kmeansConfiguration: KMeans.Configuration?
        var kmeansReport: ResidualKMeans.Report?
        var rqvaeConfiguration: RQVAE.Configuration?
        var methodReport: JSONValue?
    }

    /// The residual k-means settings of an `rq-kmeans` build.
    static func residualKMeansConfiguration(_ configuration: BuildConfiguration) -> ResidualKMeans.Configuration {
        ResidualKMeans.Configuration(codebookSizes: configuration.codebookSizes, kmeans: configuration.kmeans)
    }

    /// Trains the configured quantizer on `embeddings`.
    static func trainQuantizer(_ embeddings: Matrix, configuration: BuildConfiguration,
                               progress: ProgressHandler?) throws -> TrainedQuantizer {
        switch configuration.method {
        case .random, .sequential:
            throw IndexError.inconsistentInput("\(configuration.method.rawValue) IDs are assigned, not trained")
        case .rqKMeans:
            let rk = residualKMeansConfiguration(configuration)
            try rk.validate(items: embeddings.rows)
            let trained = try ResidualKMeans.train(embeddings, configuration: rk, seed: configuration.seed, progress: progress)
            let variance = embeddings.totalVariance
            return TrainedQuantizer(
                quantizer: trained.quantizer, codes: trained.codes,
                residualFractions: trained.report.levels.map { variance > 0 ? $0.residualMeanSquaredNorm / variance : 0 },
                kmeansConfiguration: rk.kmeans, kmeansReport: trained.report, methodReport: nil)
        case .rqVAE:
            var rc = configuration.rqvae
            rc.codebookSizes = configuration.codebookSizes
            try rc.validate(items: embeddings.rows, dimension: embeddings.cols)
            let trained = try RQVAE.train(embeddings, configuration: rc, seed: configuration.seed, progress: progress)
            let e = trained.evaluation
            return TrainedQuantizer(
                quantizer: trained.quantizer, codes: trained.codes,
                residualFractions: e.latentResidualError.map { e.latentVariance > 0 ? $0 / e.latentVariance : 0 },
                kmeansConfiguration: nil, kmeansReport: nil, rqvaeConfiguration: rc,
                methodReport: try JSONValue(encoding: trained.report))
        }
    }

    /// Reconstruction figures of `data` (`[n, d]`) by `quantizer.reconstruct(codes)`, and each
    /// row's squared error (`[n]`, stored as ``ReconstructionErrors/itemArray``).
    public static func reconstruction(of data: Matrix, quantizer: any SemanticQuantizer, codes: CodeMatrix,
                                      residualFractions: [Double]) throws -> (statistics: ReconstructionStatistics, errors: [Float]) {
        let errors = ReconstructionErrors.squaredErrors(of: data, reconstruction: try quantizer.reconstruct(codes))
        let error = errors.reduce(0.0) { $0 + Double($1) }
        return (reconstructionStatistics(errorSum: error, vectors: data.rows, variance: data.totalVariance,
                                         residualFractions: residualFractions), errors)
    }

    /// The reconstruction figures of `vectors` items whose squared errors sum (in item order) to
    /// `errorSum`, with total variance `variance` and the residual fraction after each level.
    static func reconstructionStatistics(errorSum: Double, vectors: Int, variance: Double,
                                         residualFractions: [Double]) -> ReconstructionStatistics {
        let mse = errorSum / Double(max(vectors, 1))
        return ReconstructionStatistics(vectors: vectors, meanSquaredError: mse, totalVariance: variance,
                                        relativeMse: variance > 0 ? mse / variance : 0,
                                        residualFractionByLevel: residualFractions)
    }
}
