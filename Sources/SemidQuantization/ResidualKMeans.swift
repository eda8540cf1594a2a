import SemidMath

/// Trains a ``ResidualQuantizer``: k-means on the data, then on what the first level leaves, and so on.
public enum ResidualKMeans {
    /// Parameters of residual k-means training. Recorded in the index manifest.
    public struct Configuration: Codable, Equatable, Sendable {
        /// Number of levels `L` (≥ 1).
        public var levels: Int
        /// Codes per level `K` (≥ 2).
        public var codebookSize: Int
        /// The k-means settings used at every level (its `clusters` is `codebookSize`).
        public var kmeans: KMeans.Configuration

        /// Creates a configuration; `kmeans` defaults to ``KMeans/Configuration`` defaults.
        public init(levels: Int, codebookSize: Int, kmeans: KMeans.Configuration? = nil) {
            self.levels = levels
            self.codebookSize = codebookSize
            var k = kmeans ?? KMeans.Configuration(clusters: codebookSize)
            k.clusters = codebookSize
            self.kmeans = k
        }

        /// Throws for `levels < 1`, `codebookSize < 2` or bad k-means settings.
        public func validate(items: Int) throws {
            if levels < 1 { throw QuantizationError.invalidParameter(name: "levels", value: "\(levels)", expected: "at least 1") }
            if codebookSize < 2 { throw QuantizationError.invalidParameter(name: "codebookSize", value: "\(codebookSize)", expected: "at least 2") }
            if codebookSize > 65_536 { throw QuantizationError.invalidParameter(name: "codebookSize", value: "\(codebookSize)", expected: "at most 65536") }
            if codebookSize > items { throw QuantizationError.tooFewPoints(points: items, clusters: codebookSize) }
            try kmeans.validate()
        }
    }

    /// What training produced besides the quantizer.
    public struct Report: Codable, Sendable, Equatable {
        /// Per level: k-means iterations, training points, empty clusters re-seeded, and the mean
        /// squared norm of the residual after the level (over all rows).
        public struct Level: Codable, Sendable, Equatable {
            /// k-means iterations run at this level.
            public var iterations: Int
            /// Residual rows sampled to train this level.
            public var trainingPoints: Int
            /// Empty clusters re-seeded over the level's fit.
            public var reseededClusters: Int
            /// `mean ‖r‖²` of the residual after this level, over all `n` rows.
            public var residualMeanSquaredNorm: Double

            /// A level's figures (e.g. handed back through the C ABI).
            public init(iterations: Int, trainingPoints: Int, reseededClusters: Int, residualMeanSquaredNorm: Double) {
                self.iterations = iterations
                self.trainingPoints = trainingPoints
                self.reseededClusters = reseededClusters
                self.residualMeanSquaredNorm = residualMeanSquaredNorm
            }
        }
        /// One entry per level.
        public var levels: [Level]

        /// A report of `levels`.
        public init(levels: [Level]) { self.levels = levels }
    }

    /// Trains on the rows of `data` (`[n, d]`) and encodes them.
    ///
    /// Level `l` trains on a fresh random sample of the current residuals (all `n` rows are
    /// encoded at every level, which is also the final encoding), so training and encoding cost one
    /// nearest-centroid pass over the data per level plus the k-means iterations on the sample.
    /// This is ``train(sample:rows:items:configuration:seed:progress:)`` with every row as the sample.
    ///
    /// - Returns: the quantizer, the greedy codes of every row (`[n, L]`), the final residuals and a report.
    public static func train(
        _ data: Matrix, configuration: Configuration, seed: UInt64, progress: ProgressHandler? = nil
    ) throws -> (quantizer: ResidualQuantizer, codes: CodeMatrix, residual: Matrix, report: Report) {
        try trainLevels(sample: data, rows: Array(0..<data.rows), items: data.rows, configuration: configuration,
                        seed: seed, progress: progress)
    }
}
