/// One worker's preallocated buffers for decoding micro-batches of histories; allocated once per
/// worker, reused for every micro-batch and level (no allocation inside the decoding loop).
/// Per-beam arrays come in two copies (`A`, `B`): the current level's and the next level's.
final class BeamSearchWorkspace {
    /// Histories per micro-batch.
    let maxQueries: Int
    /// Beams per micro-batch at any level.
    let maxRows: Int
    /// `[rows, K]` log-probabilities, sized for the largest level.
    let logits: UnsafeMutablePointer<Float>
    let logitCapacity: Int
    /// Per beam: trie node, score, history index (in the micro-batch), prefix `[rows, L]`.
    let nodeA: UnsafeMutablePointer<Int32>, nodeB: UnsafeMutablePointer<Int32>
    let scoreA: UnsafeMutablePointer<Float>, scoreB: UnsafeMutablePointer<Float>
    let historyA: UnsafeMutablePointer<Int32>, historyB: UnsafeMutablePointer<Int32>
    let prefixA: UnsafeMutablePointer<Int32>, prefixB: UnsafeMutablePointer<Int32>
    /// Per history, its first beam (`maxQueries + 1` values).
    let startA: UnsafeMutablePointer<Int>, startB: UnsafeMutablePointer<Int>
    /// Per beam of the current level: its node's child range `lo..<hi` (gathered up front so the
    /// trie's cache misses overlap instead of stalling the selection one by one).
    let childLo: UnsafeMutablePointer<Int32>, childHi: UnsafeMutablePointer<Int32>
    /// Per beam of the next level: its parent and the code it took.
    let parents: UnsafeMutablePointer<Int32>
    let tokens: UnsafeMutablePointer<Int32>
    /// Selection buffer.
    let slots: UnsafeMutablePointer<Entry>
    let slotCapacity: Int
    /// Receives the values read by the prefetching pass (so it is not optimised away).
    var sink: Int = 0
    private let prefixCapacity: Int

    init(maxQueries: Int, maxRows: Int, logitCapacity: Int, levels: Int, beamWidth: Int) {
        self.maxQueries = maxQueries
        self.maxRows = maxRows
        self.logitCapacity = logitCapacity
        prefixCapacity = max(1, maxRows * levels)
        slotCapacity = 2 * beamWidth + 32
        logits = .allocate(capacity: max(1, logitCapacity))
        nodeA = .allocate(capacity: maxRows); nodeB = .allocate(capacity: maxRows)
        scoreA = .allocate(capacity: maxRows); scoreB = .allocate(capacity: maxRows)
        historyA = .allocate(capacity: maxRows); historyB = .allocate(capacity: maxRows)
        prefixA = .allocate(capacity: prefixCapacity); prefixB = .allocate(capacity: prefixCapacity)
        startA = .allocate(capacity: maxQueries + 1); startB = .allocate(capacity: maxQueries + 1)
        childLo = .allocate(capacity: maxRows); childHi = .allocate(capacity: maxRows)
        parents = .allocate(capacity: maxRows)
        tokens = .allocate(capacity: maxRows)
        slots = .allocate(capacity: slotCapacity)
    }

    deinit {
        logits.deallocate()
        nodeA.deallocate(); nodeB.deallocate()
        scoreA.deallocate(); scoreB.deallocate()
        historyA.deallocate(); historyB.deallocate()
        prefixA.deallocate(); prefixB.deallocate()
        startA.deallocate(); startB.deallocate()
        childLo.deallocate(); childHi.deallocate()
        parents.deallocate()
        tokens.deallocate()
        slots.deallocate()
    }
}
