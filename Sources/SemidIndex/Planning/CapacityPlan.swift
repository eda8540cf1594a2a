import Foundation
import SemidMath
import SemidQuantization
import SemidStorage

/// Which ID shape a catalog needs, estimated from a sample: for each candidate shape, RQ-KMeans is
/// trained on a seeded sample of the embeddings (the training code `semid build` uses), the sample
/// is encoded, its raw IDs are measured, and the measurements are extrapolated to the catalog size.
///
/// ## The estimator
/// Items are modelled as drawn independently from a fixed distribution over raw IDs (and over the
/// prefixes of each length). From the `m` sampled items with cell counts `c_j`,
/// `q̂ = Σ_j c_j (c_j − 1) / (m (m − 1))` is the unbiased estimate of the collision probability
/// `q = Σ_j p_j²` (the chance that two random items share the cell) — unbiased however many cells
/// the sample failed to see. It is floored at `1 / Π K` (no distribution over `Π K` cells collides
/// less than the uniform one). The distribution is then replaced by the uniform one over
/// `D = 1 / q̂` cells (the Rényi-2 effective number of cells), which gives, for `N` items:
/// - expected distinct cells `D (1 − e^{−N/D})` (capped at `Π K` for the prefix);
/// - raw collision rate (fraction of items whose full raw ID is shared) `1 − e^{−(N−1)/D}`
///   (birthday approximation).
/// Assumptions, honestly: the sample is representative (iid) and the codebooks trained on the
/// sample are the ones a full build would train; the uniform-over-`D` replacement is exact for
/// uniform cells and agrees with the exact shared fraction `1 − Σ p_j (1 − p_j)^{N−1}` to first
/// order in `N q` for any distribution (it can be off either way once `N q` is large); when the
/// sample has no collision at a level `q̂ = 0` and the estimate rests on the `1 / Π K` floor, i.e. it is
/// a lower bound (``Level/resolved`` is false).
///
/// ## The recommendation
/// Among candidates whose estimated raw collision rate at `N` is at most the threshold
/// (default 1%), the one with the fewest levels, then the smallest vocabulary `Σ K_l`, then the
/// order given; when none meets it, the one with the lowest estimated rate.
public struct CapacityPlan: Codable, Sendable, Equatable {
    /// Settings of a plan.
    public struct Settings: Codable, Sendable, Equatable {
        /// The candidate shapes, in the order they are reported.
        public var shapes: [Shape]
        /// Items `N` to extrapolate to; `nil` = the embeddings' row count.
        public var items: Int?
        /// Rows sampled (without replacement) for training and measuring; capped at the row count.
        public var sample: Int
        /// Seed of the sample and of training.
        public var seed: UInt64
        /// The raw collision rate a recommended shape may have at `N` (in `0…1`).
        public var maxCollisionRate: Double
        /// K-means settings for every level (its `clusters` is set per level).
        public var kmeans: KMeans.Configuration

        /// Defaults: ``Shape/defaults``, a 100,000-row sample, seed 0, 1%, k-means defaults.
        public init(shapes: [Shape] = Shape.defaults, items: Int? = nil, sample: Int = 100_000, seed: UInt64 = 0,
                    maxCollisionRate: Double = 0.01, kmeans: KMeans.Configuration = KMeans.Configuration(clusters: 2)) {
            self.shapes = shapes
            self.items = items
            self.sample = sample
            self.seed = seed
            self.maxCollisionRate = maxCollisionRate
            self.kmeans = kmeans
        }
    }

    /// One level of one candidate: measured on the sample, estimated at `N`.
    public struct Level: Codable, Sendable, Equatable {
        /// `K_l`.
        public var codebookSize: Int
        /// Distinct codes of this level used by the sample, divided by `K_l`.
        public var utilisation: Double
        /// Distinct prefixes of length `l + 1` in the sample.
        public var sampleDistinctPrefixes: Int
        /// Sampled items in the largest prefix group of length `l + 1`.
        public var sampleLargestGroup: Int
        /// `q̂` for prefixes of length `l + 1` (after the `1 / Π K` floor).
        public var collisionProbability: Double
        /// Whether the sample had a collision at this length (otherwise `q̂` is the floor, a lower bound).
        public var resolved: Bool
        /// Expected distinct prefixes of length `l + 1` among `N` items.
        public var estimatedDistinctPrefixes: Double
    }

