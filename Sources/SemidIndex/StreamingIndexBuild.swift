import Foundation
import SemidMath
import SemidQuantization
import SemidStorage

/// Builds an RQ-KMeans index from embeddings read by chunks (``NpyRowSource``), never holding the
/// `[n, d]` matrix: the index ``IndexBuilder/build(embeddings:items:sequences:inputs:configuration:progress:)``
/// makes from the same rows and seed, byte for byte.
///
/// Stages and what is resident (n items, d dimensions, L levels of K codes, chunk c rows):
/// 1. **sample**: the rows some level trains on (``ResidualKMeans/trainingRows(items:configuration:seed:)``,
///    at most `512·ΣK` rows, or all rows when `n ≤ 512·K` at some level) are gathered from the file;
///    training holds them and one level's training rows (`O(s·d)`).
/// 2. **train**: ``ResidualKMeans/train(sample:rows:items:configuration:seed:progress:)``; the
///    sample is released after it.
/// 3. **encode**: one sequential pass over the file by chunks of ``chunkRows`` rows on all cores
///    (`O(c·d)`), keeping raw codes `[n, L]` int32 and per-item errors `[n]` f32; the input's
///    XXH64 fingerprints, its total variance and the per-level residuals are accumulated in row
///    order, so they have the bits of the in-memory build.
/// 4. **resolve**: the collision policy on the raw codes (`O(n·L)`); `sinkhorn` re-reads only the
///    colliding items' rows.
/// The caller writes the index (shards, the catalog in batched transactions, the trie from the IDs).
public enum StreamingIndexBuild {
    /// Rows encoded per chunk: 64 GEMM blocks of ``Distances/blockRows``, enough to keep both
    /// cores busy; 64 MiB at d = 256.
    public static let chunkRows = 65_536

    /// Whether `configuration` is built by streaming: RQ-KMeans on the content embeddings (the
    /// other methods and sources need every vector at once).
    public static func supports(_ configuration: BuildConfiguration) -> Bool {
        configuration.method == .rqKMeans && configuration.source == .content
    }

