import Foundation
import SemidMath

/// Lloyd's k-means on BLAS, with k-means++ seeding, a warm-up in principal subspaces, optional
/// subsampling of the training set and re-seeding of empty clusters by splitting the largest one.
///
/// Training runs on at most `maxPointsPerCentroid × clusters` rows drawn at random (faiss uses
/// 256 per centroid; semid defaults to 512). Before the full-dimensional iterations, the sample is projected on its top
/// principal directions and clustered in subspaces of growing dimension (``Configuration/warmupDimensions``);
/// each step starts from the previous partition. Plain k-means in high dimension on residual-like,
/// nearly isotropic data tends to let one centroid near the mean swallow most points; clustering the
/// principal subspace first gives a partition that follows the data's main directions, and the
/// full-dimensional iterations then refine it (the idea of faiss's progressive-dimension training,
/// with fewer full-dimensional passes).
public enum KMeans {
    /// How centroids are chosen before the first iteration.
    public enum Initialization: String, Codable, Sendable, CaseIterable {
        /// k-means++ (D² sampling), in the smallest warm-up subspace when there is one.
        case kMeansPlusPlus = "kmeans++"
        /// Distinct training points drawn uniformly.
        case random
    }

    /// Parameters of one k-means fit. Every field is recorded in the index manifest.
    public struct Configuration: Codable, Equatable, Sendable {
        /// Number of centroids `k` (≥ 1).
        public var clusters: Int
        /// Maximum Lloyd iterations in the full space.
        public var iterations: Int
        /// Stop when an iteration lowers the mean squared error by less than this fraction.
        public var tolerance: Double
        /// Train on at most this many points per centroid (0 = all points).
        public var maxPointsPerCentroid: Int
        /// Seeding method.
        public var initialization: Initialization
        /// Principal-subspace dimensions clustered before the full space, increasing; values above
        /// half the data dimension are skipped. Empty = no warm-up; `nil` = automatic
        /// (``automaticWarmup(dimension:)``).
        public var warmupDimensions: [Int]?
        /// Lloyd iterations in each warm-up subspace (at most).
        public var warmupIterations: Int
        /// Relative improvement below which a warm-up stage stops early.
        public var warmupTolerance: Double
        /// Independent fits (different random starts) on the same training sample; the one with
        /// the lowest error is kept.
        public var restarts: Int
        /// Passes of Hartigan's exact single-point moves after Lloyd has converged (0 = none).
        public var refinementPasses: Int

        /// Defaults that match faiss's `ResidualQuantizer` error at a fraction of its time on
        /// 384–768-d embeddings (see `docs/benchmarks.md`).
        public init(clusters: Int, iterations: Int = 10, tolerance: Double = 1e-5,
                    maxPointsPerCentroid: Int = 512, initialization: Initialization = .kMeansPlusPlus,
                    warmupDimensions: [Int]? = nil, warmupIterations: Int = 10,
                    warmupTolerance: Double = 1e-5, restarts: Int = 1, refinementPasses: Int = 2) {
            self.clusters = clusters
            self.iterations = iterations
            self.tolerance = tolerance
            self.maxPointsPerCentroid = maxPointsPerCentroid
            self.initialization = initialization
            self.warmupDimensions = warmupDimensions
            self.warmupIterations = warmupIterations
            self.warmupTolerance = warmupTolerance
            self.restarts = restarts
            self.refinementPasses = refinementPasses
        }

        /// Throws ``QuantizationError/invalidParameter(name:value:expected:)`` for out-of-range values.
        public func validate() throws {
            if clusters < 1 { throw QuantizationError.invalidParameter(name: "clusters", value: "\(clusters)", expected: "at least 1") }
            if iterations < 0 { throw QuantizationError.invalidParameter(name: "iterations", value: "\(iterations)", expected: "0 or more") }
            if !(tolerance >= 0) { throw QuantizationError.invalidParameter(name: "tolerance", value: "\(tolerance)", expected: "a non-negative number") }
            if maxPointsPerCentroid < 0 { throw QuantizationError.invalidParameter(name: "maxPointsPerCentroid", value: "\(maxPointsPerCentroid)", expected: "0 (all) or more") }
            if warmupIterations < 0 { throw QuantizationError.invalidParameter(name: "warmupIterations", value: "\(warmupIterations)", expected: "0 or more") }
            if !(warmupTolerance >= 0) { throw QuantizationError.invalidParameter(name: "warmupTolerance", value: "\(warmupTolerance)", expected: "a non-negative number") }
            if refinementPasses < 0 { throw QuantizationError.invalidParameter(name: "refinementPasses", value: "\(refinementPasses)", expected: "0 or more") }
            if restarts < 1 { throw QuantizationError.invalidParameter(name: "restarts", value: "\(restarts)", expected: "at least 1") }
        }
    }

