import Foundation
import SemidDecoding
import SemidMath

/// The items head of a ``NextItemModel`` as an ``ItemScoreModel``: runs the transformer once per
/// history (in ``ItemMarginalScorer/start(_:state:)``) and scores all items with one GEMM.
public struct ModelItemScores: ItemScoreModel {
    /// The model.
    public let model: NextItemModel
    /// With user tokens: the semantic ID of each query's user, indexed like the histories given
    /// to the search (`nil`, a `nil` entry or a missing entry = unknown user, the zero user vector).
    public var users: [[Int32]?]?

    /// Scores of `model`, with the users of the queries (see ``users``).
    public init(model: NextItemModel, users: [[Int32]?]? = nil) {
        self.model = model
        self.users = users
    }

    /// Per-worker buffers: the transformer's workspace and the user states of the last call.
    public final class Workspace: @unchecked Sendable {
        let model: ModelWorkspace
        var states: [Float] = []
        init(model: ModelWorkspace) { self.model = model }
    }

    /// The model's number of items.
    public var itemCount: Int { model.itemCount }

    /// A fresh transformer workspace for the model.
    public func makeWorkspace(maxHistories: Int) -> Workspace {
        Workspace(model: ModelWorkspace(configuration: model.configuration, itemCount: model.itemCount, logitRows: 1))
    }

    /// Computes and keeps the user states of `histories`.
    func computeStates(_ histories: HistoryBatch, workspace: Workspace) {
        let list = (0..<histories.count).map { histories[$0] }
        var batchUsers: [[Int32]?]?
        if model.configuration.userTokens, let users {
            batchUsers = (0..<histories.count).map { i in
                let q = histories.firstQuery + i
                return q < users.count ? users[q] : nil
            }
        }
        workspace.states = model.userStates(list, users: batchUsers, workspace: workspace.model)
    }

    /// Runs the transformer on each history, then writes the items head's logits, `[histories.count, itemCount]`.
    public func scoreItems(_ histories: HistoryBatch, workspace: inout Workspace, into scores: UnsafeMutablePointer<Float>) throws {
        computeStates(histories, workspace: workspace)
        workspace.states.withUnsafeBufferPointer { s in
            model.itemScores(states: s.baseAddress!, count: histories.count, into: scores)
        }
    }
}

/// A trained ``NextItemModel`` as the decoder's ``NextTokenScorer``.
///
/// - Items head: the item softmax marginalised exactly over the trie (``ItemMarginalScorer``).
/// - Code head: per level, the head's softmax over the children of the beam's trie node; each
///   beam carries its prefix-embedding sum `z`, extended in ``advance(_:state:)``.
/// - Both: per level `(1 − mix)·items + mix·codes` of the two log-probabilities.
///
/// The transformer runs once per history per call (its output is cached in the state); beams
/// only cost the heads' per-level work.
public struct ModelScorer: NextTokenScorer {
    /// The model.
    public let model: NextItemModel
    let marginal: ItemMarginalScorer<ModelItemScores>?
    let trie: CodeTrie
    /// Weight of the code head (0: items head only, 1: code head only).
    public let codeMix: Float

    /// `K_l` per level (the trie's).
    public var codebookSizes: [Int] { trie.codebookSizes }

    /// The semantic ID of each query's user (see ``ModelItemScores/users``).
    public let users: [[Int32]?]?

    /// A scorer for `model` over `trie`; `excludeHistoryMass` as in ``ItemMarginalScorer``.
    ///
    /// - Parameter users: with user tokens, the user ID of each query (indexed like the
    ///   histories given to the search; `nil` or a `nil` entry = unknown user, which gets the
    ///   zero user vector). Ignored by a model without user tokens.
    public init(model: NextItemModel, trie: CodeTrie, excludeHistoryMass: Bool = false, users: [[Int32]?]? = nil) throws {
        guard trie.codebookSizes == model.items.codebookSizes, trie.itemCount == model.itemCount else {
            throw ModelError.inconsistentInput("the model was trained for IDs \(model.items.codebookSizes) over \(model.itemCount) items; the index has \(trie.codebookSizes) over \(trie.itemCount)")
        }
        self.model = model
        self.trie = trie
        self.users = users
        switch model.configuration.head {
        case .items: codeMix = 0
        case .codes: codeMix = 1
        case .both: codeMix = model.configuration.codeHeadMix
        }
        marginal = codeMix < 1 ? try ItemMarginalScorer(model: ModelItemScores(model: model, users: users), trie: trie,
                                                          excludeHistoryMass: excludeHistoryMass) : nil
    }

