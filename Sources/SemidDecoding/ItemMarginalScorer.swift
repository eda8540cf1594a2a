import Foundation
import SemidMath

/// A model that scores every item for a history: `log p(item | history)` up to a constant per
/// history (e.g. logits of an item softmax, or log popularity).
public protocol ItemScoreModel: Sendable {
    /// Per-worker buffers.
    associatedtype Workspace
    /// The number of items (must equal the trie's).
    var itemCount: Int { get }
    /// Buffers for up to `maxHistories` histories per call.
    func makeWorkspace(maxHistories: Int) -> Workspace
    /// Writes the scores of all items for each history: row-major `[histories.count, itemCount]`.
    func scoreItems(_ histories: HistoryBatch, workspace: inout Workspace, into scores: UnsafeMutablePointer<Float>) throws
}

/// Turns an item-level distribution into the per-level next-code log-probabilities the
/// constrained decoder consumes, **exactly**, by marginalising over the trie:
/// `P(prefix) = Σ_{items under prefix} p(item)`, and
/// `log p(c | prefix) = log P(prefix + c) − log P(prefix)`.
///
/// So the sum of the per-level log-probabilities along an item's ID is exactly `log p(item)`
/// (normalised over the items), beam search ranks complete IDs by the model's item
/// probability, and every decoded ID is a real item (the decoder only follows trie edges).
///
/// Cost per history, in ``start(_:state:)``: the model's item scores, `n` exponentials and one
/// bottom-up pass summing each node's children (`O(n)` for all depths). Per beam and level:
/// one look-up per child of the beam's node. Memory per history: one float per trie node.
///
/// With ``excludeHistoryMass``, a history's own items get zero mass before marginalising (use it
/// with ``BeamSearchConfiguration/excludeHistory``, so prefix probabilities are those of the
/// items the search may still return).
public struct ItemMarginalScorer<Model: ItemScoreModel>: NextTokenScorer {
    /// The item-level model.
    public let model: Model
    /// The trie whose prefixes are marginalised.
    public let trie: CodeTrie
    /// Give the items of each history zero probability before marginalising.
    public var excludeHistoryMass: Bool

    /// `K_l` per level (the trie's).
    public var codebookSizes: [Int] { trie.codebookSizes }

    /// A scorer over `trie` for `model` (their item counts must agree).
    public init(model: Model, trie: CodeTrie, excludeHistoryMass: Bool = false) throws {
        guard model.itemCount == trie.itemCount else {
            throw DecodingError.invalidShape("the model scores \(model.itemCount) items but the trie has \(trie.itemCount)")
        }
        self.model = model
        self.trie = trie
        self.excludeHistoryMass = excludeHistoryMass
    }

    /// Per-worker buffers: the model's workspace, item scores and node masses per history, and
    /// each beam's trie node.
    public struct State {
        /// The model's workspace for scoring items.
        public var modelWorkspace: Model.Workspace
        var scores: [Float]          // [maxHistories, n]
        var masses: [Float]          // [maxHistories, totalNodes]
        var nodes: [Int32]           // [maxBeams] node of each beam at the current depth
        var nextNodes: [Int32]
        let massBase: [Int]          // [L + 1] start of each depth's block
        let totalNodes: Int
    }

    /// See ``NextTokenScorer/makeState(maxHistories:maxBeams:)``.
    public func makeState(maxHistories: Int, maxBeams: Int) -> State {
        var base = [Int](), total = 0
        for count in trie.nodeCounts { base.append(total); total += count }
        let h = max(1, maxHistories)
        return State(modelWorkspace: model.makeWorkspace(maxHistories: h),
                     scores: [Float](repeating: 0, count: h * trie.itemCount),
                     masses: [Float](repeating: 0, count: h * total),
                     nodes: [Int32](repeating: 0, count: max(1, maxBeams)),
                     nextNodes: [Int32](repeating: 0, count: max(1, maxBeams)),
                     massBase: base, totalNodes: total)
    }

