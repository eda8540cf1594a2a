import SemidMath

/// Trains a ``ResidualQuantizer``: k-means on the data, then on what the first level leaves, and so on.
public enum ResidualKMeans {
    /// Parameters of residual k-means training. Recorded in the index manifest.
    public struct Configuration: Codable, Equatable, Sendable {
        /// Codes at each level, `K_l` for `l = 0..<L` (each ≥ 2); the number of levels `L` is
        /// its count. Sizes may differ per level (e.g. `[1024, 256, 256]`).
        public var codebookSizes: [Int]
        /// The k-means settings used at every level; its `clusters` is replaced by the level's
        /// size (``kmeans(level:)``).
        public var kmeans: KMeans.Configuration

        /// Number of levels `L`.
        public var levels: Int { codebookSizes.count }

        /// Creates a configuration with one size per level; `kmeans` defaults to
        /// ``KMeans/Configuration`` defaults (its `clusters` is set to the first level's size).
        public init(codebookSizes: [Int], kmeans: KMeans.Configuration? = nil) {
            self.codebookSizes = codebookSizes
            let first = codebookSizes.first ?? 2
            var k = kmeans ?? KMeans.Configuration(clusters: first)
            k.clusters = first
            self.kmeans = k
        }

        /// `levels` levels of `codebookSize` codes each.
        public init(levels: Int, codebookSize: Int, kmeans: KMeans.Configuration? = nil) {
            self.init(codebookSizes: Array(repeating: codebookSize, count: Swift.max(0, levels)), kmeans: kmeans)
        }

        /// The k-means settings of level `level`: ``kmeans`` with `clusters = codebookSizes[level]`.
        public func kmeans(level: Int) -> KMeans.Configuration {
            var k = kmeans
            k.clusters = codebookSizes[level]
            return k
        }

        /// Throws for no level, a size outside `2…65536` or above `items`, or bad k-means settings.
        public func validate(items: Int) throws {
            try Self.validate(codebookSizes: codebookSizes, items: items)
            try kmeans.validate()
        }

        /// Checks per-level sizes: at least one level, each size in `2…65536` and at most `items`.
        /// Errors name `levels` / `codebookSize` and the level (1-based).
        public static func validate(codebookSizes: [Int], items: Int) throws {
            if codebookSizes.isEmpty { throw QuantizationError.invalidParameter(name: "levels", value: "0", expected: "at least 1") }
            let many = codebookSizes.count > 1 && Set(codebookSizes).count > 1
            for (l, k) in codebookSizes.enumerated() {
                let value = many ? "\(k) at level \(l + 1)" : "\(k)"
                if k < 2 { throw QuantizationError.invalidParameter(name: "codebookSize", value: value, expected: "at least 2") }
                if k > 65_536 { throw QuantizationError.invalidParameter(name: "codebookSize", value: value, expected: "at most 65536") }
                if k > items { throw QuantizationError.tooFewPoints(points: items, clusters: k) }
            }
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
    /// - Returns: the quantizer (level `l` has `codebookSizes[l]` codes), the greedy codes of every row (`[n, L]`), the final residuals and a report.
    public static func train(
        _ data: Matrix, configuration: Configuration, seed: UInt64, progress: ProgressHandler? = nil
    ) throws -> (quantizer: ResidualQuantizer, codes: CodeMatrix, residual: Matrix, report: Report) {
        try trainLevels(sample: data, rows: Array(0..<data.rows), items: data.rows, configuration: configuration,
                        seed: seed, progress: progress)
    }
}
