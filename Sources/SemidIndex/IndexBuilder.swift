import Foundation
import SemidMath
import SemidQuantization
import SemidStorage

/// The version of semid that writes indexes (recorded as `created_by`).
public enum SemidVersion {
    /// Semantic version of this release.
    public static let current = "0.1.0"
}

/// The quantization method of a build.
public enum QuantizationMethod: String, Codable, Sendable, CaseIterable {
    /// Residual k-means.
    case rqKMeans = "rq-kmeans"
    /// RQ-VAE: MLP encoder, residual codebooks in its latent space, MLP decoder.
    case rqVAE = "rq-vae"
}

/// Everything `semid build` needs besides the data.
public struct BuildConfiguration: Sendable {
    /// The quantizer.
    public var method: QuantizationMethod = .rqKMeans
    /// Quantizer levels `L`.
    public var levels: Int
    /// Codes per level `K`.
    public var codebookSize: Int
    /// How colliding raw codes are made unique.
    public var collisionPolicy: CollisionPolicy = .suffix
    /// The seed of every random choice.
    public var seed: UInt64 = 0
    /// k-means settings for RQ-KMeans (`clusters` is set to `codebookSize`).
    public var kmeans: KMeans.Configuration
    /// RQ-VAE settings (`levels` and `codebookSize` are set from this configuration's).
    public var rqvae: RQVAE.Configuration
    /// Maximum rows per shard for per-item arrays.
    public var rowsPerShard: Int = 262_144

    /// A configuration with default k-means and RQ-VAE settings.
    public init(levels: Int, codebookSize: Int, collisionPolicy: CollisionPolicy = .suffix, seed: UInt64 = 0) {
        self.levels = levels
        self.codebookSize = codebookSize
        self.collisionPolicy = collisionPolicy
        self.seed = seed
        self.kmeans = KMeans.Configuration(clusters: codebookSize)
        self.rqvae = RQVAE.Configuration(levels: levels, codebookSize: codebookSize)
    }
}

/// Builds an index in memory from embeddings and item metadata: train, encode, resolve collisions,
/// measure. ``IndexStore/write(_:catalog:to:overwrite:progress:)`` then puts it on disk.
public enum IndexBuilder {
    /// The largest embedding magnitude accepted: squared distances of 1e4 × d-dimensional vectors
    /// stay far inside float32's range.
    public static let maximumMagnitude: Float = 1e12