    /// Scores every item for each history and sums the masses of every trie node, leaves up.
    public func start(_ histories: HistoryBatch, state: inout State) throws {
        let n = trie.itemCount, levels = trie.levels
        try state.scores.withUnsafeMutableBufferPointer { s in
            try model.scoreItems(histories, workspace: &state.modelWorkspace, into: s.baseAddress!)
        }
        let total = state.totalNodes, base = state.massBase
        let exclude = excludeHistoryMass
        state.scores.withUnsafeBufferPointer { sBuf in
            state.masses.withUnsafeMutableBufferPointer { mBuf in
                trie.leafItems.withUnsafeBufferPointer { leaves in
                    trie.leafOfItem.withUnsafeBufferPointer { leafOf in
                        trie.offsets.withUnsafeBufferPointer { off in
                            for h in 0..<histories.count {
                                let s = sBuf.baseAddress! + h * n
                                let m = mBuf.baseAddress! + h * total
                                let leafMass = m + base[levels]
                                let top = FastMath.maximum(s, count: n)
                                for p in 0..<n { leafMass[p] = s[Int(leaves[p])] }
                                FastMath.expInPlace(leafMass, count: n, shift: top.isFinite ? -top : 0)
                                if exclude {
                                    for item in histories[h] { leafMass[Int(leafOf[Int(item)])] = 0 }
                                }
                                for depth in stride(from: levels - 1, through: 0, by: -1) {
                                    let parent = m + base[depth], child = m + base[depth + 1]
                                    let o = off.baseAddress! + trie.offsetBase[depth]
                                    for v in 0..<trie.nodeCounts[depth] {
                                        var sum: Float = 0
                                        for c in Int(o[v])..<Int(o[v + 1]) { sum += child[c] }
                                        parent[v] = sum
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for i in 0..<histories.count { state.nodes[i] = 0 }
    }

    /// `log(P(prefix + c) / P(prefix))` for each child code `c` of each beam's node; `−∞` elsewhere.
    public func logProbabilities(_ beams: BeamBatch, state: inout State, into output: UnsafeMutableBufferPointer<Float>) {
        let level = beams.level, k = beams.codebookSize
        let total = state.totalNodes
        let parentBase = state.massBase[level], childBase = state.massBase[level + 1]
        let offsetBase = trie.offsetBase[level], tokenBase = trie.tokenBase[level]
        guard let out = output.baseAddress else { return }
        state.masses.withUnsafeBufferPointer { mBuf in
            state.nodes.withUnsafeBufferPointer { nodes in
                trie.offsets.withUnsafeBufferPointer { off in
                    trie.tokens.withUnsafeBufferPointer { tok in
                        for b in 0..<beams.count {
                            let row = out + b * k
                            row.update(repeating: -.infinity, count: k)
                            let m = mBuf.baseAddress! + beams.history(b) * total
                            let v = Int(nodes[b])
                            let parentMass = m[parentBase + v]
                            guard parentMass > 0 else { continue }
                            let inverse = 1 / parentMass
                            for c in Int(off[offsetBase + v])..<Int(off[offsetBase + v + 1]) {
                                let ratio = m[childBase + c] * inverse
                                row[Int(tok[tokenBase + c])] = ratio > 0 ? Swift.min(0, Foundation.log(ratio)) : -.infinity
                            }
                        }
                    }
                }
            }
        }
    }

    /// Moves each kept beam to the trie node of its new prefix.
    public func advance(_ selection: BeamSelection, state: inout State) {
        let level = selection.level
        for i in 0..<selection.count {
            let parent = Int(state.nodes[Int(selection.parents[i])])
            state.nextNodes[i] = Int32(trie.child(ofNode: parent, atDepth: level, token: Int(selection.tokens[i])) ?? 0)
        }
        swap(&state.nodes, &state.nextNodes)
    }
}

/// A fixed item distribution, the same for every history (e.g. popularity): scores are
/// `log(weight_i)`.
public struct FixedItemScores: ItemScoreModel {
    /// `[n]` the score of each item.
    public let scores: [Float]
    /// The number of items.
    public var itemCount: Int { scores.count }

    /// Scores `log(weights[i])` (weights must be `≥ 0`; zero gives `−∞`).
    public init(weights: [Double]) {
        scores = weights.map { $0 > 0 ? Float(Foundation.log($0)) : -.infinity }
    }

    /// No buffers: the workspace is `Void`.
    public func makeWorkspace(maxHistories: Int) {}

    /// Copies ``scores`` into each history's row of `out` (`[histories.count, n]`).
    public func scoreItems(_ histories: HistoryBatch, workspace: inout Void, into out: UnsafeMutablePointer<Float>) throws {
        scores.withUnsafeBufferPointer { s in
            for h in 0..<histories.count { (out + h * scores.count).update(from: s.baseAddress!, count: scores.count) }
        }
    }
}
