import Foundation
import SemidDecoding
import SemidMath
@testable import SemidNeuralNetwork
import SemidTestSupport
import Testing
@testable import SemidModel

/// A tiny catalog with unique semantic IDs, its trie and random sequences.
struct TinyCatalog {
    let items: ItemCodes
    let trie: CodeTrie
    let content: [Float]
    let contentDimension = 5
    let sequences: [[Int32]]

    init(itemCount n: Int = 30, sizes: [Int] = [4, 4, 3], seed: UInt64 = 11) {
        var rng = SeededGenerator(seed: seed)
        let space = sizes.reduce(1, *)
        let picked = rng.sample(n, from: space)
        var codes: [Int32] = []
        for var x in picked {
            var row = [Int32](repeating: 0, count: sizes.count)
            for l in stride(from: sizes.count - 1, through: 0, by: -1) { row[l] = Int32(x % sizes[l]); x /= sizes[l] }
            codes += row
        }
        items = try! ItemCodes(codes: codes, codebookSizes: sizes)
        trie = try! CodeTrie(ids: codes, codebookSizes: sizes)
        content = (0..<(n * contentDimension)).map { _ in rng.nextGaussian() * 0.4 }
        var seqs: [[Int32]] = []
        for _ in 0..<12 {
            let len = 2 + rng.nextInt(below: 7)
            seqs.append(rng.sample(len, from: n).map { Int32($0) })
        }
        sequences = seqs
    }

    /// Vocabulary of the tiny users' IDs.
    static let userCodeSizes = [3, 4]

    /// A user ID per sequence (codes within ``userCodeSizes``; a few users share one).
    var userIDs: [[Int32]] {
        sequences.indices.map { [Int32($0 % 3), Int32(($0 * 7) % 4)] }
    }

    func configuration(head: ModelConfiguration.Head, content: Bool = true) -> ModelConfiguration {
        var c = ModelConfiguration()
        c.dimension = 8
        c.heads = 2
        c.layers = 2
        c.feedForward = 12
        c.maxHistory = 6
        c.dropout = 0.2
        c.attentionDropout = 0.2
        c.contentDimension = content ? contentDimension : 0
        c.head = head
        c.codeHeadHidden = 10
        return c
    }
}

@Suite("Full model loss vs finite differences")
struct ModelGradientTests {
    /// Every tensor's gradient of the mean training loss, with dropout on (same masks for every
    /// evaluation because the generator is re-seeded).
    @Test(arguments: ModelConfiguration.Head.allCases)
    func modelGradients(head: ModelConfiguration.Head) throws {
        let tiny = TinyCatalog()
        let config = tiny.configuration(head: head)
        let model = try NextItemModel(configuration: config, items: tiny.items, content: tiny.content, trie: tiny.trie, seed: 3)
        // Perturb the layer-norm and bias parameters away from their 1/0 initial values so
        // their gradients are generic.
        var rng = SeededGenerator(seed: 8)
        for e in model.parameters.entries where e.name.hasSuffix("gamma") || e.name.hasSuffix("beta") || e.name.hasSuffix("bias") {
            for i in 0..<e.count { model.parameters.values.pointer[e.offset + i] += 0.2 * rng.nextGaussian() }
        }
        let batch = TrainingBatch.teacherForcing(tiny.sequences.map { $0[...] }, maxHistory: config.maxHistory)
        let ws = ModelWorkspace(configuration: config, itemCount: tiny.items.itemCount, logitRows: 7)
        func loss() -> Double {
            var g = SeededGenerator(seed: 42)
            let l = model.computeGradients(batch, workspace: ws, generator: &g)
            return l.items + (head == .both ? Double(config.codeHeadWeight) : 1) * l.codes
        }
        _ = loss()
        let analytic = model.parameters.gradients.array(model.parameters.count)
        for entry in model.parameters.entries {
            let base = model.parameters.copy(entry.name)
            let grad = Array(analytic[entry.offset..<(entry.offset + entry.count)])
            // A step small against the tensor's scale (item vectors are ~0.02, and the layer norm
            // right after them is strongly curved at that scale), but not so small that single
            // precision swamps the difference.
            let rms = (base.reduce(0) { $0 + $1 * $1 } / Float(max(1, base.count))).squareRoot()
            let epsilon = max(2e-4, min(5e-3, 0.02 * rms))
            GradientCheck.check(entry.name, x: base, analytic: grad, epsilon: epsilon, coordinates: 2, tolerance: 3e-2) { x in
                model.parameters.set(entry.name, x)
                defer { model.parameters.set(entry.name, base) }
                return loss()
            }
        }
    }

