import Foundation
import SemidMath
import SemidStorage

/// Which vectors the quantizer sees for each item.
public enum ItemVectorSource: String, Codable, Sendable, CaseIterable {
    /// The content embeddings as given (`--embeddings`).
    case content
    /// Collaborative vectors from the training interactions (``ItemVectors/collaborative(sequences:itemCount:configuration:seed:)``).
    case collaborative
    /// Content and collaborative vectors, each L2-normalised, weighted and concatenated.
    case hybrid
}

/// Settings for collaborative and hybrid item vectors. Recorded in the manifest.
public struct CollaborativeConfiguration: Codable, Equatable, Sendable {
    /// Dimension of the collaborative vectors.
    public var dimension: Int
    /// Items at most this many positions apart in a sequence co-occur (weight 1/distance).
    public var window: Int
    /// Items held out at the end of every sequence (2 = leave-one-out validation and test), so
    /// the targets of evaluation never leak into the IDs.
    public var heldOutPerUser: Int
    /// Exponent of the context-distribution smoothing in PMI (word2vec's 0.75).
    public var smoothing: Double
    /// Hybrid only: share of the content view, in `[0, 1]` (the collaborative view gets the rest).
    public var contentWeight: Double

    /// Defaults: 64 dimensions, window 5, 2 held out, smoothing 0.75, content weight 0.5.
    public init(dimension: Int = 64, window: Int = 5, heldOutPerUser: Int = 2, smoothing: Double = 0.75,
                contentWeight: Double = 0.5) {
        self.dimension = dimension
        self.window = window
        self.heldOutPerUser = heldOutPerUser
        self.smoothing = smoothing
        self.contentWeight = contentWeight
    }

    /// Throws ``IndexError/invalidParameter(name:value:expected:)`` for out-of-range settings,
    /// naming the property (`collaborative.dimension`, …).
    public func validate() throws {
        func bad(_ name: String, _ value: Any, _ expected: String) -> IndexError {
            .invalidParameter(name: "collaborative." + name, value: "\(value)", expected: expected)
        }
        if dimension < 1 { throw bad("dimension", dimension, "at least 1") }
        if window < 1 { throw bad("window", window, "at least 1") }
        if heldOutPerUser < 0 { throw bad("heldOutPerUser", heldOutPerUser, "0 or more") }
        if !(smoothing > 0 && smoothing <= 1) { throw bad("smoothing", smoothing, "in (0, 1]") }
        if !(contentWeight >= 0 && contentWeight <= 1) { throw bad("contentWeight", contentWeight, "in [0, 1]") }
    }
}

/// Item vectors from interactions, and the content/collaborative fusion.
public enum ItemVectors {
    /// What building collaborative vectors found.
    public struct Statistics: Codable, Equatable, Sendable {
        /// Users whose training part has at least two items.
        public var users: Int
        /// Distinct co-occurring item pairs (non-zeros of the symmetric co-occurrence matrix).
        public var cooccurrences: Int
        /// Items with no training co-occurrence (their collaborative vector is zero).
        public var itemsWithoutInteractions: Int
        /// The leading eigenvalues of the PPMI matrix that were kept.
        public var eigenvalues: [Double]
    }