    /// The automatic warm-up schedule for `dimension`-d data: 4, 8, 16, … up to half the
    /// dimension and at most 64 (e.g. 4 … 64 for d = 384 or 768, 4, 8, 16 for d = 32). Larger
    /// subspaces cost nearly as much as the full space and did not lower the error further (a
    /// 128-d stage changed the relative MSE by less than 0.0003 on Beauty and on 100k × 768, for
    /// 6–20% more time).
    public static func automaticWarmup(dimension: Int) -> [Int] {
        var dims: [Int] = []
        var p = 4
        while 2 * p <= dimension && p <= 64 { dims.append(p); p *= 2 }
        return dims
    }

    /// The outcome of a fit.
    public struct Result: Sendable {
        /// `[clusters, d]` centroids.
        public var centroids: Matrix
        /// Mean squared distance of the training points to their centroid at the last assignment.
        public var meanSquaredError: Double
        /// Full-space Lloyd iterations run.
        public var iterations: Int
        /// Rows actually used for training.
        public var trainingPoints: Int
        /// Empty clusters re-seeded over the whole fit.
        public var reseededClusters: Int
    }

    /// Fits `configuration.clusters` centroids to the rows of `data` (`[n, d]`, `n ≥ clusters`).
    ///
    /// Draws the training rows with ``trainingRows(points:configuration:generator:)`` and fits on
    /// them (``fit(sample:configuration:generator:stage:progress:)``); every restart uses that sample.
    ///
    /// - Parameters:
    ///   - generator: the random source; the result depends only on it, the data and the configuration.
    ///   - progress: called after every iteration with `stage` as its label.
    public static func fit(
        _ data: Matrix, configuration: Configuration, generator: inout SeededGenerator,
        stage: String = "k-means", progress: ProgressHandler? = nil
    ) throws -> Result {
        try configuration.validate()
        guard data.rows >= configuration.clusters else {
            throw QuantizationError.tooFewPoints(points: data.rows, clusters: configuration.clusters)
        }
        let sample = trainingRows(points: data.rows, configuration: configuration, generator: &generator)
            .map { data.gatheringRows($0) } ?? data
        return try fit(sample: sample, configuration: configuration, generator: &generator, stage: stage, progress: progress)
    }

    /// The rows of an `n`-row input that a fit trains on: `maxPointsPerCentroid × clusters` distinct
    /// rows drawn from `generator`, ascending, or `nil` (every row) when `n` is not larger than that
    /// or `maxPointsPerCentroid` is 0. Advances `generator` exactly as ``fit(_:configuration:generator:stage:progress:)``
    /// does before it continues with ``fit(sample:configuration:generator:stage:progress:)``.
    ///
    /// Complexity: `O(m log m)` for `m` drawn rows (`O(n)` memory when `m ≥ n/4`).
    public static func trainingRows(points n: Int, configuration: Configuration,
                                    generator: inout SeededGenerator) -> [Int]? {
        let (budget, overflow) = configuration.maxPointsPerCentroid.multipliedReportingOverflow(by: configuration.clusters)
        guard configuration.maxPointsPerCentroid > 0, !overflow, n > budget else { return nil }
        return generator.sample(budget, from: n).sorted()
    }

