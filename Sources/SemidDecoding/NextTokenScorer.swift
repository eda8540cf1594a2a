/// The only thing a model implements to drive ``ConstrainedBeamSearch``: log-probabilities over
/// the codes of the next level, for a batch of partial IDs (beams).
///
/// Call sequence, for each micro-batch of up to `queriesPerScorerCall` histories a worker
/// decodes (the search runs several workers at once, each with its own `State`):
/// 1. ``start(_:state:)`` once with the histories (e.g. run a transformer over each history and
///    cache its output in `state`);
/// 2. for each level `l` in `0..<L`: ``logProbabilities(_:state:into:)`` for every beam alive at
///    that level (at level 0, one beam per history with an empty prefix), then — except after the
///    last level — ``advance(_:state:)`` telling which beams survived and which code each took,
///    so per-beam caches can be reordered (`parents`) and extended (`tokens`).
///
/// Shapes are documented on ``HistoryBatch``, ``BeamBatch`` and ``BeamSelection``. The output for
/// a beam must depend only on its history and prefix (not on which other beams share the call),
/// or the search's results depend on batching. The search masks the output to the trie's valid
/// children itself; the scorer need not (but may) normalise over them. NaN ranks below every
/// number (and is reported as `−∞`). Values must be `≤ 0` unless ``producesLogProbabilities`` is
/// `false`.
///
/// Examples (in the `SemidBenchmarks` target): `TableScorer` (trivial: rows of a fixed table), `RandomMLPScorer` (a small MLP
/// with a per-beam cached input, reordered in `advance`).
public protocol NextTokenScorer: Sendable {
    /// The scorer's mutable decoding state for one micro-batch: buffers and caches per history
    /// and per beam. Created once per worker with ``makeState(maxHistories:maxBeams:)`` and reused,
    /// so a scorer can avoid allocating during decoding.
    associatedtype State = Void

    /// `K_l` for each level; must equal the trie's ``CodeTrie/codebookSizes``.
    var codebookSizes: [Int] { get }

    /// Whether every value written by ``logProbabilities(_:state:into:)`` is `≤ 0` (true of any
    /// log-probability, normalised or not). Default `true`. It lets the search skip a beam whose
    /// score is already below the current `B`-th best candidate (its children can only score
    /// lower). A scorer returning raw logits or other scores that may be positive must return
    /// `false`, or results may miss items.
    var producesLogProbabilities: Bool { get }

    /// A state able to hold up to `maxHistories` histories and `maxBeams` beams in one call.
    func makeState(maxHistories: Int, maxBeams: Int) -> State

    /// Begins decoding `histories` (at most `maxHistories`); `state` may hold an earlier batch's
    /// leftovers. Throwing aborts the whole search with this error.
    func start(_ histories: HistoryBatch, state: inout State) throws

    /// Writes log-probabilities for every beam: `output` is row-major `[beams.count, K_level]`
    /// with `K_level = codebookSizes[beams.level]`; row `b` scores the code following
    /// `beams.prefix(b)` for history `beams.history(b)`.
    func logProbabilities(_ beams: BeamBatch, state: inout State, into output: UnsafeMutableBufferPointer<Float>)

    /// Reports the beams kept after scoring level `selection.level`: new beam `i` continues old
    /// beam `selection.parents[i]` with code `selection.tokens[i]`. Not called after the last level.
    func advance(_ selection: BeamSelection, state: inout State)
}

extension NextTokenScorer {
    /// Default: the scorer returns log-probabilities (values `≤ 0`).
    public var producesLogProbabilities: Bool { true }
    /// Default: nothing to prepare.
    public func start(_ histories: HistoryBatch, state: inout State) throws {}
    /// Default: no per-beam state to carry (the scorer reads `BeamBatch.prefixes` instead).
    public func advance(_ selection: BeamSelection, state: inout State) {}
}

extension NextTokenScorer where State == Void {
    /// Default for stateless scorers.
    public func makeState(maxHistories: Int, maxBeams: Int) {}
}

/// The histories of one scorer call, stored flat (no array per history). Valid only during the
/// call it is passed to.
public struct HistoryBatch {
    /// The number of histories.
    public let count: Int
    /// The index of history 0 in the batch passed to ``ConstrainedBeamSearch/search(histories:scorer:excluding:allowed:)``.
    public let firstQuery: Int
    let items: UnsafePointer<Int32>
    let bounds: UnsafePointer<Int>

    init(count: Int, firstQuery: Int, items: UnsafePointer<Int32>, bounds: UnsafePointer<Int>) {
        self.count = count
        self.firstQuery = firstQuery
        self.items = items
        self.bounds = bounds
    }

    /// History `i` (`0..<count`): item ids, oldest first, never empty, all valid items.
    public subscript(i: Int) -> UnsafeBufferPointer<Int32> {
        UnsafeBufferPointer(start: items + bounds[i], count: bounds[i + 1] - bounds[i])
    }
}

/// The beams to score at one level. Valid only during the call it is passed to.
public struct BeamBatch {
    /// The level being predicted (`0..<L`); every prefix has `level` codes.
    public let level: Int
    /// The number of beams (rows of the output).
    public let count: Int
    /// `K_level`: the number of log-probabilities per beam (the output's row stride).
    public let codebookSize: Int
    /// `[count]`: the history (index into the call's ``HistoryBatch``) of each beam. Beams of one
    /// history are contiguous, its best beam first, the others in a deterministic order.
    public let histories: UnsafeBufferPointer<Int32>
    /// `[count, level]` row-major: the codes chosen so far by each beam.
    public let prefixes: UnsafeBufferPointer<Int32>

    package init(level: Int, count: Int, codebookSize: Int, histories: UnsafeBufferPointer<Int32>, prefixes: UnsafeBufferPointer<Int32>) {
        self.level = level
        self.count = count
        self.codebookSize = codebookSize
        self.histories = histories
        self.prefixes = prefixes
    }

    /// The history index of beam `b`.
    @inlinable
    public func history(_ b: Int) -> Int { Int(histories[b]) }

    /// The `level` codes chosen so far by beam `b`.
    public func prefix(_ b: Int) -> UnsafeBufferPointer<Int32> {
        UnsafeBufferPointer(rebasing: prefixes[(b * level)..<((b + 1) * level)])
    }
}

/// Which beams survived a level and how they continued. Valid only during the call it is passed to.
public struct BeamSelection {
    /// The level whose code was just chosen.
    public let level: Int
    /// The number of beams at the next level.
    public let count: Int
    /// `[count]`: for each new beam, the index of its parent in the previous ``BeamBatch``.
    public let parents: UnsafeBufferPointer<Int32>
    /// `[count]`: the code each new beam took at ``level``.
    public let tokens: UnsafeBufferPointer<Int32>
    /// `[count]`: the history index of each new beam.
    public let histories: UnsafeBufferPointer<Int32>

    init(level: Int, count: Int, parents: UnsafeBufferPointer<Int32>, tokens: UnsafeBufferPointer<Int32>, histories: UnsafeBufferPointer<Int32>) {
        self.level = level
        self.count = count
        self.parents = parents
        self.tokens = tokens
        self.histories = histories
    }
}
