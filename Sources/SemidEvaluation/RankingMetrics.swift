import Foundation

/// Recall@K and NDCG@K for one held-out target per query, averaged over queries.
///
/// With a single relevant item at 0-based rank `r` in the returned list: `Recall@K = 1` if
/// `r < K` (the hit rate), `NDCG@K = 1/log₂(r + 2)` if `r < K` (the ideal DCG is 1), else both 0.
public struct RankingMetrics: Sendable, Equatable, Codable {
    /// The cut-offs, ascending.
    public let cutoffs: [Int]
    /// Queries accumulated.
    public private(set) var users = 0
    /// Returned IDs that are not items of the index (must stay 0).
    public private(set) var invalid = 0
    /// Per cut-off, the sums of recall and NDCG.
    private var recallSums: [Double]
    private var ndcgSums: [Double]

    /// Empty metrics for `cutoffs` (each `≥ 1`).
    public init(cutoffs: [Int]) {
        let ks = Array(Set(cutoffs)).sorted()
        precondition(!ks.isEmpty && ks[0] >= 1, "cut-offs must be at least 1")
        self.cutoffs = ks
        recallSums = [Double](repeating: 0, count: ks.count)
        ndcgSums = [Double](repeating: 0, count: ks.count)
    }

    /// The contribution of a target at 0-based `rank` (or `nil` when absent) at cut-off `k`.
    public static func gains(rank: Int?, k: Int) -> (recall: Double, ndcg: Double) {
        guard let rank, rank < k else { return (0, 0) }
        return (1, 1 / log2(Double(rank + 2)))
    }

    /// Adds one query whose target is at 0-based `rank` in the returned list (`nil` if absent).
    public mutating func add(rank: Int?) {
        users += 1
        for (i, k) in cutoffs.enumerated() {
            let g = Self.gains(rank: rank, k: k)
            recallSums[i] += g.recall
            ndcgSums[i] += g.ndcg
        }
    }

    /// Adds one query from its returned items (best first).
    public mutating func add<C: Collection>(returned: C, target: Int32) where C.Element == Int32 {
        add(rank: returned.firstIndex(of: target).map { returned.distance(from: returned.startIndex, to: $0) })
    }

    /// Counts returned IDs that are not items.
    public mutating func addInvalid(_ count: Int) { invalid += count }

    /// Merges another accumulator with the same cut-offs.
    public mutating func merge(_ other: RankingMetrics) {
        precondition(other.cutoffs == cutoffs)
        users += other.users
        invalid += other.invalid
        for i in cutoffs.indices { recallSums[i] += other.recallSums[i]; ndcgSums[i] += other.ndcgSums[i] }
    }

    /// Mean Recall@`k` (`k` must be one of the cut-offs).
    public func recall(at k: Int) -> Double {
        guard let i = cutoffs.firstIndex(of: k), users > 0 else { return 0 }
        return recallSums[i] / Double(users)
    }

    /// Mean NDCG@`k` (`k` must be one of the cut-offs).
    public func ndcg(at k: Int) -> Double {
        guard let i = cutoffs.firstIndex(of: k), users > 0 else { return 0 }
        return ndcgSums[i] / Double(users)
    }

    /// `recall@K`, `ndcg@K` for every cut-off, plus `users` and `invalid`, as named values.
    public var values: [(String, Double)] {
        var out: [(String, Double)] = []
        for k in cutoffs { out.append(("recall@\(k)", recall(at: k))); out.append(("ndcg@\(k)", ndcg(at: k))) }
        out.append(("users", Double(users)))
        out.append(("invalid", Double(invalid)))
        return out
    }
}