    /// Fits on `sample` (`[m, d]`, `m ≥ clusters`), the rows ``trainingRows(points:configuration:generator:)``
    /// chose (or every row), with `generator` in the state that call left it in. The same fit as
    /// ``fit(_:configuration:generator:stage:progress:)`` on the whole input; this entry point lets a
    /// caller gather the sampled rows from a file instead of holding all `n`.
    ///
    /// Complexity: per iteration `m·k·d` multiply-adds (BLAS, both cores), plus the warm-up and
    /// refinement passes; memory `O(m·d + k·d)`.
    public static func fit(
        sample: Matrix, configuration: Configuration, generator: inout SeededGenerator,
        stage: String = "k-means", progress: ProgressHandler? = nil
    ) throws -> Result {
        try configuration.validate()
        var best: Result?
        for restart in 0..<configuration.restarts {
            let label = configuration.restarts > 1 ? "\(stage) (fit \(restart + 1)/\(configuration.restarts))" : stage
            let result = try fitOnce(sample, configuration: configuration, generator: &generator, stage: label, progress: progress)
            if best.map({ result.meanSquaredError < $0.meanSquaredError }) ?? true { best = result }
        }
        guard let best else { throw QuantizationError.invalidParameter(name: "restarts", value: "0", expected: "at least 1") }
        return best
    }

    /// One k-means fit of the training rows `sample` from one random start.
    static func fitOnce(
        _ sample: Matrix, configuration: Configuration, generator: inout SeededGenerator,
        stage: String, progress: ProgressHandler?
    ) throws -> Result {
        let k = configuration.clusters, d = sample.cols
        guard sample.rows >= k else { throw QuantizationError.tooFewPoints(points: sample.rows, clusters: k) }
        let m = sample.rows
        var reseeded = 0
        var centroids: Matrix
        var labels: [Int32]

        let warmup = (configuration.warmupDimensions ?? automaticWarmup(dimension: d)).filter { $0 >= 1 && 2 * $0 <= d }
        if let largest = warmup.max(), !warmup.isEmpty {
            // Principal subspace of a subsample of the training points: 8,192 rows (or 8 per
            // dimension) estimate the leading directions as well as 16,384 did (relative MSE within
            // 0.0004 on Beauty and 100k × 768) at half the covariance cost.
            let pcaRows = min(m, max(8_192, 8 * d))
            let pcaSample = pcaRows == m ? sample : sample.gatheringRows(generator.sample(pcaRows, from: m).sorted())
            var pcaGenerator = generator.derived(0x9CA)
            let pca = PrincipalComponents(fitting: pcaSample, components: largest, generator: &pcaGenerator)
            let projected = pca.project(sample, components: largest)
            var dims = warmup.sorted()
            dims = dims.enumerated().filter { $0.offset == 0 || $0.element != dims[$0.offset - 1] }.map(\.element)
            var sub = projected.leadingColumns(dims[0])
            centroids = seed(sub, clusters: k, method: configuration.initialization, generator: &generator)
            labels = []
            for (step, p) in dims.enumerated() {
                if step > 0 {
                    sub = projected.leadingColumns(p)
                    centroids = updateCentroids(sub, labels: labels, previous: nil, clusters: k,
                                                reseeded: &reseeded, generator: &generator)
                }
                let run = lloyd(sub, centroids: &centroids, iterations: configuration.warmupIterations,
                                tolerance: configuration.warmupTolerance, reseeded: &reseeded, generator: &generator,
                                stage: "\(stage) warm-up \(p)-d", progress: progress)
                labels = run.labels
            }
            centroids = updateCentroids(sample, labels: labels, previous: nil, clusters: k,
                                        reseeded: &reseeded, generator: &generator)
        } else {
            let seedRows = min(m, 64 * k)
            let seedSample = seedRows == m ? sample : sample.gatheringRows(generator.sample(seedRows, from: m).sorted())
            centroids = seed(seedSample, clusters: k, method: configuration.initialization, generator: &generator)
        }

        var run = lloyd(sample, centroids: &centroids, iterations: configuration.iterations,
                        tolerance: configuration.tolerance, reseeded: &reseeded, generator: &generator,
                        stage: stage, progress: progress)
        if configuration.refinementPasses > 0 {
            var labels = run.labels
            for pass in 0..<configuration.refinementPasses {
                let moved = hartiganPass(sample, centroids: &centroids, labels: &labels)
                progress?(ProgressEvent(stage: "\(stage) refinement", step: pass + 1, total: configuration.refinementPasses,
                                        detail: "\(moved) points moved"))
                if moved == 0 { break }
            }
            // Centroids are cluster means again; a few Lloyd steps settle points on their nearest centroid.
            run = lloyd(sample, centroids: &centroids, iterations: max(2, configuration.iterations / 4),
                        tolerance: configuration.tolerance, reseeded: &reseeded, generator: &generator,
                        stage: stage, progress: progress)
        }
        return Result(centroids: centroids, meanSquaredError: run.meanSquaredError, iterations: run.iterations,
                      trainingPoints: m, reseededClusters: reseeded)
    }

