import Foundation
import SemidDecoding
import SemidEvaluation
import SemidMath
import SemidStorage
import Testing
@testable import SemidModel

@Suite("Model as a NextTokenScorer")
struct ScorerTests {
    static func model(_ head: ModelConfiguration.Head, tiny: TinyCatalog, seed: UInt64 = 2) throws -> NextItemModel {
        var c = tiny.configuration(head: head, content: false)
        c.codeHeadMix = 0.3
        let m = try NextItemModel(configuration: c, items: tiny.items, trie: tiny.trie, seed: seed)
        // Spread the item scores: random untrained weights give nearly uniform distributions.
        let ws = ModelWorkspace(configuration: c, itemCount: tiny.items.itemCount)
        let opt = AdamW(parameters: m.parameters, configuration: AdamW.Configuration())
        var g = SeededGenerator(seed: 3)
        let batch = TrainingBatch.teacherForcing(tiny.sequences.map { $0[...] }, maxHistory: c.maxHistory)
        for _ in 0..<20 {
            _ = m.computeGradients(batch, workspace: ws, generator: &g)
            opt.update(m.parameters, learningRate: 1e-2)
        }
        m.composeItemVectors()
        return m
    }

    /// Every decoded ID is a real item, items are distinct, and excluded history never appears,
    /// for each head, several beam widths and micro-batch sizes.
    @Test(arguments: ModelConfiguration.Head.allCases)
    func decodedItemsAreRealAndExclusionHolds(head: ModelConfiguration.Head) throws {
        let tiny = TinyCatalog()
        let m = try Self.model(head, tiny: tiny)
        let histories = tiny.sequences.map { Array($0.dropLast()) }.filter { !$0.isEmpty }
        for (beam, exclude, perCall) in [(5, false, 1), (8, true, 3), (30, true, 32), (3, false, 2)] {
            let top = min(3, beam)
            let search = try ConstrainedBeamSearch(trie: tiny.trie, configuration: BeamSearchConfiguration(
                beamWidth: beam, topK: top, excludeHistory: exclude, queriesPerScorerCall: perCall))
            let scorer = try ModelScorer(model: m, trie: tiny.trie, excludeHistoryMass: exclude)
            let r = try search.search(histories: histories, scorer: scorer)
            #expect(GenerativeEvaluation.invalidCount(r, trie: tiny.trie) == 0)
            for q in 0..<histories.count {
                let items = r.items[(q * top)..<((q + 1) * top)]
                #expect(Set(items).count == top)
                if exclude { #expect(items.allSatisfy { !histories[q].contains($0) }) }
                let scores = r.scores[(q * top)..<((q + 1) * top)]
                #expect(scores.allSatisfy { $0 <= 0 && $0.isFinite })
                #expect(zip(scores, scores.dropFirst()).allSatisfy { $0 >= $1 })
            }
            // Results do not depend on the micro-batch size (the transformer is cached per history).
            let single = try ConstrainedBeamSearch(trie: tiny.trie, configuration: BeamSearchConfiguration(
                beamWidth: beam, topK: top, excludeHistory: exclude, queriesPerScorerCall: 1, parallel: false))
            let r1 = try single.search(histories: histories, scorer: scorer)
            #expect(r1.items == r.items)
        }
    }

    /// Items head: with a beam as wide as the catalog, generation returns exactly the model's
    /// top items, with scores equal to the normalised log-softmax of the item logits.
    @Test func itemsHeadGenerationIsExactWithAWideBeam() throws {
        let tiny = TinyCatalog()
        let m = try Self.model(.items, tiny: tiny)
        let n = tiny.items.itemCount
        let histories = tiny.sequences.map { Array($0.dropLast()) }.filter { !$0.isEmpty }
        let search = try ConstrainedBeamSearch(trie: tiny.trie, configuration: BeamSearchConfiguration(beamWidth: n, topK: 10))
        let r = try search.search(histories: histories, scorer: ModelScorer(model: m, trie: tiny.trie))
        let ws = ModelWorkspace(configuration: m.configuration, itemCount: n)
        let states = m.userStates(histories, workspace: ws)
        var logits = [Float](repeating: 0, count: histories.count * n)
        states.withUnsafeBufferPointer { s in logits.withUnsafeMutableBufferPointer { m.itemScores(states: s.baseAddress!, count: histories.count, into: $0.baseAddress!) } }
        for q in 0..<histories.count {
            let row = Array(logits[(q * n)..<((q + 1) * n)])
            let top = row.max()!
            let logZ = Double(top) + log(row.reduce(0.0) { $0 + exp(Double($1 - top)) })
            let expected = (0..<n).sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }.prefix(10)
            #expect(r.items[(q * 10)..<((q + 1) * 10)].map(Int.init) == Array(expected))
            for k in 0..<10 {
                let item = Int(r.items[q * 10 + k])
                #expect(abs(Double(r.scores[q * 10 + k]) - (Double(row[item]) - logZ)) < 1e-3)
            }
        }
        // Exact ranking metrics agree with generation at this beam.
        let cases = tiny.sequences.filter { $0.count >= 2 }.map { EvaluationCase(user: 0, history: Array($0.dropLast()), target: $0.last!) }
        let exact = ModelTrainer.exactRanking(m, cases: cases, cutoffs: [5, 10])
        let generated = try GenerativeEvaluation.evaluate(cases, scorer: ModelScorer(model: m, trie: tiny.trie), trie: tiny.trie,
                                                          settings: EvaluationSettings(cutoffs: [5, 10], beamWidth: n))
        #expect(abs(exact.ndcg(at: 10) - generated.metrics.ndcg(at: 10)) < 1e-9)
        #expect(abs(exact.recall(at: 5) - generated.metrics.recall(at: 5)) < 1e-9)
    }

    /// Code head: each level's log-probabilities are a normalised distribution over the children
    /// of the beam's trie node.
    @Test func codeHeadLevelsAreNormalisedOverChildren() throws {
        let tiny = TinyCatalog()
        let m = try Self.model(.codes, tiny: tiny)
        let n = tiny.items.itemCount
        // With a full beam, the exponentiated item scores sum to 1 over all items.
        let search = try ConstrainedBeamSearch(trie: tiny.trie, configuration: BeamSearchConfiguration(beamWidth: n, topK: n))
        let r = try search.search(histories: [[1, 2, 3]], scorer: ModelScorer(model: m, trie: tiny.trie))
        let total = r.scores.reduce(0.0) { $0 + exp(Double($1)) }
        #expect(abs(total - 1) < 1e-4)
        #expect(Set(r.items).count == n)
    }

    /// Training twice from the same seed gives identical weights.
    @Test func trainingIsDeterministic() throws {
        let tiny = TinyCatalog()
        func train() throws -> [Float] {
            let c = tiny.configuration(head: .both, content: true)
            let m = try NextItemModel(configuration: c, items: tiny.items, content: tiny.content, trie: tiny.trie, seed: 5)
            let seqs = tiny.sequences.enumerated().map { UserSequence(user: $0.offset, items: $0.element.map(Int.init) + [1, 2]) }
            var t = TrainingConfiguration()
            t.epochs = 2
            t.batchSize = 4
            t.warmupSteps = 2
            t.seed = 9
            _ = try ModelTrainer.train(m, split: LeaveOneOutSplit(sequences: seqs, maxHistory: 6), trie: tiny.trie, configuration: t)
            return m.parameters.snapshot()
        }
        #expect(try train() == train())
    }
}
