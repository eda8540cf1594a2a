import Foundation
import SemidDecoding
import SemidEvaluation
import SemidIndex
import SemidMath
@testable import SemidNeuralNetwork
import SemidTestSupport
import SemidQuantization
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
        var opt = AdamW(for: m.parameters, configuration: TrainingConfiguration().optimizer, rounding: .scaleFirst)
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
        let exact = try ModelTrainer.exactRanking(m, cases: cases, cutoffs: [5, 10])
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

    /// A model with user tokens trained a few steps on the tiny data.
    static func userModel(_ head: ModelConfiguration.Head, placement: ModelConfiguration.UserTokenPlacement,
                          tiny: TinyCatalog) throws -> NextItemModel {
        var c = tiny.configuration(head: head, content: false)
        c.userTokens = true
        c.userTokenPlacement = placement
        c.userCodeSizes = TinyCatalog.userCodeSizes
        c.userTokenDropout = 0.2
        let m = try NextItemModel(configuration: c, items: tiny.items, trie: tiny.trie, seed: 4)
        let ws = ModelWorkspace(configuration: c, itemCount: tiny.items.itemCount)
        var opt = AdamW(for: m.parameters, configuration: TrainingConfiguration().optimizer, rounding: .scaleFirst)
        var g = SeededGenerator(seed: 3)
        let batch = m.teacherForcingBatch(tiny.sequences.map { $0[...] }, users: tiny.userIDs.map { $0 })
        for _ in 0..<20 {
            _ = m.computeGradients(batch, workspace: ws, generator: &g)
            opt.update(m.parameters, learningRate: 1e-2)
        }
        m.composeItemVectors()
        return m
    }

    /// Property: with user tokens, for random histories and random users (known, unknown, and
    /// IDs with codes beyond the model's tables, as users added after training may have), every
    /// decoded ID is a real item, items are distinct, exclusion holds, and the results for a query
    /// do not depend on the micro-batch it is decoded in.
    @Test(arguments: [(ModelConfiguration.Head.items, ModelConfiguration.UserTokenPlacement.prefix), (.both, .add), (.codes, .prefix)])
    func userTokenRecommendationsAreValidItems(head: ModelConfiguration.Head, placement: ModelConfiguration.UserTokenPlacement) throws {
        let tiny = TinyCatalog()
        let m = try Self.userModel(head, placement: placement, tiny: tiny)
        var rng = SeededGenerator(seed: 77)
        for round in 0..<4 {
            let count = 5 + rng.nextInt(below: 20)
            let histories: [[Int32]] = (0..<count).map { _ in
                rng.sample(1 + rng.nextInt(below: 9), from: tiny.items.itemCount).map { Int32($0) }
            }
            let users: [[Int32]?] = (0..<count).map { _ in
                switch rng.nextInt(below: 4) {
                case 0: return nil
                case 1: return [Int32(rng.nextInt(below: 6)), Int32(rng.nextInt(below: 9)), 5]  // beyond the tables, extra position
                default: return [Int32(rng.nextInt(below: 3)), Int32(rng.nextInt(below: 4))]
                }
            }
            let beam = [3, 7, 12, 30][round], top = min(3, beam), exclude = round % 2 == 1
            let scorer = try ModelScorer(model: m, trie: tiny.trie, excludeHistoryMass: exclude, users: users)
            let search = try ConstrainedBeamSearch(trie: tiny.trie, configuration: BeamSearchConfiguration(
                beamWidth: beam, topK: top, excludeHistory: exclude, queriesPerScorerCall: 1 + round * 3))
            let r = try search.search(histories: histories, scorer: scorer)
            #expect(GenerativeEvaluation.invalidCount(r, trie: tiny.trie) == 0)
            for q in 0..<count {
                let items = r.items[(q * top)..<((q + 1) * top)]
                #expect(Set(items).count == top && items.allSatisfy { (0..<Int32(tiny.items.itemCount)).contains($0) })
                if exclude { #expect(items.allSatisfy { !histories[q].contains($0) }) }
                #expect(r.scores[(q * top)..<((q + 1) * top)].allSatisfy { $0 <= 0 && $0.isFinite })
            }
            let single = try ConstrainedBeamSearch(trie: tiny.trie, configuration: BeamSearchConfiguration(
                beamWidth: beam, topK: top, excludeHistory: exclude, queriesPerScorerCall: 1, parallel: false))
            #expect(try single.search(histories: histories, scorer: scorer).items == r.items)
        }
        // The user matters: the same history with different users is scored differently.
        let h: [[Int32]] = [[1, 2, 3], [1, 2, 3]]
        let ws = ModelWorkspace(configuration: m.configuration, itemCount: tiny.items.itemCount)
        let states = m.userStates(h, users: [[0, 1], [2, 3]], workspace: ws)
        #expect(Array(states[0..<m.dimension]) != Array(states[m.dimension...]))
    }

    /// Training with user tokens is deterministic too, with stored and with causal user IDs; the
    /// two differ, and the trainer refuses missing user IDs or a missing encoder.
    @Test func userTokenTrainingIsDeterministicAndNeedsUserIDs() throws {
        let tiny = TinyCatalog()
        let seqs = tiny.sequences.enumerated().map { UserSequence(user: $0.offset, items: $0.element.map(Int.init) + [1, 2]) }
        let split = LeaveOneOutSplit(sequences: seqs, maxHistory: 6)
        let sizes = [4, 4]
        let users = try UserCodes(codes: tiny.userIDs.flatMap { $0 }, codeSizes: sizes)
        var rng = SeededGenerator(seed: 4)
        let books = (0..<2).map { _ in Matrix(rows: 4, cols: tiny.contentDimension, values: (0..<(4 * tiny.contentDimension)).map { _ in rng.nextGaussian() }) }
        let encoder = try UserIDEncoder(quantizer: ResidualQuantizer(codebooks: books), configuration: UserIDConfiguration(levels: 2, codebookSize: 4),
                                        itemVectors: Matrix(rows: tiny.items.itemCount, cols: tiny.contentDimension, values: tiny.content),
                                        textEmbeddings: nil)
        var c = tiny.configuration(head: .items, content: true)
        c.userTokens = true
        c.userCodeSizes = sizes
        c.userTokenDropout = 0.3
        var t = TrainingConfiguration()
        t.epochs = 2
        t.batchSize = 4
        t.warmupSteps = 2
        t.seed = 9
        func train(_ source: TrainingConfiguration.UserIDTraining) throws -> [Float] {
            var t = t
            t.userIDSource = source
            let m = try NextItemModel(configuration: c, items: tiny.items, content: tiny.content, trie: tiny.trie, seed: 5)
            _ = try ModelTrainer.train(m, split: split, trie: tiny.trie, configuration: t, users: users, userEncoder: encoder)
            return m.parameters.snapshot()
        }
        let causal = try train(.causal)
        #expect(causal == (try train(.causal)))
        let stored = try train(.stored)
        #expect(stored == (try train(.stored)))
        #expect(causal != stored)
        let m = try NextItemModel(configuration: c, items: tiny.items, content: tiny.content, trie: tiny.trie, seed: 5)
        #expect(throws: ModelError.self) { try ModelTrainer.train(m, split: split, trie: tiny.trie, configuration: t) }
        #expect { try ModelTrainer.train(m, split: split, trie: tiny.trie, configuration: t, users: users) }
            throws: { "\($0)".contains("causal user IDs need the item vectors") }
        let fewer = try UserCodes(codes: Array(tiny.userIDs.prefix(5).flatMap { $0 }), codeSizes: sizes)
        #expect(throws: ModelError.self) { try ModelTrainer.train(m, split: split, trie: tiny.trie, configuration: t, users: fewer, userEncoder: encoder) }
        // The model cannot read more positions than the encoder makes (no collision suffix).
        var wide = c
        wide.userCodeSizes = sizes + [2]
        let w = try NextItemModel(configuration: wide, items: tiny.items, content: tiny.content, trie: tiny.trie, seed: 5)
        let threeLevel = try UserCodes(codes: tiny.userIDs.flatMap { $0 + [0] }, codeSizes: sizes + [2])
        #expect { try ModelTrainer.train(w, split: split, trie: tiny.trie, configuration: t, users: threeLevel, userEncoder: encoder) }
            throws: { "\($0)".contains("at most the user quantizer's 2 positions") }
    }

    /// Training settings stored before causal user IDs existed decode as `stored` (what those
    /// models were trained with); new ones default to `causal`.
    @Test func trainingConfigurationWithoutUserIDSourceDecodes() throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        var object = try JSONSerialization.jsonObject(with: encoder.encode(TrainingConfiguration())) as? [String: Any] ?? [:]
        #expect(object["user_id_source"] as? String == "causal")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        var stored = TrainingConfiguration()
        stored.userIDSource = .stored
        #expect(try decoder.decode(TrainingConfiguration.self, from: encoder.encode(stored)) == stored)
        #expect(try decoder.decode(TrainingConfiguration.self, from: encoder.encode(TrainingConfiguration())) == TrainingConfiguration())
        object.removeValue(forKey: "user_id_source")
        let decoded = try decoder.decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        var expected = TrainingConfiguration()
        expected.userIDSource = .stored
        #expect(decoded == expected)
    }

    /// A configuration stored before user tokens existed decodes with them off.
    @Test func configurationWithoutUserKeysDecodes() throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        var object = try JSONSerialization.jsonObject(with: encoder.encode(ModelConfiguration())) as! [String: Any]
        #expect(object["user_tokens"] as? Bool == false)
        for key in object.keys where key.hasPrefix("user_") { object.removeValue(forKey: key) }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let decoded = try decoder.decode(ModelConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(decoded == ModelConfiguration())
        #expect(!decoded.userTokens)
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
