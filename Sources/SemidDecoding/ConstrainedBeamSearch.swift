import Dispatch
import Foundation
import SemidMath

/// Beam search over semantic IDs that can only produce items of a ``CodeTrie``.
///
/// For each history, level by level: the scorer gives log-probabilities over the next level's
/// codes for every beam; each beam is masked to its trie node's children; the best `B` partial
/// IDs (score = sum of log-probabilities so far) are kept; on the last level the best `K` items.
/// The work per beam and level depends on the node's fan-out (at most `K_l`), never on the
/// number of items.
///
/// - **Validity**: every returned ID is a leaf of the trie, so it is a real item; items are distinct.
/// - **Exactness**: with `B ≥ n` nothing is pruned, so the results equal the exhaustive top-K of
///   all (allowed, non-excluded) items.
/// - **Ties**: on equal scores the lexicographically smaller prefix is kept on inner levels and
///   the lower item id ranks first on the last level; results do not depend on batching or on
///   the number of workers (if the scorer's output for a beam does not). NaN ranks below every
///   number.
/// - **Cost per beam and level**: `O(fan-out)` for a sparse node (its CSR codes), `O(K/16)`
///   vector blocks for a node with at least `K/4` children on a level with bitsets; the selection
///   keeps a threshold (the current `B`-th best), rejects most candidates with one comparison, and
///   skips whole beams whose score is already below it (valid because log-probabilities are
///   `≤ 0`; see ``NextTokenScorer/producesLogProbabilities``).
/// - **Sub-constraints** (``search(histories:scorer:excluding:allowed:)``): excluded items and
///   items outside an ``ItemSubset`` are removed without rebuilding the trie. A candidate enters
///   the beam only if its subtree still holds an item the query may return (a count over the
///   node's contiguous leaf range), so every kept beam can finish and the search returns exactly
///   `K` items whenever at least `K` remain (it checks this first and throws otherwise).
/// - **`B < K`** is an error (``DecodingError/beamSmallerThanTopK(beamWidth:topK:)``), not a
///   silent raise of the beam: the caller decides the cost.
/// - **Parallelism**: the batch is split across cores; each worker decodes micro-batches of
///   ``BeamSearchConfiguration/queriesPerScorerCall`` histories with preallocated buffers and its
///   own scorer state, and runs OpenBLAS single-threaded meanwhile.
public struct ConstrainedBeamSearch: Sendable {
    /// The set of valid IDs.
    public let trie: CodeTrie
    /// Beam width, top-K and the other settings.
    public let configuration: BeamSearchConfiguration

    /// A search over `trie`; throws the ``DecodingError`` for an invalid configuration (beam 0,
    /// top-K 0, beam smaller than top-K, …).
    public init(trie: CodeTrie, configuration: BeamSearchConfiguration) throws {
        try configuration.validate()
        self.trie = trie
        self.configuration = configuration
    }