    /// Trains the quantizer on `embeddings` (`[n, d]`, row `i` = item `i`) and assigns final IDs.
    ///
    /// - Parameters:
    ///   - items: metadata for items `0..<n` (ids must be exactly `0..<n`), or `nil` for untitled items.
    ///   - inputs: fingerprints of the input files, recorded in the manifest.
    /// - Returns: the index and its catalog rows.
    public static func build(
        embeddings: Matrix, items: [ItemRecord]?, inputs: [InputFingerprint],
        configuration: BuildConfiguration, progress: ProgressHandler? = nil
    ) throws -> (index: SemanticIndex, catalog: [CatalogItem]) {
        let n = embeddings.rows
        if let items {
            guard items.count == n else {
                throw IndexError.inconsistentInput(
                    "the items file lists \(items.count) items but the embeddings have \(n) rows; row i must be item i")
            }
            for (position, item) in items.enumerated() where item.id != position {
                throw IndexError.inconsistentInput(
                    "item ids must be exactly 0..<\(n) (row i of the embeddings is item i); id \(position) is missing")
            }
        }
        if let bad = embeddings.firstNonFinite() {
            throw IndexError.inconsistentInput("embeddings row \(bad.row), column \(bad.column) is not finite")
        }
        if let large = embeddings.values.firstIndex(where: { abs($0) > Self.maximumMagnitude }) {
            throw IndexError.inconsistentInput(
                "embeddings row \(large / embeddings.cols), column \(large % embeddings.cols) is \(embeddings.values[large]); values beyond ±\(Self.maximumMagnitude) overflow squared distances in float32 (rescale the embeddings)")
        }
        if configuration.rowsPerShard < 1 {
            throw QuantizationError.invalidParameter(name: "--rows-per-shard", value: "\(configuration.rowsPerShard)", expected: "at least 1")
        }
        try configuration.collisionPolicy.validate()
        let trained = try trainQuantizer(embeddings, configuration: configuration, progress: progress)
        let reconstruction = try Self.reconstruction(of: embeddings, quantizer: trained.quantizer, codes: trained.codes,
                                                     residualFractions: trained.residualFractions)
        let quantizer = trained.quantizer
        let context = ResolutionContext { rows in
            try quantizer.lastLevelDistances(embeddings.gatheringRows(rows), codes: trained.codes.gatheringRows(rows))
        }
        let resolution = try configuration.collisionPolicy.resolver.resolve(
            raw: trained.codes, codebookSize: configuration.codebookSize, context: context)

        let manifest = IndexManifest(
            format: IndexManifest.formatName, formatVersion: IndexManifest.currentFormatVersion,
            createdBy: "semid \(SemidVersion.current)",
            parameters: BuildParameters(
                method: configuration.method.rawValue, levels: configuration.levels,
                codebookSize: configuration.codebookSize, dimension: embeddings.cols,
                collisionPolicy: configuration.collisionPolicy, seed: configuration.seed,
                kmeans: configuration.method == .rqKMeans ? trained.kmeansConfiguration : nil,
                rqvae: configuration.method == .rqVAE ? trained.rqvaeConfiguration : nil,
                rowsPerShard: configuration.rowsPerShard),
            items: n, idLength: resolution.ids.levels, codeSizes: resolution.codeSizes,
            statistics: BuildStatistics(kmeans: trained.kmeansReport,
                                        rqvae: trained.methodReport, collisions: resolution.summary),
            batches: [Batch(batch: 0, operation: "build", firstItem: 0, items: n, inputs: inputs,
                            reconstruction: reconstruction)],
            shards: [], catalog: FileFingerprint(file: IndexStore.catalogFile, bytes: 0, sha256: ""), extensions: nil)
        let index = SemanticIndex(manifest: manifest, quantizer: quantizer, rawCodes: trained.codes, ids: resolution.ids)
        let rows = (0..<n).map { i in
            CatalogItem(id: i, sourceID: items?[i].sourceID, title: items?[i].title,
                        semanticID: Array(resolution.ids.row(i)), batch: 0)
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

    /// Trains the configured quantizer on `embeddings`.
    static func trainQuantizer(_ embeddings: Matrix, configuration: BuildConfiguration,
                               progress: ProgressHandler?) throws -> TrainedQuantizer {
        switch configuration.method {
        case .rqKMeans:
            var rk = ResidualKMeans.Configuration(levels: configuration.levels, codebookSize: configuration.codebookSize,
                                                  kmeans: configuration.kmeans)
            rk.kmeans.clusters = configuration.codebookSize
            try rk.validate(items: embeddings.rows)
            let trained = try ResidualKMeans.train(embeddings, configuration: rk, seed: configuration.seed, progress: progress)
            let variance = totalVariance(embeddings)
            return TrainedQuantizer(
                quantizer: trained.quantizer, codes: trained.codes,
                residualFractions: trained.report.levels.map { variance > 0 ? $0.residualMeanSquaredNorm / variance : 0 },
                kmeansConfiguration: rk.kmeans, kmeansReport: trained.report, methodReport: nil)
        case .rqVAE:
            var rc = configuration.rqvae
            rc.levels = configuration.levels
            rc.codebookSize = configuration.codebookSize
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

    /// `mean ‖x − μ‖²` over the rows of `data`.
    public static func totalVariance(_ data: Matrix) -> Double {
        let n = data.rows, d = data.cols
        var mean = [Double](repeating: 0, count: d)
        var sumSquares = 0.0
        data.values.withUnsafeBufferPointer { x in
            for i in 0..<n {
                let row = x.baseAddress! + i * d
                for t in 0..<d { mean[t] += Double(row[t]) }
                sumSquares += Double(Distances.squaredNorm(row, count: d))
            }
        }
        let count = Double(max(n, 1))
        let meanNormSquared = mean.reduce(0) { $0 + ($1 / count) * ($1 / count) }
        return max(0, sumSquares / count - meanNormSquared)
    }

    /// Reconstruction figures of `data` (`[n, d]`) by `quantizer.reconstruct(codes)`.
    public static func reconstruction(of data: Matrix, quantizer: any SemanticQuantizer, codes: CodeMatrix,
                                      residualFractions: [Double]) throws -> ReconstructionStatistics {
        let recon = try quantizer.reconstruct(codes)
        let n = data.rows, d = data.cols
        var error = 0.0
        data.values.withUnsafeBufferPointer { x in
            recon.values.withUnsafeBufferPointer { r in
                for i in 0..<n {
                    error += Double(Distances.squaredDistance(x.baseAddress! + i * d, r.baseAddress! + i * d, count: d))
                }
            }
        }
        let variance = totalVariance(data)
        let mse = error / Double(max(n, 1))
        return ReconstructionStatistics(vectors: n, meanSquaredError: mse, totalVariance: variance,
                                        relativeMse: variance > 0 ? mse / variance : 0,
                                        residualFractionByLevel: residualFractions)
    }
}
