import SemidMath
import SemidQuantization
import SemidStorage

extension IndexBuilder {
    /// Items encoded outside this process (for instance by Spark executors, each encoding its
    /// partition with the same codebooks): everything a build needs from the vectors, without them.
    public struct EncodedItems: Sendable {
        /// Raw codes, `[n, L]`, row `i` = item `i`.
        public var rawCodes: CodeMatrix
        /// Each item's squared reconstruction error `‖x_i − x̂_i‖²`, `[n]` (stored as
        /// ``ReconstructionErrors/itemArray``).
        public var squaredErrors: [Float]
        /// The squared norm of each item's residual after each level, `[n, L]` row-major, or `nil`:
        /// with it the manifest gets the per-level residual figures of an in-memory build.
        public var levelErrors: [Float]?
        /// The items' total variance `mean ‖x − μ‖²` (``Matrix/totalVariance`` of the embeddings).
        public var totalVariance: Double

        /// Wraps the arrays; ``IndexBuilder/build(codebooks:encoded:trainingReport:items:inputs:configuration:)`` checks them.
        public init(rawCodes: CodeMatrix, squaredErrors: [Float], levelErrors: [Float]?, totalVariance: Double) {
            self.rawCodes = rawCodes
            self.squaredErrors = squaredErrors
            self.levelErrors = levelErrors
            self.totalVariance = totalVariance
        }
    }

    /// Makes an index from trained RQ-KMeans codebooks and the raw codes of every item, as
    /// ``build(embeddings:items:sequences:inputs:configuration:progress:)`` would from the vectors:
    /// resolves collisions (`none` or `suffix`; `sinkhorn` re-assigns codes by their distances to
    /// the vectors, which are not here) and writes the same manifest fields.
    ///
    /// - Parameters:
    ///   - codebooks: the quantizer the codes come from (`configuration.levels` levels of
    ///     `configuration.codebookSize` codes).
    ///   - encoded: the items' codes and errors; `n` rows.
    ///   - trainingReport: the k-means report of the training (iterations, training points,
    ///     re-seeded clusters per level); `nil` leaves the manifest without one. With
    ///     ``EncodedItems/levelErrors`` its residual norms are replaced by the mean over all `n`
    ///     items (summed in item order, as an in-memory build does).
    ///   - items: metadata of items `0..<n`, or `nil` for untitled items.
    ///   - inputs: fingerprints recorded in the manifest.
    /// - Complexity: O(n·L) besides the collision policy.
    public static func build(
        codebooks: ResidualQuantizer, encoded: EncodedItems, trainingReport: ResidualKMeans.Report?,
        items: [ItemRecord]?, inputs: [InputFingerprint], configuration: BuildConfiguration
    ) throws -> (index: SemanticIndex, catalog: [CatalogItem]) {
        let codes = encoded.rawCodes, n = codes.rows, levels = configuration.levels
        guard configuration.method == .rqKMeans, configuration.source == .content else {
            throw IndexError.inconsistentInput("an index from codes takes RQ-KMeans codebooks of content embeddings (got method \(configuration.method.rawValue), source \(configuration.source.rawValue))")
        }
        if case .sinkhorn = configuration.collisionPolicy {
            throw IndexError.inconsistentInput("the sinkhorn collision policy re-assigns last-level codes by the items' distances to the codebook, so it needs the vectors: build from codes with --collisions suffix or none, or use semid build on the embeddings")
        }
        guard n >= 1 else { throw IndexError.inconsistentInput("there are no items (the raw codes have 0 rows)") }
        if configuration.rowsPerShard < 1 {
            throw QuantizationError.invalidParameter(name: "--rows-per-shard", value: "\(configuration.rowsPerShard)", expected: "at least 1")
        }
        guard codebooks.codebookSizes == configuration.codebookSizes else {
            throw IndexError.inconsistentInput("the codebooks have \(CodebookSizes.shape(codebooks.codebookSizes)) codes but the configuration asks for \(CodebookSizes.shape(configuration.codebookSizes))")
        }
        guard codes.levels == levels else {
            throw IndexError.inconsistentInput("the raw codes have \(codes.levels) columns, expected one per level (\(levels))")
        }
        try codes.validate(codebookSizes: configuration.codebookSizes)
        guard encoded.squaredErrors.count == n else {
            throw IndexError.inconsistentInput("there are \(encoded.squaredErrors.count) squared errors for \(n) items")
        }
        if let bad = encoded.squaredErrors.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
            throw IndexError.inconsistentInput("the squared error of item \(bad) is \(encoded.squaredErrors[bad]), expected a finite value ≥ 0")
        }
        guard encoded.totalVariance.isFinite, encoded.totalVariance >= 0 else {
            throw IndexError.inconsistentInput("the total variance is \(encoded.totalVariance), expected a finite value ≥ 0")
        }
        if let items {
            guard items.count == n else {
                throw IndexError.inconsistentInput("the items file lists \(items.count) items but there are codes for \(n); item i must have row i of the codes")
            }
            for (position, item) in items.enumerated() where item.id != position {
                throw IndexError.inconsistentInput("item ids must be exactly 0..<\(n); id \(position) is missing")
            }
        }
        if let report = trainingReport, report.levels.count != levels {
            throw IndexError.inconsistentInput("the training report has \(report.levels.count) levels, expected \(levels)")
        }

        // Residual norms per level over all items, in item order (as ResidualKMeans.train sums them).
        var report = trainingReport
        var levelMeans: [Double]?
        if let levelErrors = encoded.levelErrors {
            guard levelErrors.count == n * levels else {
                throw IndexError.inconsistentInput("there are \(levelErrors.count) level errors, expected items × levels = \(n * levels)")
            }
            if let bad = levelErrors.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
                throw IndexError.inconsistentInput("the level-\(bad % levels + 1) error of item \(bad / levels) is \(levelErrors[bad]), expected a finite value ≥ 0")
            }
            var sums = [Double](repeating: 0, count: levels)
            for i in 0..<n {
                for level in 0..<levels { sums[level] += Double(levelErrors[i * levels + level]) }
            }
            let means = sums.map { $0 / Double(n) }
            levelMeans = means
            for level in 0..<levels where report != nil { report?.levels[level].residualMeanSquaredNorm = means[level] }
        }
        let variance = encoded.totalVariance
        let error = encoded.squaredErrors.reduce(0.0) { $0 + Double($1) }
        let reconstruction = reconstructionStatistics(
            errorSum: error, vectors: n, variance: variance,
            residualFractions: (levelMeans ?? []).map { variance > 0 ? $0 / variance : 0 })
        let trained = TrainedQuantizer(quantizer: codebooks, codes: codes, residualFractions: reconstruction.residualFractionByLevel,
                                       kmeansConfiguration: residualKMeansConfiguration(configuration).kmeans,
                                       kmeansReport: report, methodReport: nil)
        let context = ResolutionContext { _ in
            throw IndexError.inconsistentInput("this collision policy needs the items' vectors, which an index from codes does not have")
        }
        return try assemble(quantizer: codebooks, rawCodes: codes, errors: encoded.squaredErrors, reconstruction: reconstruction,
                            dimension: codebooks.inputDimension, context: context, trained: trained, vectorStatistics: nil,
                            items: items, inputs: inputs, configuration: configuration)
    }
}