    /// Decodes the top-K items for each history.
    ///
    /// - Parameters:
    ///   - histories: one item-id sequence per query (oldest first); none may be empty and every
    ///     id must be an item of the trie.
    ///   - scorer: the model; its ``NextTokenScorer/codebookSizes`` must equal the trie's.
    ///   - excluding: optional items to exclude per query (same count as `histories`), e.g. the
    ///     user's history; combined with ``BeamSearchConfiguration/excludeHistory``.
    ///   - allowed: optional subset of items the results must come from (shared by all queries).
    /// - Returns: exactly `topK` distinct items per query, best first, with scores and IDs.
    /// - Throws: ``DecodingError`` for bad input (empty history, unknown item, fewer than `topK`
    ///   items left for a query, a scorer for other codebook sizes, …) or the scorer's own error.
    public func search<Scorer: NextTokenScorer>(
        histories: [[Int32]], scorer: Scorer, excluding: [[Int32]]? = nil, allowed: ItemSubset? = nil
    ) throws -> BeamSearchResults {
        let config = configuration
        try config.validate()
        let levels = trie.levels, n = trie.itemCount, topK = config.topK
        guard scorer.codebookSizes == trie.codebookSizes else {
            throw DecodingError.scorerMismatch(trie: trie.codebookSizes, scorer: scorer.codebookSizes)
        }
        let queryCount = histories.count
        if let excluding, excluding.count != queryCount {
            throw DecodingError.batchMismatch(histories: queryCount, other: excluding.count, argument: "the exclusion list")
        }
        if let allowed, allowed.trieItemCount != n {
            throw DecodingError.subsetMismatch(subsetItems: allowed.trieItemCount, trieItems: n)
        }

        // Flatten and check the histories; gather each query's excluded leaves.
        var historyItems: [Int32] = []
        historyItems.reserveCapacity(histories.reduce(0) { $0 + $1.count })
        var historyBounds = [Int](repeating: 0, count: queryCount + 1)
        var excludedLeaves: [Int32] = []
        var excludedBounds = [Int](repeating: 0, count: queryCount + 1)
        var scratch: [Int32] = []
        let allowedTotal = allowed?.count ?? n
        for (q, history) in histories.enumerated() {
            guard !history.isEmpty else { throw DecodingError.emptyHistory(query: q) }
            for item in history {
                guard item >= 0, Int(item) < n else {
                    throw DecodingError.unknownItem(item: Int64(item), itemCount: n, context: "history of query \(q)")
                }
                historyItems.append(item)
            }
            historyBounds[q + 1] = historyItems.count
            scratch.removeAll(keepingCapacity: true)
            if let excluding {
                for item in excluding[q] {
                    guard let leaf = trie.leaf(ofItem: Int(item)) else {
                        throw DecodingError.unknownItem(item: Int64(item), itemCount: n, context: "exclusion list of query \(q)")
                    }
                    scratch.append(Int32(leaf))
                }
            }
            if config.excludeHistory {
                for item in history { scratch.append(trie.leafOfItem[Int(item)]) }
            }
            scratch.sort()
            var kept = 0
            var previous: Int32 = -1
            for leaf in scratch where leaf != previous {
                previous = leaf
                if let allowed, !allowed.containsLeaf(leaf) { continue }
                excludedLeaves.append(leaf)
                kept += 1
            }
            excludedBounds[q + 1] = excludedLeaves.count
            let available = allowedTotal - kept
            guard available >= topK else { throw DecodingError.notEnoughItems(query: q, available: available, topK: topK) }
        }

        var items = [Int32](repeating: 0, count: queryCount * topK)
        var scores = [Float](repeating: 0, count: queryCount * topK)
        var codes = [Int32](repeating: 0, count: queryCount * topK * levels)
        var statistics: SearchStatistics? = config.collectStatistics ? SearchStatistics(levels: levels) : nil
        guard queryCount > 0 else {
            return BeamSearchResults(queryCount: 0, topK: topK, levels: levels, items: [], scores: [], codes: [], statistics: statistics)
        }

        // Buffer sizes: beams at level l are nodes at depth l, at most min(B, nodes(l)) per query.
        let beam = min(config.beamWidth, n)
        var rowsPerQuery = 1, logitsPerQuery = 1
        for l in 0..<levels {
            let rows = min(beam, trie.nodeCounts[l])
            rowsPerQuery = max(rowsPerQuery, rows)
            logitsPerQuery = max(logitsPerQuery, rows * trie.codebookSizes[l])
        }
        let microBatch = min(config.queriesPerScorerCall, queryCount)
        let failures = LockedBox<[(Int, any Error)]>([])
        let merged = LockedBox<SearchStatistics?>(statistics)
        let hasConstraints = allowed != nil || !excludedLeaves.isEmpty

        try trie.withView { view in
            try historyItems.withUnsafeBufferPointer { hItems in
                try historyBounds.withUnsafeBufferPointer { hBounds in
                    try excludedLeaves.withUnsafeBufferPointer { xLeaves in
                        try excludedBounds.withUnsafeBufferPointer { xBounds in
                            let allowedLeaves = allowed?.leaves ?? []
                            try allowedLeaves.withUnsafeBufferPointer { aLeaves in
                                try items.withUnsafeMutableBufferPointer { outItems in
                                    try scores.withUnsafeMutableBufferPointer { outScores in
                                        try codes.withUnsafeMutableBufferPointer { outCodes in
                                            guard let hItemsBase = hItems.baseAddress, let hBoundsBase = hBounds.baseAddress,
                                                  let xBoundsBase = xBounds.baseAddress, let itemsBase = outItems.baseAddress,
                                                  let scoresBase = outScores.baseAddress, let codesBase = outCodes.baseAddress else {
                                                throw DecodingError.internalInconsistency("empty batch buffers")
                                            }
                                            let batch = PreparedBatch(
                                                historyItems: hItemsBase, historyBounds: hBoundsBase,
                                                excludedLeaves: xLeaves.baseAddress, excludedBounds: xBoundsBase,
                                                allowedLeaves: allowed == nil ? nil : aLeaves.baseAddress,
                                                allowedCount: allowed?.count ?? 0, hasConstraints: hasConstraints,
                                                items: SharedMutablePointer(itemsBase), scores: SharedMutablePointer(scoresBase),
                                                codes: SharedMutablePointer(codesBase))
                                            let run: (Range<Int>) -> Void = { range in
                                                let workspace = BeamSearchWorkspace(
                                                    maxQueries: microBatch, maxRows: microBatch * rowsPerQuery,
                                                    logitCapacity: microBatch * logitsPerQuery, levels: levels, beamWidth: beam)
                                                var state = scorer.makeState(maxHistories: microBatch, maxBeams: microBatch * rowsPerQuery)
                                                var local: SearchStatistics? = config.collectStatistics ? SearchStatistics(levels: levels) : nil
                                                var start = range.lowerBound
                                                while start < range.upperBound {
                                                    let end = min(start + microBatch, range.upperBound)
                                                    do {
                                                        try decodeMicroBatch(
                                                            start..<end, scorer: scorer, state: &state, view: view, batch: batch,
                                                            workspace: workspace, beam: beam, statistics: &local)
                                                    } catch {
                                                        failures.withLock { $0.append((start, error)) }
                                                        return
                                                    }
                                                    start = end
                                                }
                                                if let local { merged.withLock { $0?.merge(local) } }
                                            }
                                            if config.parallel && Parallel.workerCount > 1 && queryCount > microBatch {
                                                BLASRuntime.withThreadCount(1) {
                                                    Parallel.forEachChunk(count: queryCount, minimumChunk: microBatch, run)
                                                }
                                            } else {
                                                run(0..<queryCount)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let first = failures.withLock({ $0.min { $0.0 < $1.0 } }) { throw first.1 }
        statistics = merged.withLock { $0 }
        return BeamSearchResults(queryCount: queryCount, topK: topK, levels: levels, items: items, scores: scores,
                                 codes: codes, statistics: statistics)
    }

    /// Decodes histories `queries` (at most `queriesPerScorerCall`) with one worker's buffers.
    private func decodeMicroBatch<Scorer: NextTokenScorer>(
        _ queries: Range<Int>, scorer: Scorer, state: inout Scorer.State, view: TrieView, batch: PreparedBatch,
        workspace ws: BeamSearchWorkspace, beam: Int, statistics: inout SearchStatistics?
    ) throws {
        let levels = view.levels, topK = configuration.topK
        let m = queries.count
        let timed = statistics != nil
        var curNode = ws.nodeA, nextNode = ws.nodeB
        var curScore = ws.scoreA, nextScore = ws.scoreB
        var curHistory = ws.historyA, nextHistory = ws.historyB
        var curPrefix = ws.prefixA, nextPrefix = ws.prefixB
        var curStart = ws.startA, nextStart = ws.startB
        let childLo = ws.childLo, childHi = ws.childHi, parents = ws.parents, tokens = ws.tokens
        let logits = ws.logits
        for i in 0..<m {
            curNode[i] = 0
            curScore[i] = 0
            curHistory[i] = Int32(i)
            curStart[i] = i
        }
        curStart[m] = m
        var beams = m
        var tScorer = timed ? DispatchTime.now().uptimeNanoseconds : 0
        try scorer.start(HistoryBatch(count: m, firstQuery: queries.lowerBound, items: batch.historyItems,
                                      bounds: batch.historyBounds + queries.lowerBound), state: &state)
        var scorerTime: UInt64 = 0
        var tSearch = timed ? DispatchTime.now().uptimeNanoseconds : 0
        if timed { scorerTime += tSearch - tScorer }
        for level in 0..<levels {
            let k = view.codebookSizes[level]
            let isLast = level == levels - 1
            guard beams * k <= ws.logitCapacity, beams <= ws.maxRows else {
                throw DecodingError.internalInconsistency("\(beams) beams exceed the buffers at level \(level)")
            }
            // Gather every beam's child range, then touch the first child's token / bitset / item,
            // so that the trie's cache misses for all beams are in flight together.
            let offsets = view.offsets + view.offsetBase[level]
            for b in 0..<beams {
                let v = Int(curNode[b])
                childLo[b] = offsets[v]
                childHi[b] = offsets[v + 1]
            }
            var sink = 0
            let levelTokens = view.tokens + view.tokenBase[level]
            if view.denseLevels[level], let bits = view.bits {
                let levelBits = bits + view.bitBase[level]
                let words = view.bitWords[level]
                for b in 0..<beams { sink &+= Int(truncatingIfNeeded: levelBits[Int(curNode[b]) * words]) }
            } else {
                for b in 0..<beams { sink &+= Int(levelTokens[Int(childLo[b])]) }
            }
            if isLast {
                for b in 0..<beams { sink &+= Int(view.leafItems[Int(childLo[b])]) }
            }
            ws.sink &+= sink

            if timed {
                tScorer = DispatchTime.now().uptimeNanoseconds
                statistics?.lookupNanoseconds += tScorer - tSearch
            }
            scorer.logProbabilities(
                BeamBatch(level: level, count: beams, codebookSize: k,
                          histories: UnsafeBufferPointer(start: curHistory, count: beams),
                          prefixes: UnsafeBufferPointer(start: curPrefix, count: beams * level)),
                state: &state, into: UnsafeMutableBufferPointer(start: logits, count: beams * k))
            let t1 = timed ? DispatchTime.now().uptimeNanoseconds : 0
            if timed { scorerTime += t1 - tScorer }

            var selector = LevelSelector(view: view, level: level,
                                         top: TopSelector(slots: ws.slots, capacity: ws.slotCapacity),
                                         nonPositiveScores: scorer.producesLogProbabilities)
            var visited = 0
            var next = 0
            for i in 0..<m {
                let q = queries.lowerBound + i
                if batch.hasConstraints {
                    let xa = batch.excludedBounds[q], xb = batch.excludedBounds[q + 1]
                    selector.constraint = QueryConstraint(
                        allowed: batch.allowedLeaves, allowedCount: batch.allowedCount,
                        excluded: batch.excludedLeaves.map { $0 + xa }, excludedCount: xb - xa)
                    selector.constrained = xb > xa || batch.allowedLeaves != nil
                }
                selector.top.reset(keep: isLast ? topK : beam)
                visited += selector.expand(beams: curStart[i]..<curStart[i + 1], nodes: curNode, lo: childLo, hi: childHi,
                                           scores: curScore, logits: logits)
                selector.top.finish()
                let kept = selector.top.count
                let slots = selector.top.slots
                if isLast {
                    guard kept == topK else {
                        throw DecodingError.internalInconsistency("query \(q) ended with \(kept) items, expected \(topK)")
                    }
                    selector.top.sortDescending()
                    for r in 0..<kept {
                        let e = slots[r]
                        let o = q * topK + r
                        let parent = Int(e.payload >> 32)
                        batch.items.pointer[o] = EntryKey.tie(e.key)
                        batch.scores.pointer[o] = EntryKey.score(e.key)
                        let dst = batch.codes.pointer + o * levels
                        let src = curPrefix + parent * level
                        for j in 0..<level { dst[j] = src[j] }
                        dst[level] = Int32(truncatingIfNeeded: e.payload & 0xFFFF_FFFF)
                    }
                } else {
                    selector.top.moveBestFirst()
                    nextStart[i] = next
                    for r in 0..<kept {
                        let e = slots[r]
                        nextNode[next] = EntryKey.tie(e.key)
                        nextScore[next] = EntryKey.score(e.key)
                        nextHistory[next] = Int32(i)
                        parents[next] = Int32(truncatingIfNeeded: e.payload >> 32)
                        tokens[next] = Int32(truncatingIfNeeded: e.payload & 0xFFFF_FFFF)
                        next += 1
                    }
                }
            }
            if !isLast {
                nextStart[m] = next
                let width = level + 1
                for r in 0..<next {
                    let src = curPrefix + Int(parents[r]) * level
                    let dst = nextPrefix + r * width
                    for j in 0..<level { dst[j] = src[j] }
                    dst[level] = tokens[r]
                }
            }
            let t2 = timed ? DispatchTime.now().uptimeNanoseconds : 0
            if !isLast {
                scorer.advance(BeamSelection(level: level, count: next,
                                             parents: UnsafeBufferPointer(start: parents, count: next),
                                             tokens: UnsafeBufferPointer(start: tokens, count: next),
                                             histories: UnsafeBufferPointer(start: nextHistory, count: next)),
                               state: &state)
                swap(&curNode, &nextNode)
                swap(&curScore, &nextScore)
                swap(&curHistory, &nextHistory)
                swap(&curPrefix, &nextPrefix)
                swap(&curStart, &nextStart)
            }
            if timed {
                let t3 = DispatchTime.now().uptimeNanoseconds
                let own = (t2 - tSearch) - (t1 - tScorer)
                scorerTime += t3 - t2
                statistics?.searchNanoseconds += own
                statistics?.searchNanosecondsPerLevel[level] += own
                statistics?.beamSteps += beams
                statistics?.beamStepsPerLevel[level] += beams
                statistics?.candidates += visited
                tSearch = t3
            }
            beams = next
        }
        if timed { statistics?.scorerNanoseconds += scorerTime }
    }
}

/// A query batch prepared for the workers: flat histories, per-query excluded leaves, the
/// allowed subset and the output buffers. Pointers are valid during one search call.
struct PreparedBatch: @unchecked Sendable {
    let historyItems: UnsafePointer<Int32>
    /// `[queries + 1]` bounds into `historyItems`.
    let historyBounds: UnsafePointer<Int>
    let excludedLeaves: UnsafePointer<Int32>?
    /// `[queries + 1]` bounds into `excludedLeaves`.
    let excludedBounds: UnsafePointer<Int>
    let allowedLeaves: UnsafePointer<Int32>?
    let allowedCount: Int
    let hasConstraints: Bool
    let items: SharedMutablePointer<Int32>
    let scores: SharedMutablePointer<Float>
    let codes: SharedMutablePointer<Int32>
}

/// A value guarded by a lock, shared by the workers of one search.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
