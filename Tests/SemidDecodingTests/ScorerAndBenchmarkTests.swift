import Foundation
import Testing
import SemidMath
@testable import SemidBenchmarks
@testable import SemidDecoding

@Suite struct SyntheticIDsTests {
    @Test func idsAreUniqueInRangeDeterministicAndSkewed() throws {
        let n = 12_000
        let a = try SyntheticIDs.make(items: n, levels: 3, codebookSize: 64, seed: 5)
        let b = try SyntheticIDs.make(items: n, levels: 3, codebookSize: 64, seed: 5)
        let c = try SyntheticIDs.make(items: n, levels: 3, codebookSize: 64, seed: 6)
        #expect(a == b)
        #expect(a != c)
        #expect(a.count == n * 3)
        #expect(a.allSatisfy { $0 >= 0 && $0 < 64 })
        // Unique: the trie builds (it rejects duplicates), with every item.
        let trie = try CodeTrie(ids: a, codebookSizes: [64, 64, 64])
        #expect(trie.itemCount == n)
        // Skew: the most popular first-level code holds far more than 1/64 of the items.
        var counts = [Int](repeating: 0, count: 64)
        for i in 0..<n { counts[Int(a[i * 3])] += 1 }
        #expect(Double(counts.max() ?? 0) > 5.0 * Double(n) / 64)
        // Crowded: 32^3 = 32768 IDs for 16000 items forces many re-draws, still unique.
        let crowded = try SyntheticIDs.make(items: 16_000, levels: 3, codebookSize: 32, seed: 1)
        #expect(try CodeTrie(ids: crowded, codebookSizes: [32, 32, 32]).itemCount == 16_000)
    }

    @Test func impossibleRequestsThrow() {
        #expect(throws: DecodingError.self) { try SyntheticIDs.make(items: 100, levels: 2, codebookSize: 7, seed: 1) }
        #expect(throws: DecodingError.self) { try SyntheticIDs.make(items: 0, levels: 2, codebookSize: 7, seed: 1) }
        #expect(throws: DecodingError.self) { try SyntheticIDs.make(items: 10, levels: 9, codebookSize: 256, seed: 1) }
    }
}

@Suite struct ScorerTests {
    @Test func tableScorerRowsAreLogSoftmax() {
        let scorer = TableScorer(codebookSizes: [7, 300], rowCount: 16, seed: 3)
        for (l, k) in [7, 300].enumerated() {
            for r in 0..<16 {
                let row = scorer.tables[l][(r * k)..<((r + 1) * k)]
                let total = row.reduce(0.0) { $0 + exp(Double($1)) }
                #expect(abs(total - 1) < 1e-4)
                #expect(row.allSatisfy { $0 <= 0 })
            }
        }
    }

    /// The MLP's per-beam cache (extended in `advance`) gives the same log-probabilities as
    /// recomputing from the history and prefix: every returned score equals the sum along its ID.
    @Test func mlpCachedStateMatchesRecomputation() throws {
        var rng = SeededGenerator(seed: 12)
        let sizes = [24, 16, 8]
        let index = RandomIndex.make(&rng, items: 2000, sizes: sizes)
        let trie = try CodeTrie(ids: index.ids, codebookSizes: sizes)
        let scorer = RandomMLPScorer(codebookSizes: sizes, inputDimension: 16, hiddenDimension: 24, seed: 2)
        let histories = (0..<10).map { _ in (0..<5).map { _ in Int32(rng.nextInt(below: 2000)) } }
        let results = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(beamWidth: 6, topK: 4, queriesPerScorerCall: 3))
            .search(histories: histories, scorer: scorer)
        for (q, history) in histories.enumerated() {
            for r in results[q] {
                var total: Float = 0
                for l in 0..<3 {
                    let lp = try #require(scorer.logProbabilities(history: history, prefix: Array(r.codes[0..<l])))
                    total += lp[Int(r.codes[l])]
                    #expect(abs(lp.reduce(0) { $0 + exp($1) } - 1) < 1e-3)
                }
                #expect(abs(total - r.score) < 1e-3 * max(1, abs(total)))
            }
        }
        #expect(scorer.logProbabilities(history: [1], prefix: [0, 0, 0]) == nil)
        #expect(scorer.logProbabilities(history: [1], prefix: [99]) == nil)
    }
}

@Suite struct DecodeBenchmarkTests {
    @Test func smallRunReportsEveryFigure() throws {
        let config = DecodeBenchmark.Configuration(beamWidth: 8, topK: 4, queries: 40, mlpQueries: 20, historyLength: 5)
        let result = try DecodeBenchmark.runSynthetic(items: 3000, levels: 3, codebookSize: 32, configuration: config)
        #expect(result.items == 3000)
        #expect(result.name == "synthetic 3k×3")
        #expect(result.buildSeconds > 0 && result.reloadSeconds > 0)
        #expect(result.bytesPerItem > 8 && result.bytesPerItem < 40)
        #expect(result.constraintNanosPerBeamStep > 0)
        #expect(result.lookupNanosPerBeamStep > 0)
        #expect(result.constraintNanosPerBeamStepByLevel.count == 3)
        #expect(result.tableScorer.queries == 40 && result.tableScorer.queriesPerSecond > 0)
        #expect(result.mlpScorer.queries == 20 && result.mlpScorer.scorerShare > 0)
        let report = DecodeBenchmarkReport(results: [result])
        let table = report.table()
        #expect(table.contains(BLASRuntime.coreName))
        #expect(table.contains("synthetic 3k×3"))
        let decoded = try JSONDecoder().decode(DecodeBenchmarkReport.self, from: Data(try report.json().utf8))
        #expect(decoded == report)
    }
}