    /// One candidate shape.
    public struct Candidate: Codable, Sendable, Equatable {
        public var shape: Shape
        /// Per level, first to last.
        public var levels: [Level]
        /// Fraction of sampled items whose full raw ID another sampled item shares.
        public var sampleCollisionRate: Double
        /// Estimated fraction of `N` items whose full raw ID is shared.
        public var estimatedCollisionRate: Double
        /// Mean squared residual of the sample after the last level.
        public var residualMeanSquaredNorm: Double
        /// Whether ``estimatedCollisionRate`` ≤ the threshold.
        public var meetsThreshold: Bool
    }

    /// Rows of the embeddings.
    public var rows: Int
    /// Embedding dimension.
    public var dimension: Int
    /// `N`, the items extrapolated to.
    public var items: Int
    /// Rows actually sampled.
    public var sample: Int
    public var seed: UInt64
    public var maxCollisionRate: Double
    /// One per shape, in the order given.
    public var candidates: [Candidate]
    /// Index into ``candidates`` of the recommended shape (see the type's documentation).
    public var recommended: Int

    /// Plans from the rows of `embeddings` (only the sampled rows are read).
    ///
    /// - Throws: ``CapacityPlanError`` for bad settings or a codebook larger than the sample;
    ///   ``InputError`` from reading; ``QuantizationError`` from training.
    /// - Complexity: per shape, RQ-KMeans training and encoding on `m = sample` rows
    ///   (`O(iterations · m · Σ K_l · d)`); memory `O(m · d)` for the sample, never `rows · d`.
    public static func make(embeddings: NpyRowSource, settings: Settings, progress: ProgressHandler? = nil) throws -> CapacityPlan {
        guard !settings.shapes.isEmpty else {
            throw CapacityPlanError.invalidParameter(name: "--shapes", value: "", expected: "at least one shape")
        }
        guard settings.sample >= 2 else {
            throw CapacityPlanError.invalidParameter(name: "--sample", value: "\(settings.sample)", expected: "at least 2")
        }
        let items = settings.items ?? embeddings.rows
        guard items >= 1 else {
            throw CapacityPlanError.invalidParameter(name: "--items", value: "\(items)", expected: "at least 1")
        }
        guard settings.maxCollisionRate >= 0, settings.maxCollisionRate <= 1 else {
            throw CapacityPlanError.invalidParameter(name: "--max-collision-rate", value: "\(settings.maxCollisionRate)", expected: "a fraction in 0…1")
        }
        let m = min(settings.sample, embeddings.rows)
        for shape in settings.shapes {
            if let k = shape.codebookSizes.first(where: { $0 > m }) {
                throw CapacityPlanError.codebookLargerThanSample(shape: shape.description, codebookSize: k, sample: m)
            }
        }
        var generator = SeededGenerator(seed: settings.seed).derived(0x504C_414E) // "PLAN"
        let rows = generator.sample(m, from: embeddings.rows).sorted()
        let sample = try embeddings.gather(rows)

        var candidates: [Candidate] = []
        for (index, shape) in settings.shapes.enumerated() {
            progress?(ProgressEvent(stage: "shape \(index + 1)/\(settings.shapes.count) \(shape)", step: 0, total: 0))
            let configuration = ResidualKMeans.Configuration(codebookSizes: shape.codebookSizes, kmeans: settings.kmeans)
            let trained = try ResidualKMeans.train(sample, configuration: configuration, seed: settings.seed, progress: progress)
            let mse = trained.residual.values.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, m))
            var candidate = measure(codes: trained.codes, shape: shape, items: items)
            candidate.residualMeanSquaredNorm = mse
            candidate.meetsThreshold = candidate.estimatedCollisionRate <= settings.maxCollisionRate
            candidates.append(candidate)
        }
        return CapacityPlan(rows: embeddings.rows, dimension: embeddings.columns, items: items, sample: m, seed: settings.seed,
                            maxCollisionRate: settings.maxCollisionRate, candidates: candidates,
                            recommended: recommendation(candidates))
    }

    /// Measures the raw IDs `codes` (`[m, L]`, `m ≥ 2`) of a sample and extrapolates them to `items`.
    ///
    /// - Complexity: `O(m · L)` expected (hashing of prefixes).
    public static func measure(codes: CodeMatrix, shape: Shape, items: Int) -> Candidate {
        let m = codes.rows
        var levels: [Level] = []
        var capacity = 1.0
        var groupOf = [Int](repeating: 0, count: m) // prefix group of each row at the current length
        var fullCounts: [Int] = []
        for l in 0..<codes.levels {
            let k = shape.codebookSizes[l]
            capacity *= Double(k)
            var used = Set<Int32>()
            var groups: [Int: Int] = [:] // (parent group, code) -> group
            var counts: [Int] = []
            for i in 0..<m {
                let code = codes[i, l]
                used.insert(code)
                let key = groupOf[i] &* 65_537 &+ Int(code)
                if let g = groups[key] {
                    groupOf[i] = g
                    counts[g] += 1
                } else {
                    groupOf[i] = counts.count
                    groups[key] = counts.count
                    counts.append(1)
                }
            }
            let estimate = occupancy(counts: counts, capacity: capacity, items: items)
            levels.append(Level(codebookSize: k, utilisation: Double(used.count) / Double(k),
                                sampleDistinctPrefixes: counts.count, sampleLargestGroup: counts.max() ?? 0,
                                collisionProbability: estimate.collisionProbability, resolved: estimate.resolved,
                                estimatedDistinctPrefixes: estimate.distinct))
            fullCounts = counts
        }
        let shared = fullCounts.reduce(0) { $0 + ($1 > 1 ? $1 : 0) }
        let q = levels.last?.collisionProbability ?? 1
        return Candidate(shape: shape, levels: levels, sampleCollisionRate: m > 0 ? Double(shared) / Double(m) : 0,
                         estimatedCollisionRate: sharedFraction(collisionProbability: q, items: items),
                         residualMeanSquaredNorm: 0, meetsThreshold: false)
    }

    /// The estimator for one prefix length: from sample cell counts `counts` (summing to `m ≥ 2`),
    /// `q̂ = max(Σ c(c−1) / (m(m−1)), 1/capacity)` and the expected distinct cells among `items`
    /// draws from the uniform distribution over `D = 1/q̂` cells, `min(capacity, D (1 − e^{−N/D}))`.
    public static func occupancy(counts: [Int], capacity: Double, items: Int) -> (collisionProbability: Double, resolved: Bool, distinct: Double) {
        let m = Double(counts.reduce(0, +))
        let pairs = counts.reduce(0.0) { $0 + Double($1) * Double($1 - 1) }
        let raw = m > 1 ? pairs / (m * (m - 1)) : 1
        let q = max(raw, 1 / capacity)
        let d = 1 / q
        let n = Double(items)
        return (q, pairs > 0, min(capacity, d * -expm1(-n / d)))
    }

    /// `1 − e^{−(N−1) q}`: the fraction of `N` items sharing their cell with another, for
    /// uniform cells with collision probability `q` (birthday approximation).
    public static func sharedFraction(collisionProbability q: Double, items: Int) -> Double {
        -expm1(-Double(max(0, items - 1)) * q)
    }

    /// The recommendation rule (see the type's documentation).
    static func recommendation(_ candidates: [Candidate]) -> Int {
        let meeting = candidates.indices.filter { candidates[$0].meetsThreshold }
        if let best = meeting.min(by: { a, b in
            let x = candidates[a].shape, y = candidates[b].shape
            return (x.levels, x.vocabulary, a) < (y.levels, y.vocabulary, b)
        }) { return best }
        return candidates.indices.min(by: { (candidates[$0].estimatedCollisionRate, $0) < (candidates[$1].estimatedCollisionRate, $1) }) ?? 0
    }
}
