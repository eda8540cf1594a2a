import Dispatch
import Foundation
import SemidDecoding

/// How an evaluation decodes.
public struct EvaluationSettings: Sendable, Equatable, Codable {
    /// Cut-offs `K` for Recall@K and NDCG@K; the search returns `max(K)` items.
    public var cutoffs: [Int]
    /// Beam width of the constrained search (`≥ max(K)`).
    public var beamWidth: Int
    /// Never return an item of the query's history.
    public var excludeHistory: Bool
    /// Histories per scorer call inside the search.
    public var queriesPerScorerCall: Int

    /// Creates settings.
    public init(cutoffs: [Int] = [5, 10], beamWidth: Int = 20, excludeHistory: Bool = false, queriesPerScorerCall: Int = 32) {
        self.cutoffs = cutoffs
        self.beamWidth = beamWidth
        self.excludeHistory = excludeHistory
        self.queriesPerScorerCall = queriesPerScorerCall
    }

    /// Throws for cut-offs below 1 or a beam narrower than the largest cut-off.
    public func validate() throws {
        guard !cutoffs.isEmpty, cutoffs.allSatisfy({ $0 >= 1 }) else {
            throw EvaluationError.invalidSetting("--k must list cut-offs of at least 1 (got \(cutoffs.map(String.init).joined(separator: ",")))")
        }
        let top = cutoffs.max()!
        guard beamWidth >= top else {
            throw EvaluationError.invalidSetting("--beam \(beamWidth) is smaller than the largest cut-off \(top); use --beam \(top) or more")
        }
    }
}

/// Errors of evaluation settings and inputs.
public enum EvaluationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A setting is out of range; the text names the flag.
    case invalidSetting(String)
    /// No case to evaluate.
    case noCases(String)

    /// The message, which names the flag or input at fault.
    public var description: String {
        switch self {
        case .invalidSetting(let text): return text
        case .noCases(let text): return text
        }
    }
}

/// What an evaluation measured.
public struct EvaluationResult: Sendable, Codable {
    /// Recall/NDCG per cut-off, users, invalid IDs.
    public var metrics: RankingMetrics
    /// Wall-clock seconds of the search (scorer included).
    public var seconds: Double

    /// Creates a result.
    public init(metrics: RankingMetrics, seconds: Double) {
        self.metrics = metrics
        self.seconds = seconds
    }
}

/// Full-ranking evaluation by generation: each history is decoded by ``ConstrainedBeamSearch``
/// with the given scorer, and the metrics are computed on the returned items. Every returned
/// ID is checked against the trie (an ID that is not an item, or a repeated item, counts as
/// invalid).
public enum GenerativeEvaluation {
    /// Decodes every case and scores the results.
    public static func evaluate<S: NextTokenScorer>(
        _ cases: [EvaluationCase], scorer: S, trie: CodeTrie, settings: EvaluationSettings
    ) throws -> EvaluationResult {
        try settings.validate()
        let top = settings.cutoffs.max()!
        let search = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(
            beamWidth: settings.beamWidth, topK: top, excludeHistory: settings.excludeHistory,
            queriesPerScorerCall: settings.queriesPerScorerCall))
        let start = DispatchTime.now().uptimeNanoseconds
        let results = try search.search(histories: cases.map(\.history), scorer: scorer)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var metrics = RankingMetrics(cutoffs: settings.cutoffs)
        metrics.addInvalid(invalidCount(results, trie: trie))
        for (q, c) in cases.enumerated() {
            metrics.add(returned: results.items[(q * top)..<((q + 1) * top)], target: c.target)
        }
        return EvaluationResult(metrics: metrics, seconds: seconds)
    }

    /// The popularity baseline on the same cases, decoded by the same search: every history gets
    /// the item distribution of `counts` (see ``LeaveOneOutSplit/itemCounts(before:itemCount:)``),
    /// marginalised over the trie.
    public static func popularity(
        _ cases: [EvaluationCase], counts: [Double], trie: CodeTrie, settings: EvaluationSettings
    ) throws -> EvaluationResult {
        let scorer = try ItemMarginalScorer(model: FixedItemScores(weights: counts), trie: trie,
                                            excludeHistoryMass: settings.excludeHistory)
        return try evaluate(cases, scorer: scorer, trie: trie, settings: settings)
    }

    /// Returned entries that are not a real item with that ID, or repeat an item within a query.
    public static func invalidCount(_ results: BeamSearchResults, trie: CodeTrie) -> Int {
        var invalid = 0
        let levels = results.levels, k = results.topK
        for q in 0..<results.queryCount {
            var seen = Set<Int32>()
            for r in 0..<k {
                let i = q * k + r
                let item = results.items[i]
                let codes = Array(results.codes[(i * levels)..<((i + 1) * levels)])
                if item < 0 || Int(item) >= trie.itemCount || trie.item(forID: codes) != item || !seen.insert(item).inserted {
                    invalid += 1
                }
            }
        }
        return invalid
    }
}
