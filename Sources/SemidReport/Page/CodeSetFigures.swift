import Foundation
import SemidIndex
import SemidQuantization

/// What the report plots about one set of semantic IDs (an index's items, or its users): the
/// collision report, code usage per level, raw-ID group sizes, per-member reconstruction errors
/// and the collision policy's rounds. Everything here is O(levels × K + largest group) in size,
/// whatever the number of members, except ``ErrorFigures/sortedRelative``.
public struct CodeSetFigures: Sendable {
    /// `"item"` or `"user"`.
    public var noun: String
    /// Collisions, per-level utilisation, perplexity, prefixes and residuals, largest groups.
    public var report: CollisionReport
    /// Members per code, `[levels][K]`.
    public var usage: [[Int]]
    /// Raw IDs by how many members share them: `groupSizes[s]` = raw IDs held by exactly `s` members.
    public var groupSizes: [Int: Int]
    /// Per-member reconstruction errors, or `nil` when the index does not have them.
    public var errors: ErrorFigures?
    /// Why ``errors`` is `nil` (shown in the report instead of the plot).
    public var errorsMissing: String?
    /// Rounds of an iterative collision policy (sinkhorn), empty otherwise.
    public var rounds: [CollisionResolution.Summary.Round]
    /// Members whose ID the collision policy moved away from the raw codes.
    public var itemsMoved: Int

    /// Computes the figures from raw codes (`[n, L]`, codes at level `l` in `0..<codebookSizes[l]`).
    public init(noun: String, report: CollisionReport, rawCodes: CodeMatrix, codebookSizes: [Int], errors: ErrorFigures?,
                errorsMissing: String?, collisions: CollisionResolution.Summary) {
        self.noun = noun
        self.report = report
        self.usage = Self.usage(rawCodes, codebookSizes: codebookSizes)
        self.groupSizes = Self.groupSizes(rawCodes, codebookSizes: codebookSizes)
        self.errors = errors
        self.errorsMissing = errors == nil ? errorsMissing : nil
        self.rounds = collisions.rounds
        self.itemsMoved = collisions.itemsMoved
    }

    /// Members per code at every level, `[levels][K_l]`. O(n·L).
    public static func usage(_ codes: CodeMatrix, codebookSizes: [Int]) -> [[Int]] {
        let sizes = (0..<codes.levels).map { $0 < codebookSizes.count ? max(0, codebookSizes[$0]) : 0 }
        var counts = sizes.map { [Int](repeating: 0, count: $0) }
        for i in 0..<codes.rows {
            for l in 0..<codes.levels {
                let c = Int(codes[i, l])
                if c >= 0 && c < sizes[l] { counts[l][c] += 1 }
            }
        }
        return counts
    }

    /// Raw IDs by group size (`[size: number of raw IDs]`). Rows are packed into 64-bit keys when
    /// `L · ⌈log₂ max K_l⌉ ≤ 64` and counted after a sort (O(n log n), no per-row allocation);
    /// longer IDs go through a dictionary of rows.
    public static func groupSizes(_ codes: CodeMatrix, codebookSizes: [Int]) -> [Int: Int] {
        var sizes: [Int: Int] = [:]
        guard codes.rows > 0 else { return sizes }
        let k = codebookSizes.max() ?? 2
        let bits = max(1, Int(Foundation.ceil(Foundation.log2(Double(max(2, k))))))
        if bits * codes.levels <= 64 {
            var keys = [UInt64](repeating: 0, count: codes.rows)
            for i in 0..<codes.rows {
                var key: UInt64 = 0
                for l in 0..<codes.levels { key = key << UInt64(bits) | UInt64(UInt32(bitPattern: codes[i, l]) & ((1 << UInt32(bits)) - 1)) }
                keys[i] = key
            }
            keys.sort()
            var run = 1
            for i in 1..<keys.count {
                if keys[i] == keys[i - 1] { run += 1 } else { sizes[run, default: 0] += 1; run = 1 }
            }
            sizes[run, default: 0] += 1
        } else {
            var groups: [ArraySlice<Int32>: Int] = [:]
            for i in 0..<codes.rows { groups[codes.row(i), default: 0] += 1 }
            for count in groups.values { sizes[count, default: 0] += 1 }
        }
        return sizes
    }
}

/// The distribution of per-member reconstruction errors, relative to the data's total variance.
public struct ErrorFigures: Sendable {
    /// One badly reconstructed member.
    public struct Member: Sendable {
        /// The member's id (item or user).
        public var id: Int
        /// `‖x − x̂‖² / mean ‖x − μ‖²`.
        public var relativeError: Double
        /// The final ID.
        public var finalID: [Int32]
        /// The title, when the catalog has one.
        public var title: String?
    }

    /// `mean ‖x − μ‖²` of the build's vectors; errors are divided by it (1 when it is 0).
    public var totalVariance: Double
    /// Every member's `‖x − x̂‖² / totalVariance`, ascending.
    public var sortedRelative: [Float]
    /// The worst members, worst first.
    public var worst: [Member]
    /// Where the errors came from, e.g. `"stored in the index"`.
    public var source: String

    /// Mean relative error (the relative MSE over all members).
    public var mean: Double { sortedRelative.isEmpty ? 0 : sortedRelative.reduce(0.0) { $0 + Double($1) } / Double(sortedRelative.count) }

    /// The `q` quantile of the relative errors.
    public func quantile(_ q: Double) -> Double { Histogram.quantile(q, ofSorted: sortedRelative) ?? 0 }

    /// Sorts `errors` (squared, `[n]`), divides by `totalVariance` and keeps the `worstCount`
    /// largest with their final IDs and titles (from `titles`).
    public init(squaredErrors errors: [Float], totalVariance: Double, finalIDs: CodeMatrix, source: String, worstCount: Int = 8,
                titles: ([Int]) throws -> [Int: String]) rethrows {
        let scale = totalVariance > 0 ? 1 / totalVariance : 1
        self.totalVariance = totalVariance
        self.sortedRelative = errors.map { Float(Double($0) * scale) }.sorted()
        // The worst members: those at or above the worstCount-th largest error (one pass, then a small sort).
        let sortedAbsolute = sortedRelative.count >= worstCount && worstCount > 0
            ? Float(Double(sortedRelative[sortedRelative.count - worstCount]) / scale) : -Float.infinity
        let candidates = errors.indices.filter { errors[$0] >= sortedAbsolute * (1 - 1e-6) }
        let order = candidates.sorted { errors[$0] != errors[$1] ? errors[$0] > errors[$1] : $0 < $1 }.prefix(max(0, worstCount))
        let names = try titles(Array(order))
        self.worst = order.map { i in
            Member(id: i, relativeError: Double(errors[i]) * scale,
                   finalID: i < finalIDs.rows ? Array(finalIDs.row(i)) : [], title: names[i])
        }
        self.source = source
    }
}