    // MARK: - Steps

    /// Initial centroids: k-means++ or `k` distinct random rows of `points`.
    static func seed(_ points: Matrix, clusters k: Int, method: Initialization,
                     generator: inout SeededGenerator) -> Matrix {
        let m = points.rows, d = points.cols
        switch method {
        case .random:
            return points.gatheringRows(generator.sample(k, from: m))
        case .kMeansPlusPlus:
            var chosen = [Int]()
            chosen.reserveCapacity(k)
            var nearest = [Float](repeating: .infinity, count: m)
            var next = generator.nextInt(below: m)
            points.values.withUnsafeBufferPointer { p in
                nearest.withUnsafeMutableBufferPointer { dist in
                    let base = p.baseAddress!
                    for _ in 0..<k {
                        chosen.append(next)
                        let c = base + next * d
                        var total = 0.0
                        for i in 0..<m {
                            let v = Distances.squaredDistance(base + i * d, c, count: d)
                            if v < dist[i] { dist[i] = v }
                            total += Double(dist[i])
                        }
                        guard chosen.count < k else { break }
                        if total <= 0 {
                            // Fewer distinct points than clusters: take any unchosen row.
                            let taken = Set(chosen)
                            next = (0..<m).first { !taken.contains($0) } ?? 0
                            continue
                        }
                        var target = generator.nextUnitDouble() * total
                        next = m - 1
                        for i in 0..<m {
                            target -= Double(dist[i])
                            if target < 0 { next = i; break }
                        }
                    }
                }
            }
            return points.gatheringRows(chosen)
        }
    }

    /// Lloyd iterations: assign, then move each centroid to the mean of its points. Returns the
    /// labels and mean squared error of the last assignment.
    static func lloyd(
        _ points: Matrix, centroids: inout Matrix, iterations: Int, tolerance: Double,
        reseeded: inout Int, generator: inout SeededGenerator, stage: String, progress: ProgressHandler?
    ) -> (labels: [Int32], meanSquaredError: Double, iterations: Int) {
        var labels = [Int32]()
        var previous = Double.infinity
        var mse = Double.infinity
        var done = 0
        let pointNorms = Distances.rowSquaredNorms(points)
        for iteration in 0..<max(iterations, 1) {
            let (assigned, distances) = Distances.nearest(points, in: centroids, pointNorms: pointNorms)
            labels = assigned
            mse = distances.reduce(0.0) { $0 + Double($1) } / Double(max(points.rows, 1))
            if iterations == 0 { break }
            let converged = previous.isFinite && previous - mse <= tolerance * previous
            progress?(ProgressEvent(stage: stage, step: iteration + 1, total: iterations,
                                    detail: String(format: "mse %.5g", mse)))
            if converged { break }
            previous = mse
            centroids = updateCentroids(points, labels: labels, previous: centroids, clusters: centroids.rows,
                                        reseeded: &reseeded, generator: &generator)
            done = iteration + 1
        }
        return (labels, mse, done)
    }

