import SemidMath

/// Training on the seeded sample only: the rows each level's k-means draws are known from the
/// number of items, the configuration and the seed, so a caller can gather just those rows (from a
/// file larger than memory, or from Spark executors) and get the quantizer that training on the
/// whole input gives. ``ResidualKMeans/train(_:configuration:seed:progress:)`` is this path with
/// every row as the sample.
extension ResidualKMeans {
    /// The rows (ascending, unique) of an `items`-row input that training reads over all levels:
    /// the union of every level's seeded sample, or all `0..<items` when some level trains on every
    /// row (`items ≤ maxPointsPerCentroid × K_l`, or `maxPointsPerCentroid == 0`).
    ///
    /// A function of `(items, configuration, seed)` only. Level `l` draws
    /// `maxPointsPerCentroid × K_l` rows with the generator derived from the seed for that level
    /// (``KMeans/trainingRows(points:configuration:generator:)``).
    ///
    /// Complexity: `O(Σ_l m_l log m_l)` for the `m_l` rows of level `l`.
    public static func trainingRows(items: Int, configuration: Configuration, seed: UInt64) -> [Int] {
        var union: [Int] = []
        let root = SeededGenerator(seed: seed)
        for level in 0..<configuration.levels {
            var generator = root.derived(UInt64(level))
            guard let rows = KMeans.trainingRows(points: items, configuration: configuration.kmeans(level: level),
                                                 generator: &generator) else { return Array(0..<max(items, 0)) }
            union = mergedUnique(union, rows)
        }
        return union
    }

    /// Trains from the sampled rows only.
    ///
    /// - Parameters:
    ///   - sample: `[rows.count, d]`; row `i` is input row `rows[i]`.
    ///   - rows: ascending, unique rows of the input, containing every row of
    ///     ``trainingRows(items:configuration:seed:)`` (usually exactly those).
    ///   - items: the input's row count `n`.
    /// - Returns: the quantizer training on all `n` rows gives, bit for bit, and the training report.
    ///   Its `residualMeanSquaredNorm` per level is over the `rows` given; a caller that encodes every
    ///   item replaces it with the mean over all of them.
    /// - Throws: ``QuantizationError`` for bad settings, a sample whose shape does not match `rows`, or
    ///   `rows` that are not ascending, out of `0..<items`, or miss a row some level trains on.
    /// - Complexity: the k-means fits on `m_l` rows per level plus one exact nearest-centroid pass over
    ///   the `rows.count` sampled rows per level (`rows.count·K·d` multiply-adds); memory
    ///   `O(rows.count·d)` for the residuals of the sample and `O(m_l·d)` for one level's training rows.
    public static func train(
        sample: consuming Matrix, rows: [Int], items: Int, configuration: Configuration, seed: UInt64,
        progress: ProgressHandler? = nil
    ) throws -> (quantizer: ResidualQuantizer, report: Report) {
        let trained = try trainLevels(sample: consume sample, rows: rows, items: items, configuration: configuration,
                                      seed: seed, progress: progress)
        return (trained.quantizer, trained.report)
    }

    /// The levels trained from `sample` (see ``train(sample:rows:items:configuration:seed:progress:)``),
    /// with the greedy codes (`[rows.count, L]`) and final residuals (`[rows.count, d]`) of the sample rows.
    static func trainLevels(
        sample: consuming Matrix, rows: [Int], items: Int, configuration: Configuration, seed: UInt64,
        progress: ProgressHandler?
    ) throws -> (quantizer: ResidualQuantizer, codes: CodeMatrix, residual: Matrix, report: Report) {
        try configuration.validate(items: items)
        guard sample.rows == rows.count else {
            throw QuantizationError.invalidParameter(
                name: "sample", value: "\(sample.rows) rows", expected: "one row per training row (\(rows.count))")
        }
        for (position, row) in rows.enumerated() where row < 0 || row >= items || (position > 0 && rows[position - 1] >= row) {
            throw QuantizationError.invalidParameter(
                name: "rows", value: "\(row) at position \(position)", expected: "ascending, unique rows in 0..<\(items)")
        }
        let root = SeededGenerator(seed: seed)
        var residual = sample
        var books: [Matrix] = []
        var codes = CodeMatrix(rows: rows.count, levels: configuration.levels)
        var levelReports: [Report.Level] = []
        for level in 0..<configuration.levels {
            let kmeans = configuration.kmeans(level: level)
            var generator = root.derived(UInt64(level))
            let stage = "level \(level + 1)/\(configuration.levels) k-means"
            let levelSample: Matrix
            if let levelRows = KMeans.trainingRows(points: items, configuration: kmeans, generator: &generator) {
                levelSample = residual.gatheringRows(try positions(of: levelRows, in: rows, level: level))
            } else if rows.count == items {
                levelSample = residual
            } else {
                throw QuantizationError.invalidParameter(
                    name: "rows", value: "\(rows.count) of \(items) rows",
                    expected: "every row: level \(level + 1) trains on all \(items) items")
            }
            let fit = try KMeans.fit(sample: levelSample, configuration: kmeans, generator: &generator,
                                     stage: stage, progress: progress)
            let (labels, distances) = Distances.nearest(residual, in: fit.centroids)
            ResidualQuantizer.subtract(fit.centroids, labels: labels, from: &residual)
            for i in 0..<rows.count { codes[i, level] = labels[i] }
            let mean = distances.reduce(0.0) { $0 + Double($1) } / Double(max(rows.count, 1))
            levelReports.append(.init(iterations: fit.iterations, trainingPoints: fit.trainingPoints,
                                      reseededClusters: fit.reseededClusters, residualMeanSquaredNorm: mean))
            books.append(fit.centroids)
            progress?(ProgressEvent(stage: stage, step: fit.iterations, total: kmeans.iterations,
                                    detail: "residual \(mean)", finished: true))
        }
        return (try ResidualQuantizer(codebooks: books), codes, residual, Report(levels: levelReports))
    }

    /// The position in `rows` (ascending) of every value of `wanted` (ascending), by one merge.
    private static func positions(of wanted: [Int], in rows: [Int], level: Int) throws -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(wanted.count)
        var p = 0
        for row in wanted {
            while p < rows.count && rows[p] < row { p += 1 }
            guard p < rows.count, rows[p] == row else {
                throw QuantizationError.invalidParameter(
                    name: "rows", value: "a sample without row \(row)",
                    expected: "every row level \(level + 1) trains on (ResidualKMeans.trainingRows)")
            }
            out.append(p)
        }
        return out
    }

    /// The sorted union of two ascending arrays of unique values.
    private static func mergedUnique(_ a: [Int], _ b: [Int]) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i] < b[j]) { out.append(a[i]); i += 1 }
            else if i == a.count || b[j] < a[i] { out.append(b[j]); j += 1 }
            else { out.append(a[i]); i += 1; j += 1 }
        }
        return out
    }
}