    /// The same check with user tokens (both placements, on the items head and on both heads),
    /// including the user-code tables and the user position: user-token dropout on, one user
    /// unknown and one with a code outside its table (both contribute nothing there). With
    /// `causal`, the batch hides each sequence's first positions from the user token, as causal
    /// user-ID training does.
    @Test(arguments: [(ModelConfiguration.UserTokenPlacement.prefix, ModelConfiguration.Head.items, false),
                      (.prefix, .both, false), (.add, .items, false), (.add, .both, false),
                      (.prefix, .items, true), (.add, .both, true)])
    func modelGradientsWithUserTokens(placement: ModelConfiguration.UserTokenPlacement, head: ModelConfiguration.Head,
                                      causal: Bool) throws {
        let tiny = TinyCatalog()
        var config = tiny.configuration(head: head)
        config.userTokens = true
        config.userTokenPlacement = placement
        config.userCodeSizes = TinyCatalog.userCodeSizes
        config.userTokenDropout = 0.25
        let model = try NextItemModel(configuration: config, items: tiny.items, content: tiny.content, trie: tiny.trie, seed: 3)
        var rng = SeededGenerator(seed: 8)
        for e in model.parameters.entries where e.name.hasSuffix("gamma") || e.name.hasSuffix("beta") || e.name.hasSuffix("bias") {
            for i in 0..<e.count { model.parameters.values.pointer[e.offset + i] += 0.2 * rng.nextGaussian() }
        }
        var users: [[Int32]?] = tiny.userIDs.map { $0 }
        users[1] = nil
        users[2] = [users[2]![0], 99]
        let cuts = causal ? tiny.sequences.map { max(1, $0.count - 2) } : nil
        let batch = model.teacherForcingBatch(tiny.sequences.map { $0[...] }, users: users, userIDItems: cuts)
        #expect(batch.userPrefix == (placement == .prefix))
        #expect(batch.userHidden.contains { $0 > 0 } == causal)
        #expect(batch.targetCount < batch.tokenCount || placement == .add)
        let ws = ModelWorkspace(configuration: config, itemCount: tiny.items.itemCount, logitRows: 7)
        func loss() -> Double {
            var g = SeededGenerator(seed: 42)
            let l = model.computeGradients(batch, workspace: ws, generator: &g)
            return l.items + l.codes
        }
        _ = loss()
        // Some sequences keep their user vector and some drop it with these seeds.
        let kept = (0..<batch.sequenceCount).map { ws.userKeep.pointer[$0] }
        #expect(kept.contains(0) && kept.contains(1))
        let analytic = model.parameters.gradients.array(model.parameters.count)
        let names = model.parameters.entries.map(\.name)
        #expect(names.contains("user.codes.0") && names.contains("user.codes.1"))
        #expect(names.contains("user.position") == (placement == .prefix))
        for entry in model.parameters.entries {
            let base = model.parameters.copy(entry.name)
            let grad = Array(analytic[entry.offset..<(entry.offset + entry.count)])
            if entry.name.hasPrefix("user.") { #expect(grad.contains { $0 != 0 }, "\(entry.name) gets no gradient") }
            let rms = (base.reduce(0) { $0 + $1 * $1 } / Float(max(1, base.count))).squareRoot()
            // A smaller cap than above: with the code head alone some directional derivatives
            // are small, and a step of 5e-3 then shows the loss's curvature (checked: the
            // difference quotient converges to the analytic value as the step shrinks).
            let epsilon = max(2e-4, min(2e-3, 0.02 * rms))
            GradientCheck.check(entry.name, x: base, analytic: grad, epsilon: epsilon, coordinates: 2, tolerance: 3e-2) { x in
                model.parameters.set(entry.name, x)
                defer { model.parameters.set(entry.name, base) }
                return loss()
            }
        }
    }

    /// With user tokens, the prefix position changes the user state but never gets a target, and
    /// a model without user tokens builds the same batches as before.
    @Test func userPrefixBatchLayout() throws {
        let tiny = TinyCatalog()
        var config = tiny.configuration(head: .items)
        let plain = try NextItemModel(configuration: config, items: tiny.items, content: tiny.content, trie: tiny.trie, seed: 3)
        let reference = TrainingBatch.teacherForcing(tiny.sequences.map { $0[...] }, maxHistory: config.maxHistory)
        let viaModel = plain.teacherForcingBatch(tiny.sequences.map { $0[...] }, users: tiny.userIDs.map { $0 })
        #expect(viaModel.inputs == reference.inputs && viaModel.targets == reference.targets && viaModel.userCodes.isEmpty)
        config.userTokens = true
        config.userCodeSizes = TinyCatalog.userCodeSizes
        let model = try NextItemModel(configuration: config, items: tiny.items, content: tiny.content, trie: tiny.trie, seed: 3)
        let batch = model.teacherForcingBatch(tiny.sequences.map { $0[...] }, users: tiny.userIDs.map { $0 })
        #expect(batch.tokenCount == reference.tokenCount + reference.sequenceCount)
        #expect(batch.targetCount == reference.targetCount)
        for s in 0..<batch.sequenceCount {
            let first = batch.layout.bounds[s]
            #expect(batch.inputs[first] == -1 && batch.targets[first] == -1 && batch.positions[first] == -1)
        }
        // Clamping: out-of-table codes and positions beyond the tables contribute nothing.
        #expect(model.userTokenCodes([2, 3, 7] as [Int32]) == [2, 3])
        #expect(model.userTokenCodes([3, 9] as [Int32]) == [-1, -1])
        #expect(model.userTokenCodes([1] as [Int32]) == [1, -1])
        #expect(model.userTokenCodes(nil as [Int32]?) == [-1, -1])
        // Different users give different states for the same history; unknown = zero vector.
        let ws = ModelWorkspace(configuration: config, itemCount: tiny.items.itemCount)
        let h: [[Int32]] = [[1, 2, 3], [1, 2, 3], [1, 2, 3]]
        let states = model.userStates(h, users: [[0, 0], [2, 3], nil], workspace: ws)
        let d = config.dimension
        #expect(Array(states[0..<d]) != Array(states[d..<(2 * d)]))
        let unknown = model.userStates([[1, 2, 3]], users: [[3, 9]], workspace: ws)
        #expect(zip(unknown, states[(2 * d)..<(3 * d)]).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    /// `userIDItems` hides the positions whose targets lie inside the history the user ID was
    /// made from, counted inside the kept window.
    @Test func hiddenUserPositionsFollowTheCut() {
        let sequence: [Int32] = Array(0..<10)
        let cuts = [1, 2, 5, 9]
        let batch = TrainingBatch.teacherForcing(Array(repeating: sequence[...], count: cuts.count), maxHistory: 6,
                                                 userCodes: Array(repeating: [0], count: cuts.count), userPrefix: true,
                                                 userIDItems: cuts)
        // Window = items 3…9 (positions 0…5 predict items 4…9); cut c hides positions < c − 1 − 3.
        #expect(batch.userHidden == [0, 0, 1, 5])
        let full = TrainingBatch.teacherForcing([sequence[...]], maxHistory: 20, userCodes: [[0]], userIDItems: [9])
        #expect(full.userHidden == [8])
        let none = TrainingBatch.teacherForcing([sequence[...]], maxHistory: 20, userCodes: [[0]])
        #expect(none.userHidden.isEmpty && none.hiddenFromUser(0) == 0)
    }

    /// Hidden positions never read the user ID (their states do not change with it); the
    /// positions after the cut do. Both placements.
    @Test(arguments: ModelConfiguration.UserTokenPlacement.allCases)
    func hiddenPositionsIgnoreTheUser(placement: ModelConfiguration.UserTokenPlacement) throws {
        let tiny = TinyCatalog()
        var config = tiny.configuration(head: .items)
        config.userTokens = true
        config.userTokenPlacement = placement
        config.userCodeSizes = TinyCatalog.userCodeSizes
        let model = try NextItemModel(configuration: config, items: tiny.items, content: tiny.content, trie: tiny.trie, seed: 3)
        let sequence: [Int32] = [3, 7, 1, 12, 5, 9, 20]
        let d = config.dimension
        func states(_ user: [Int32]) -> [Float] {
            let batch = model.teacherForcingBatch([sequence[...]], users: [user], userIDItems: [4])
            let ws = ModelWorkspace(configuration: config, itemCount: tiny.items.itemCount)
            var g = SeededGenerator(seed: 1)
            model.forward(batch, workspace: ws, training: false, generator: &g)
            // Item positions only (skip the prefix row).
            let first = batch.userPrefix ? 1 : 0
            return ws.hidden.array(batch.tokenCount * d).dropFirst(first * d).map { $0 }
        }
        let a = states([0, 1]), b = states([2, 3])
        // Cut 4: positions 0…2 are hidden, 3…5 see the user.
        for position in 0..<6 {
            let same = zip(a[(position * d)..<((position + 1) * d)], b[(position * d)..<((position + 1) * d)])
                .allSatisfy { abs($0 - $1) < 1e-6 }
            #expect(same == (position < 3), "position \(position)")
        }
    }

    @Test func lossDecreasesOnTinyData() throws {
        let tiny = TinyCatalog()
        var config = tiny.configuration(head: .both)
        config.dropout = 0
        config.attentionDropout = 0
        let model = try NextItemModel(configuration: config, items: tiny.items, content: tiny.content, trie: tiny.trie, seed: 1)
        let batch = TrainingBatch.teacherForcing(tiny.sequences.map { $0[...] }, maxHistory: config.maxHistory)
        let ws = ModelWorkspace(configuration: config, itemCount: tiny.items.itemCount)
        var opt = AdamW(for: model.parameters, configuration: TrainingConfiguration().optimizer, rounding: .scaleFirst)
        var g = SeededGenerator(seed: 1)
        let first = model.computeGradients(batch, workspace: ws, generator: &g)
        var last = first
        for _ in 0..<60 {
            opt.update(model.parameters, learningRate: 1e-2)
            last = model.computeGradients(batch, workspace: ws, generator: &g)
        }
        #expect(last.items < first.items * 0.5)
        #expect(last.codes < first.codes * 0.5)
    }
}