    /// One pass of Hartigan's method over all points, in order.
    ///
    /// Moving point `x` from cluster `a` (size `nₐ`) to `b` changes the sum of squared errors by
    /// `n_b/(n_b+1)·‖x−c_b‖² − nₐ/(nₐ−1)·‖x−cₐ‖²`; every move with a negative change (by more than
    /// a relative 10⁻⁶) is made at once, updating both means. Unlike a Lloyd step this can leave a
    /// Lloyd fixed point, and it helps most when clusters are small (tens of points per code, as at
    /// deep residual levels).
    ///
    /// Distances come from one `sgemm` per block of points (after a move, the two changed columns
    /// are recomputed for the rest of the block), and every decision is exact, the same on every
    /// machine: each GEMM distance `D̃_j` is within `β_j = 2κ_d·(‖x‖ + ‖c_j‖)²` of the true one
    /// (``Distances/errorFactor(dimension:)``, doubled for the error of `‖x‖²`), so the move is
    /// skipped without further work when even the lowest possible move cost is not below the
    /// highest possible removal cost; otherwise the removal cost and every move cost that could be
    /// the smallest are recomputed in float64 (``FixedOrder/exactSquaredDistance(_:_:count:)``) and
    /// compared exactly, ties to the lower cluster.
    ///
    /// - Returns: the number of points moved.
    static func hartiganPass(_ points: Matrix, centroids: inout Matrix, labels: inout [Int32]) -> Int {
        let m = points.rows, d = points.cols, k = centroids.rows
        let block = 256
        var counts = [Int](repeating: 0, count: k)
        for l in labels { counts[Int(l)] += 1 }
        var norms = Distances.rowSquaredNorms(centroids)
        var roots = norms.map { Double($0).squareRoot() }
        var scratch = [Float](repeating: 0, count: block * k)
        var lower = [Double](repeating: 0, count: k), upper = [Double](repeating: 0, count: k)
        let factor = 2 * Distances.errorFactor(dimension: d)
        var moved = 0
        points.values.withUnsafeBufferPointer { pBuf in
            let p = pBuf.baseAddress!
            for lo in stride(from: 0, to: m, by: block) {
                let rows = min(block, m - lo)
                centroids.values.withUnsafeBufferPointer { cBuf in
                    scratch.withUnsafeMutableBufferPointer { sBuf in
                        BLAS.sgemm(transposeB: true, m: rows, n: k, k: d, alpha: -2, a: p + lo * d, lda: d,
                                   b: cBuf.baseAddress!, ldb: d, c: sBuf.baseAddress!, ldc: k)
                    }
                }
                for r in 0..<rows {
                    let i = lo + r
                    let a = Int(labels[i])
                    let na = counts[a]
                    guard na > 1 else { continue }
                    let x = p + i * d
                    let xn = Double(Distances.squaredNorm(x, count: d))
                    let xr = xn.squareRoot()
                    // Bounds on every cost: w_j·(D̃_j ∓ β_j), w_j = n_j/(n_j+1), and the removal cost's.
                    var lowestMove = Double.infinity, lowestUpper = Double.infinity
                    scratch.withUnsafeBufferPointer { s in
                        let row = s.baseAddress! + r * k
                        for j in 0..<k {
                            let approx = Double(row[j]) + Double(norms[j]) + xn
                            let root = xr + roots[j]
                            let bound = factor * root * root
                            let w = j == a ? Double(na) / Double(na - 1) : Double(counts[j]) / Double(counts[j] + 1)
                            lower[j] = w * max(0, approx - bound)
                            upper[j] = w * (approx + bound)
                            if j != a {
                                lowestMove = min(lowestMove, lower[j])
                                lowestUpper = min(lowestUpper, upper[j])
                            }
                        }
                    }
                    // Certainly no improving move: the cheapest move cannot beat the removal cost.
                    guard lowestMove < upper[a] * (1 - 1e-6) else { continue }
                    let removeCost = Double(na) / Double(na - 1) * centroids.values.withUnsafeBufferPointer {
                        FixedOrder.exactSquaredDistance(x, $0.baseAddress! + a * d, count: d)
                    }
                    var best = -1
                    var bestCost = Double.infinity
                    centroids.values.withUnsafeBufferPointer { c in
                        for j in 0..<k where j != a && lower[j] <= lowestUpper {
                            let cost = Double(counts[j]) / Double(counts[j] + 1)
                                * FixedOrder.exactSquaredDistance(x, c.baseAddress! + j * d, count: d)
                            if cost < bestCost { bestCost = cost; best = j }
                        }
                    }
                    guard best >= 0, bestCost < removeCost * (1 - 1e-6) else { continue }
                    // Move x from a to best, updating both means and norms.
                    let b = best
                    let nb = counts[b]
                    centroids.values.withUnsafeMutableBufferPointer { c in
                        let ca = c.baseAddress! + a * d, cb = c.baseAddress! + b * d
                        let fa = Float(na), fb = Float(nb)
                        for t in 0..<d {
                            ca[t] = (fa * ca[t] - x[t]) / (fa - 1)
                            cb[t] = (fb * cb[t] + x[t]) / (fb + 1)
                        }
                        norms[a] = Distances.squaredNorm(ca, count: d)
                        norms[b] = Distances.squaredNorm(cb, count: d)
                        roots[a] = Double(norms[a]).squareRoot()
                        roots[b] = Double(norms[b]).squareRoot()
                        // Refresh the two changed columns for the rest of the block.
                        scratch.withUnsafeMutableBufferPointer { s in
                            for r2 in (r + 1)..<rows {
                                let y = p + (lo + r2) * d
                                s[r2 * k + a] = -2 * FixedOrder.dot(y, ca, count: d)
                                s[r2 * k + b] = -2 * FixedOrder.dot(y, cb, count: d)
                            }
                        }
                    }
                    counts[a] -= 1
                    counts[b] += 1
                    labels[i] = Int32(b)
                    moved += 1
                }
            }
        }
        return moved
    }