    /// Per-worker buffers.
    public struct State {
        var marginal: ItemMarginalScorer<ModelItemScores>.State?
        var items: ModelItemScores.Workspace
        var z: [Float], nextZ: [Float]
        var nodes: [Int32], nextNodes: [Int32]
        var buffers: CodeHead.Buffers
        var codeOutput: [Float]
    }

    /// See ``NextTokenScorer/makeState(maxHistories:maxBeams:)``.
    public func makeState(maxHistories: Int, maxBeams: Int) -> State {
        let d = model.dimension, beams = max(1, maxBeams)
        let m = marginal?.makeState(maxHistories: maxHistories, maxBeams: maxBeams)
        let items = m?.modelWorkspace ?? ModelItemScores(model: model, users: users).makeWorkspace(maxHistories: maxHistories)
        let buffers = CodeHead.Buffers()
        if let head = model.codeHead {
            buffers.reserve(rows: beams, d: d, hidden: head.hiddenWidth, k: trie.codebookSizes.max() ?? 1)
        }
        return State(marginal: m, items: items, z: [Float](repeating: 0, count: beams * d), nextZ: [Float](repeating: 0, count: beams * d),
                     nodes: [Int32](repeating: 0, count: beams), nextNodes: [Int32](repeating: 0, count: beams),
                     buffers: buffers, codeOutput: model.codeHead == nil ? [] : [Float](repeating: 0, count: beams * (trie.codebookSizes.max() ?? 1)))
    }

    /// Runs the transformer once per history; each history's beam starts at the root with `z` = its user state.
    public func start(_ histories: HistoryBatch, state: inout State) throws {
        if let marginal, state.marginal != nil {
            try marginal.start(histories, state: &state.marginal!)
        } else {
            ModelItemScores(model: model, users: users).computeStates(histories, workspace: state.items)
        }
        guard model.codeHead != nil else { return }
        let d = model.dimension
        let states = state.items.states
        for i in 0..<histories.count {
            for x in 0..<d { state.z[i * d + x] = states[i * d + x] }
            state.nodes[i] = 0
        }
    }

    /// Per beam, `(1 − codeMix)·items + codeMix·codes` log-probabilities of the node's children; `−∞` off the trie.
    public func logProbabilities(_ beams: BeamBatch, state: inout State, into output: UnsafeMutableBufferPointer<Float>) {
        if let marginal, state.marginal != nil {
            marginal.logProbabilities(beams, state: &state.marginal!, into: output)
        }
        guard let head = model.codeHead, codeMix > 0, let out = output.baseAddress else { return }
        let level = beams.level, k = beams.codebookSize, d = model.dimension, rows = beams.count
        let buf = state.buffers
        state.z.withUnsafeBufferPointer { z in buf.z.pointer.update(from: z.baseAddress!, count: rows * d) }
        head.levelForward(level, rows: rows, buffers: buf, parameters: model.parameters)
        let logits = buf.logits.pointer
        let mixItems = 1 - codeMix
        for b in 0..<rows {
            let row = logits + b * k
            let node = Int(state.nodes[b])
            let children = trie.children(ofNode: node, atDepth: level)
            // Masked log-softmax over the node's children.
            var top = -Float.infinity
            for c in children { top = max(top, row[trie.token(ofNode: c, atDepth: level + 1)!]) }
            var sum: Float = 0
            for c in children { sum += Foundation.exp(row[trie.token(ofNode: c, atDepth: level + 1)!] - top) }
            let logZ = top + Foundation.log(sum)
            let dst = out + b * k
            if mixItems == 0 { dst.update(repeating: -.infinity, count: k) }
            for c in children {
                let t = trie.token(ofNode: c, atDepth: level + 1)!
                let lp = min(0, row[t] - logZ)
                dst[t] = mixItems == 0 ? lp : mixItems * dst[t] + codeMix * lp
            }
        }
    }

    /// Moves each kept beam to its new trie node and adds its code's prefix embedding to its `z`.
    public func advance(_ selection: BeamSelection, state: inout State) {
        if let marginal, state.marginal != nil { marginal.advance(selection, state: &state.marginal!) }
        guard model.codeHead != nil else { return }
        let level = selection.level, d = model.dimension
        let table = model.parameters.value("head.prefix.\(level)")
        for i in 0..<selection.count {
            let parent = Int(selection.parents[i])
            let token = Int(selection.tokens[i])
            for x in 0..<d { state.nextZ[i * d + x] = state.z[parent * d + x] + table[token * d + x] }
            state.nextNodes[i] = Int32(trie.child(ofNode: Int(state.nodes[parent]), atDepth: level, token: token) ?? 0)
        }
        swap(&state.z, &state.nextZ)
        swap(&state.nodes, &state.nextNodes)
    }
}