    /// Collaborative item vectors: the positive pointwise mutual information (PPMI) of items that
    /// co-occur within `window` positions in the training part of each sequence, factorised by its
    /// top eigenvectors (randomized subspace iteration on the sparse matrix, BLAS for the dense
    /// parts); item `i`'s vector is `U[i]·√λ`, L2-normalised. `[itemCount, dimension]`.
    public static func collaborative(sequences: [UserSequence], itemCount: Int, configuration: CollaborativeConfiguration,
                                     seed: UInt64) throws -> (vectors: Matrix, statistics: Statistics) {
        try configuration.validate()
        guard configuration.dimension < itemCount else {
            throw IndexError.invalidParameter(name: "collaborative.dimension", value: "\(configuration.dimension)",
                                              expected: "smaller than the number of items (\(itemCount))")
        }
        var triplets: [(row: Int32, column: Int32, value: Float)] = []
        var users = 0
        for sequence in sequences {
            let items = Array(sequence.trainingItems(heldOut: configuration.heldOutPerUser))
            guard items.count >= 2 else { continue }
            users += 1
            for p in 0..<items.count {
                for q in (p + 1)..<min(items.count, p + 1 + configuration.window) where items[p] != items[q] {
                    let w = 1 / Float(q - p)
                    triplets.append((Int32(items[p]), Int32(items[q]), w))
                    triplets.append((Int32(items[q]), Int32(items[p]), w))
                }
            }
        }
        let counts = SparseMatrix(rows: itemCount, cols: itemCount, triplets: triplets)
        // PPMI with context smoothing: log(C_ij · Σ_c m_c / (C_i · m_j)), m_j = C_j^α.
        var rowSum = [Double](repeating: 0, count: itemCount)
        var total = 0.0
        for i in 0..<itemCount {
            for e in counts.rowStart[i]..<counts.rowStart[i + 1] { rowSum[i] += Double(counts.values[e]) }
            total += rowSum[i]
        }
        guard total > 0 else {
            throw IndexError.inconsistentInput("no two items co-occur in the training part of any sequence; collaborative vectors need interactions")
        }
        let smoothed = rowSum.map { ExactMath.pow($0, configuration.smoothing) }
        let smoothedTotal = smoothed.reduce(0, +)
        var ppmi = [Float](repeating: 0, count: counts.nonZeroCount)
        for i in 0..<itemCount {
            for e in counts.rowStart[i]..<counts.rowStart[i + 1] {
                let j = Int(counts.columns[e])
                let pmi = ExactMath.log(Double(counts.values[e]) * smoothedTotal / (rowSum[i] * smoothed[j]))
                ppmi[e] = Float(max(0, pmi))
            }
        }
        // Symmetrise the smoothing asymmetry: (P + Pᵀ)/2 has the same pattern as the counts.
        let transposeLookup = ppmi
        var symmetric = ppmi
        for i in 0..<itemCount {
            for e in counts.rowStart[i]..<counts.rowStart[i + 1] {
                let j = Int(counts.columns[e])
                // Find (j, i) by binary search in row j.
                var lo = counts.rowStart[j], hi = counts.rowStart[j + 1]
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if Int(counts.columns[mid]) < i { lo = mid + 1 } else { hi = mid }
                }
                let other = lo < counts.rowStart[j + 1] && Int(counts.columns[lo]) == i ? transposeLookup[lo] : 0
                symmetric[e] = 0.5 * (ppmi[e] + other)
            }
        }
        let matrix = SparseMatrix(rows: itemCount, cols: itemCount, rowStart: counts.rowStart,
                                  columns: counts.columns, values: symmetric)
        var generator = SeededGenerator(seed: seed).derived(0xC011AB)
        let (values, vectors) = matrix.topEigenpairs(count: configuration.dimension, generator: &generator)
        var out = Matrix(rows: itemCount, cols: configuration.dimension)
        for k in 0..<values.count {
            let scale = max(values[k], 0).squareRoot()
            for i in 0..<itemCount { out[i, k] = vectors[k, i] * scale }
        }
        var empty = 0
        for i in 0..<itemCount where counts.rowStart[i + 1] == counts.rowStart[i] { empty += 1 }
        normalizeRows(&out)
        return (out, Statistics(users: users, cooccurrences: counts.nonZeroCount, itemsWithoutInteractions: empty,
                                eigenvalues: values.map(Double.init)))
    }

    /// `[√w · c/‖c‖, √(1−w) · u/‖u‖]` for content `c` and collaborative `u` (same rows).
    public static func hybrid(content: Matrix, collaborative: Matrix, contentWeight: Double) -> Matrix {
        precondition(content.rows == collaborative.rows)
        var c = content, u = collaborative
        normalizeRows(&c)
        normalizeRows(&u)
        let a = Float(contentWeight.squareRoot()), b = Float((1 - contentWeight).squareRoot())
        let d = c.cols + u.cols
        var out = Matrix(rows: c.rows, cols: d)
        for i in 0..<c.rows {
            for t in 0..<c.cols { out[i, t] = a * c[i, t] }
            for t in 0..<u.cols { out[i, c.cols + t] = b * u[i, t] }
        }
        return out
    }

    /// Scales every non-zero row to unit L2 norm.
    static func normalizeRows(_ m: inout Matrix) {
        let d = m.cols
        m.values.withUnsafeMutableBufferPointer { v in
            for i in 0..<m.rows {
                let row = v.baseAddress! + i * d
                let norm = Distances.squaredNorm(row, count: d).squareRoot()
                if norm > 0 { for t in 0..<d { row[t] /= norm } }
            }
        }
    }
}