    /// Number of fixed partitions for parallel centroid sums (fixed, so results do not depend on
    /// the number of cores).
    static let reductionPartitions = 8

    /// The mean of each cluster's points (`[clusters, d]`); empty clusters are re-seeded by
    /// splitting the largest cluster along the direction to one of its points.
    static func updateCentroids(
        _ points: Matrix, labels: [Int32], previous: Matrix?, clusters k: Int,
        reseeded: inout Int, generator: inout SeededGenerator
    ) -> Matrix {
        let m = points.rows, d = points.cols
        let parts = min(reductionPartitions, max(1, m / 512))
        var partialSums = [Float](repeating: 0, count: parts * k * d)
        var partialCounts = [Int](repeating: 0, count: parts * k)
        points.values.withUnsafeBufferPointer { p in
            labels.withUnsafeBufferPointer { lab in
                partialSums.withUnsafeMutableBufferPointer { s in
                    partialCounts.withUnsafeMutableBufferPointer { c in
                        let sums = SharedMutablePointer(s.baseAddress!), counts = SharedMutablePointer(c.baseAddress!)
                        let pBase = p.baseAddress!, lBase = lab.baseAddress!
                        Parallel.forEach(count: parts) { part in
                            let lo = m * part / parts, hi = m * (part + 1) / parts
                            let sumBase = sums.pointer + part * k * d
                            let countBase = counts.pointer + part * k
                            for i in lo..<hi {
                                let j = Int(lBase[i])
                                countBase[j] += 1
                                let dst = sumBase + j * d, src = pBase + i * d
                                for t in 0..<d { dst[t] += src[t] }
                            }
                        }
                    }
                }
            }
        }
        var centroids = Matrix(rows: k, cols: d)
        var counts = [Int](repeating: 0, count: k)
        for j in 0..<k {
            var count = 0
            for part in 0..<parts { count += partialCounts[part * k + j] }
            counts[j] = count
            guard count > 0 else { continue }
            let inv = 1 / Double(count)
            for t in 0..<d {
                var sum = 0.0
                for part in 0..<parts { sum += Double(partialSums[(part * k + j) * d + t]) }
                centroids.values[j * d + t] = Float(sum * inv)
            }
        }
        // Re-seed empty clusters by splitting the currently largest one.
        for j in 0..<k where counts[j] == 0 {
            guard let largest = counts.indices.max(by: { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }),
                  counts[largest] > 1 else { continue }
            // A random member of the largest cluster gives the split direction.
            var member = -1
            var seen = 0
            for i in 0..<m where Int(labels[i]) == largest {
                seen += 1
                if generator.nextInt(below: seen) == 0 { member = i }
            }
            guard member >= 0 else { continue }
            for t in 0..<d {
                let c = centroids.values[largest * d + t]
                let delta = 0.5 * (points.values[member * d + t] - c)
                centroids.values[j * d + t] = c + delta
                centroids.values[largest * d + t] = c - delta
            }
            counts[j] = counts[largest] / 2
            counts[largest] -= counts[j]
            reseeded += 1
        }
        return centroids
    }
}