    /// Makes the index of the rows of `embeddings`.
    ///
    /// - Parameters:
    ///   - embeddings: the item vectors, row `i` = item `i` (one `.npy` file or several parts).
    ///   - items: metadata for items `0..<n` (ids exactly `0..<n`), or `nil`.
    ///   - otherInputs: fingerprints of the other input files (items, sequences), recorded after
    ///     the embeddings' (which are computed here while the file is read, one per part).
    ///   - configuration: an `rq-kmeans` build on `content` vectors (``supports(_:)``).
    ///   - chunkRows: rows per encoding chunk (the result does not depend on it).
    ///   - progress: stages and rows read / encoded.
    /// - Returns: the index (quantizer, raw codes, IDs, per-item errors, manifest) and its catalog,
    ///   made row by row as it is written.
    /// - Throws: ``IndexError`` / ``QuantizationError`` for bad settings or items, ``InputError``
    ///   naming the part and row for a non-finite value, ``IndexError`` for a value beyond
    ///   ``IndexBuilder/maximumMagnitude`` (found in the sample before training, elsewhere while encoding).
    public static func build(
        embeddings source: NpyRowSource, items: [ItemRecord]?, otherInputs: [InputFingerprint] = [],
        configuration: BuildConfiguration, chunkRows: Int = StreamingIndexBuild.chunkRows, progress: ProgressHandler? = nil
    ) throws -> (index: SemanticIndex, catalog: IndexStore.CatalogContent) {
        guard supports(configuration) else {
            throw IndexError.inconsistentInput(
                "a streaming build makes rq-kmeans IDs of the content embeddings (got --method \(configuration.method.rawValue), --source \(configuration.source.rawValue))")
        }
        let n = source.rows, d = source.columns
        try IndexBuilder.checkItems(items, count: n)
        if configuration.rowsPerShard < 1 {
            throw QuantizationError.invalidParameter(name: "--rows-per-shard", value: "\(configuration.rowsPerShard)", expected: "at least 1")
        }
        try configuration.collisionPolicy.validate()
        let rk = IndexBuilder.residualKMeansConfiguration(configuration)
        try rk.validate(items: n)

        // 1–2. Train on the seeded sample.
        let rows = ResidualKMeans.trainingRows(items: n, configuration: rk, seed: configuration.seed)
        progress?(ProgressEvent(stage: "reading the training sample", step: 0, total: rows.count,
                                detail: "\(rows.count) of \(n) rows"))
        let sample = try source.gather(rows)
        try IndexBuilder.checkMagnitude(sample) { rows[$0] }
        progress?(ProgressEvent(stage: "reading the training sample", step: rows.count, total: rows.count, finished: true))
        let trainedLevels = try ResidualKMeans.train(sample: consume sample, rows: rows, items: n, configuration: rk,
                                                     seed: configuration.seed, progress: progress)
        let quantizer = trainedLevels.quantizer
        var report = trainedLevels.report

        // 3. Encode every row, by chunks, in row order.
        let levels = rk.levels
        var codes = CodeMatrix(rows: n, levels: levels)
        var errors = [Float](repeating: 0, count: n)
        var levelSums = [Double](repeating: 0, count: levels)
        var errorSum = 0.0
        var variance = VarianceAccumulator(columns: d)
        let stage = "encoding"
        progress?(ProgressEvent(stage: stage, step: 0, total: n, detail: "0 of \(n) rows"))
        let fingerprints = try source.forEachChunk(rows: chunkRows, progress: { done, total in
            progress?(ProgressEvent(stage: stage, step: done, total: total, detail: "\(done) of \(total) rows",
                                    finished: done == total))
        }) { first, chunk in
            try IndexBuilder.checkMagnitude(chunk, firstRow: first)
            variance.add(chunk)
            let encoded = try quantizer.encodeWithResiduals(chunk)
            for level in 0..<levels {
                for value in encoded.levelErrors[level] { levelSums[level] += Double(value) }
            }
            let chunkErrors = ReconstructionErrors.squaredErrors(of: chunk, reconstruction: try quantizer.reconstruct(encoded.codes))
            codes.values.withUnsafeMutableBufferPointer { out in
                encoded.codes.values.withUnsafeBufferPointer { src in
                    guard let o = out.baseAddress, let s = src.baseAddress else { return }
                    (o + first * levels).update(from: s, count: src.count)
                }
            }
            for (r, error) in chunkErrors.enumerated() {
                errors[first + r] = error
                errorSum += Double(error)
            }
        }
        for level in 0..<levels { report.levels[level].residualMeanSquaredNorm = levelSums[level] / Double(max(n, 1)) }
        let totalVariance = variance.totalVariance
        let residualFractions = report.levels.map { totalVariance > 0 ? $0.residualMeanSquaredNorm / totalVariance : 0 }
        let reconstruction = IndexBuilder.reconstructionStatistics(errorSum: errorSum, vectors: n, variance: totalVariance,
                                                                   residualFractions: residualFractions)

        // 4. Collisions (sinkhorn reads the rows it moves again) and the manifest.
        progress?(ProgressEvent(stage: "resolving collisions (\(configuration.collisionPolicy.name))"))
        let rawCodes = codes
        let context = ResolutionContext { rows in
            try quantizer.lastLevelDistances(source.gather(rows), codes: rawCodes.gatheringRows(rows))
        }
        let inputs = fingerprints.map {
            InputFingerprint(role: "embeddings", file: ($0.path as NSString).lastPathComponent, bytes: $0.bytes,
                             xxh64: $0.xxh64, rows: $0.rows, columns: $0.columns)
        } + otherInputs
        let trained = IndexBuilder.TrainedQuantizer(
            quantizer: quantizer, codes: codes, residualFractions: residualFractions,
            kmeansConfiguration: rk.kmeans, kmeansReport: report, methodReport: nil)
        let index = try IndexBuilder.assembleIndex(
            quantizer: quantizer, rawCodes: codes, errors: errors, reconstruction: reconstruction, dimension: d,
            context: context, trained: trained, vectorStatistics: nil, inputs: inputs, configuration: configuration)
        let ids = index.ids
        let catalog = IndexStore.CatalogContent.generated(count: n) { i in
            CatalogItem(id: i, sourceID: items?[i].sourceID, title: items?[i].title,
                        semanticID: Array(ids.row(i)), batch: 0)
        }
        return (index, catalog)
    }
}
