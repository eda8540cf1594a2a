import Foundation
import SemidDecoding
import SemidMath
import SemidStorage
import Testing
@testable import SemidEvaluation

@Suite("Recall/NDCG, leave-one-out split, popularity, marginal scorer")
struct EvaluationTests {
    @Test func metricsByHand() {
        var m = RankingMetrics(cutoffs: [10, 5])
        #expect(m.cutoffs == [5, 10])
        m.add(rank: 0)      // hit at the top
        m.add(rank: 3)      // inside 5
        m.add(rank: 7)      // inside 10 only
        m.add(rank: nil)    // missed
        m.add(rank: 12)     // beyond 10
        #expect(m.users == 5)
        #expect(abs(m.recall(at: 5) - 2.0 / 5) < 1e-12)
        #expect(abs(m.recall(at: 10) - 3.0 / 5) < 1e-12)
        let n5 = (1 + 1 / log2(5.0)) / 5
        let n10 = (1 + 1 / log2(5.0) + 1 / log2(9.0)) / 5
        #expect(abs(m.ndcg(at: 5) - n5) < 1e-12)
        #expect(abs(m.ndcg(at: 10) - n10) < 1e-12)
        var other = RankingMetrics(cutoffs: [5, 10])
        other.add(returned: [Int32(4), 9, 2], target: 9)   // rank 1
        other.addInvalid(2)
        m.merge(other)
        #expect(m.users == 6 && m.invalid == 2)
        #expect(abs(m.ndcg(at: 5) - (n5 * 5 + 1 / log2(3.0)) / 6) < 1e-12)
    }

    @Test func leaveOneOutSplit() {
        let seqs = [UserSequence(user: 7, items: [1, 2, 3, 4, 5, 6]),
                    UserSequence(user: 8, items: [9, 8]),
                    UserSequence(user: 9, items: [3]),
                    UserSequence(user: 10, items: [5, 6, 7])]
        let split = LeaveOneOutSplit(sequences: seqs, maxHistory: 3)
        #expect(split.training == [[1, 2, 3, 4], [], [], [5]])
        #expect(split.validation == [EvaluationCase(user: 7, history: [2, 3, 4], target: 5),
                                     EvaluationCase(user: 10, history: [5], target: 6)])
        #expect(split.test == [EvaluationCase(user: 7, history: [3, 4, 5], target: 6),
                               EvaluationCase(user: 8, history: [9], target: 8),
                               EvaluationCase(user: 10, history: [5, 6], target: 7)])
        let valid = split.itemCounts(before: .valid, itemCount: 12)
        #expect(valid[1] == 1 && valid[5] == 1 && valid[6] == 0)
        let test = split.itemCounts(before: .test, itemCount: 12)
        #expect(test[5] == 2 && test[6] == 1)   // + the validation targets 5 and 6
    }

    @Test func settingsAreChecked() {
        #expect(throws: EvaluationError.self) { try EvaluationSettings(cutoffs: [0, 10]).validate() }
        #expect(throws: EvaluationError.self) { try EvaluationSettings(cutoffs: [5, 10], beamWidth: 8).validate() }
        #expect(throws: EvaluationError.self) { try EvaluationSettings(cutoffs: []).validate() }
    }

    /// A trie of `n` items with random unique 3-level IDs.
    static func randomTrie(items n: Int, sizes: [Int], seed: UInt64) -> CodeTrie {
        var rng = SeededGenerator(seed: seed)
        let picked = rng.sample(n, from: sizes.reduce(1, *))
        var ids: [Int32] = []
        for var x in picked {
            var row = [Int32](repeating: 0, count: sizes.count)
            for l in stride(from: sizes.count - 1, through: 0, by: -1) { row[l] = Int32(x % sizes[l]); x /= sizes[l] }
            ids += row
        }
        return try! CodeTrie(ids: ids, codebookSizes: sizes)
    }

    /// With a beam as wide as the catalog the marginal scorer's generation is the exact ranking
    /// of the item distribution, and each score is the normalised log-probability.
    @Test(arguments: [false, true])
    func marginalScorerIsExact(excludeHistory: Bool) throws {
        let n = 50
        let trie = Self.randomTrie(items: n, sizes: [4, 5, 6], seed: 3)
        var rng = SeededGenerator(seed: 4)
        let weights = (0..<n).map { _ in Double(rng.nextUnitFloat()) + 0.01 }
        let scorer = try ItemMarginalScorer(model: FixedItemScores(weights: weights), trie: trie, excludeHistoryMass: excludeHistory)
        let history: [Int32] = [3, 17, 40]
        let top = 20
        let search = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(
            beamWidth: n, topK: top, excludeHistory: excludeHistory))
        let results = try search.search(histories: [history], scorer: scorer)
        let allowed = (0..<n).filter { !excludeHistory || !history.contains(Int32($0)) }
        let total = allowed.reduce(0.0) { $0 + weights[$1] }
        let expected = allowed.sorted { weights[$0] > weights[$1] }.prefix(top)
        #expect(results.items.map(Int.init) == Array(expected))
        for (r, d) in results[0].enumerated() {
            #expect(abs(Double(d.score) - log(weights[Int(d.item)] / total)) < 2e-4, "rank \(r)")
            #expect(trie.item(forID: d.codes) == d.item)
        }
    }

    @Test func popularityBaselineByGeneration() throws {
        let n = 30
        let trie = Self.randomTrie(items: n, sizes: [3, 4, 5], seed: 9)
        // Item 4 is by far the most frequent, then 11.
        var seqs: [UserSequence] = []
        for u in 0..<20 { seqs.append(UserSequence(user: u, items: [4, 11, (u % 7) + 12, 4 == u ? 5 : 4, 11, u % 3])) }
        let split = LeaveOneOutSplit(sequences: seqs, maxHistory: 10)
        let counts = split.itemCounts(before: .test, itemCount: n)
        let r = try GenerativeEvaluation.popularity(split.test, counts: counts, trie: trie,
                                                    settings: EvaluationSettings(cutoffs: [1, 5], beamWidth: 10))
        #expect(r.metrics.users == 20)
        #expect(r.metrics.invalid == 0)
        // Excluding history: the popular items 4 and 11 are in every history, so they never come back.
        let search = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(beamWidth: 10, topK: 5, excludeHistory: true))
        let scorer = try ItemMarginalScorer(model: FixedItemScores(weights: counts), trie: trie, excludeHistoryMass: true)
        let out = try search.search(histories: split.test.map(\.history), scorer: scorer)
        for (q, c) in split.test.enumerated() {
            for item in out.items[(q * 5)..<((q + 1) * 5)] { #expect(!c.history.contains(item)) }
        }
        #expect(GenerativeEvaluation.invalidCount(out, trie: trie) == 0)
    }
}
