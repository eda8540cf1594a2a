/// What a query may still return, for pruning: sorted leaf positions of an allowed subset and of
/// excluded items. "Does this subtree hold a returnable item" is a count over the node's
/// contiguous leaf range, by binary search: `O(log m)`, independent of the catalog size.
struct QueryConstraint {
    /// Sorted leaf positions of the allowed subset, or `nil` for all items.
    var allowed: UnsafePointer<Int32>? = nil
    var allowedCount = 0
    /// Sorted, distinct leaf positions excluded for the query (only allowed ones).
    var excluded: UnsafePointer<Int32>? = nil
    var excludedCount = 0

    /// Whether any item in leaves `a..<b` may be returned.
    @inline(__always)
    func hasReturnable(_ a: Int, _ b: Int) -> Bool {
        var remaining: Int
        if let allowed {
            remaining = SortedSearch.lowerBound(allowed, allowedCount, Int32(truncatingIfNeeded: b))
                - SortedSearch.lowerBound(allowed, allowedCount, Int32(truncatingIfNeeded: a))
            if remaining == 0 { return false }
        } else {
            remaining = b - a
        }
        if let excluded, excludedCount > 0 {
            remaining -= SortedSearch.lowerBound(excluded, excludedCount, Int32(truncatingIfNeeded: b))
                - SortedSearch.lowerBound(excluded, excludedCount, Int32(truncatingIfNeeded: a))
        }
        return remaining > 0
    }
}

/// The decoder's inner loop for one level: for each beam of a query, visit the children of the
/// beam's trie node (the masking), add their log-probabilities to the beam's score, and keep the
/// best candidates with a ``TopSelector`` (top-`B`, or top-`K` on the last level). No allocation.
///
/// Three ways to visit children, chosen per beam from its node's fan-out:
/// - full node (all `K ≥ 16` codes are children): scan the row 16 values at a time, skipping
///   blocks whose values are all below the selection threshold; child index = first child + code;
/// - dense node (`≥ K/4` children, on a level with bitsets): the same scan, restricted to the
///   bitset's lanes; the child index is first child + popcount of the lower bits;
/// - sparse node: walk its CSR token list (cost ∝ fan-out).
/// A beam whose score is already below the threshold is skipped when scores are `≤ 0`.
/// Sub-constraints are checked only for candidates that would be kept, so a subtree with no
/// returnable item never enters the beam.
struct LevelSelector {
    let view: TrieView
    let level: Int
    let isLast: Bool
    let codebookSize: Int
    let tokens: UnsafePointer<UInt16>
    let bits: UnsafePointer<UInt64>?
    let words: Int
    let leafItems: UnsafePointer<Int32>
    var top: TopSelector
    /// The scorer promises values `≤ 0` (``NextTokenScorer/producesLogProbabilities``).
    let nonPositiveScores: Bool
    /// Whether the current query has exclusions or an allowed subset.
    var constrained = false
    var constraint = QueryConstraint()

    init(view: TrieView, level: Int, top: TopSelector, nonPositiveScores: Bool) {
        self.view = view
        self.nonPositiveScores = nonPositiveScores
        self.level = level
        self.isLast = level == view.levels - 1
        self.codebookSize = view.codebookSizes[level]
        self.tokens = view.tokens + view.tokenBase[level]
        if view.denseLevels[level], let b = view.bits {
            self.bits = b + view.bitBase[level]
        } else {
            self.bits = nil
        }
        self.words = view.bitWords[level]
        self.leafItems = view.leafItems
        self.top = top
    }

    /// Whether the subtree of node `child` at depth `level + 1` still holds a returnable item.
    @inline(never)
    static func subtreeIsReturnable(_ child: Int, depth: Int, view: TrieView, constraint: QueryConstraint) -> Bool {
        if depth == view.levels { return constraint.hasReturnable(child, child + 1) }
        return constraint.hasReturnable(view.firstLeaf(child, depth: depth), view.firstLeaf(child + 1, depth: depth))
    }

    /// Offers child `child` (code `token`, score `s`) of beam `beam`.
    @inline(__always)
    mutating func consider(score s: Float, child: Int, token: Int, beam: Int) {
        if s < top.thresholdScore { return }
        let tie = isLast ? leafItems[child] : Int32(truncatingIfNeeded: child)
        let key = EntryKey.make(score: s, tie: tie)
        if key < top.minimumKey { return }
        if constrained && !LevelSelector.subtreeIsReturnable(child, depth: level + 1, view: view, constraint: constraint) { return }
        top.append(key: key, payload: UInt64(truncatingIfNeeded: beam) << 32 | UInt64(truncatingIfNeeded: token))
    }

    /// A lower bound on the `keep`-th best value of a full row of `k ≥ 64` values, for
    /// `keep ≤ 64`, in a few vector operations. The row is read as 4 interleaved groups of 16
    /// columns; per lane `j` the 4 column maxima are ranked, and the bound is the smallest, over
    /// the 16 lanes, of the `r`-th largest maximum with `r = ⌈keep/16⌉`: at least `16·r ≥ keep`
    /// distinct values are `≥` it. `nil` when it does not apply or gives nothing. NaN is never a
    /// maximum.
    static func columnMaxFloor(row: UnsafePointer<Float>, codebookSize k: Int, keep: Int) -> Float? {
        let blocks = k >> 4
        guard blocks >= 4, keep >= 1, keep <= 64 else { return nil }
        let none = SIMD16<Float>(repeating: -.infinity)
        var a0 = none, a1 = none, a2 = none, a3 = none
        @inline(__always) func load(_ b: Int) -> SIMD16<Float> {
            UnsafeRawPointer(row + b << 4).loadUnaligned(as: SIMD16<Float>.self)
        }
        @inline(__always) func maximum(_ x: SIMD16<Float>, _ y: SIMD16<Float>) -> SIMD16<Float> { x.replacing(with: y, where: y .> x) }
        @inline(__always) func minimum(_ x: SIMD16<Float>, _ y: SIMD16<Float>) -> SIMD16<Float> { x.replacing(with: y, where: y .< x) }
        var b = 0
        while b + 4 <= blocks {
            a0 = maximum(a0, load(b))
            a1 = maximum(a1, load(b + 1))
            a2 = maximum(a2, load(b + 2))
            a3 = maximum(a3, load(b + 3))
            b += 4
        }
        // Rank the four maxima of each lane: r1 ≥ r2 ≥ r3 ≥ r4.
        let m01 = maximum(a0, a1), n01 = minimum(a0, a1), m23 = maximum(a2, a3), n23 = minimum(a2, a3)
        let ranked: SIMD16<Float>
        switch (keep + 15) >> 4 {
        case 1: ranked = maximum(m01, m23)
        case 2: ranked = maximum(minimum(m01, m23), maximum(n01, n23))
        case 3: ranked = minimum(minimum(m01, m23), maximum(n01, n23))
        default: ranked = minimum(n01, n23)
        }
        let floor = ranked.min()
        return floor > -.infinity ? floor : nil
    }

    /// The lanes of `row[0..<16] + base` that are `≥ threshold`, as bits (lane `i` → bit `i`).
    @inline(__always)
    static func passingLanes(_ row: UnsafePointer<Float>, base: Float, threshold: Float) -> UInt16 {
        var m: UInt32 = 0
        for j in 0..<16 { m |= (row[j] + base >= threshold ? 1 : 0) << UInt32(j) }
        return UInt16(truncatingIfNeeded: m)
    }

    /// Expands beams `beams` of one query given each beam's node, child range (`lo`, `hi`),
    /// score, and log-probability row (`[beams, K]` at `logits`). Returns the children visited.
    mutating func expand(beams: Range<Int>, nodes: UnsafePointer<Int32>, lo: UnsafePointer<Int32>, hi: UnsafePointer<Int32>,
                         scores: UnsafePointer<Float>, logits: UnsafePointer<Float>) -> Int {
        var visited = 0
        let k = codebookSize
        // The first (best) beam's column maxima bound the selection from below at once, so the
        // scan need not admit everything until the buffer first fills. Not with sub-constraints:
        // pruned children would not count towards `keep`.
        if !constrained, let first = beams.first, Int(hi[first] - lo[first]) == k,
           let floor = LevelSelector.columnMaxFloor(row: logits + first * k, codebookSize: k, keep: top.keep) {
            top.raiseFloor(to: scores[first] + floor)
        }
        for beam in beams {
            let base = scores[beam]
            // Log-probabilities are ≤ 0, so no child of a beam already below the threshold can enter.
            if nonPositiveScores && base < top.thresholdScore { continue }
            let row = logits + beam * k
            let first = Int(lo[beam]), end = Int(hi[beam])
            visited += end - first
            let fanout = end - first
            if fanout == k && k >= 16 {
                // Full node: child index = first + code, no bitset needed.
                let baseVector = SIMD16<Float>(repeating: base)
                let blocks = k >> 4
                var block = 0
                while block < blocks {
                    var pass: UInt16 = 0xFFFF
                    let threshold = top.thresholdScore
                    if threshold > -.infinity {
                        let x = UnsafeRawPointer(row + block << 4).loadUnaligned(as: SIMD16<Float>.self) + baseVector
                        if !any(x .>= SIMD16<Float>(repeating: threshold)) { block += 1; continue }
                        pass = LevelSelector.passingLanes(row + block << 4, base: base, threshold: threshold)
                    }
                    while pass != 0 {
                        let t = block << 4 + pass.trailingZeroBitCount
                        consider(score: base + row[t], child: first + t, token: t, beam: beam)
                        pass &= pass &- 1
                    }
                    block += 1
                }
                var t = blocks << 4
                while t < k {
                    consider(score: base + row[t], child: first + t, token: t, beam: beam)
                    t += 1
                }
            } else if let bits, fanout * 4 >= k {
                // Dense node: vectorised scan of the row, bitset for membership.
                let bw = bits + Int(nodes[beam]) * words
                var rank = first
                let blocks = k >> 4
                let baseVector = SIMD16<Float>(repeating: base)
                var block = 0
                while block < blocks {
                    let mask = UInt16(truncatingIfNeeded: bw[block >> 2] >> UInt64((block & 3) << 4))
                    if mask == 0 { block += 1; continue }
                    var pass = mask
                    let threshold = top.thresholdScore
                    if threshold > -.infinity {
                        let x = UnsafeRawPointer(row + block << 4).loadUnaligned(as: SIMD16<Float>.self) + baseVector
                        if !any(x .>= SIMD16<Float>(repeating: threshold)) {
                            rank += mask.nonzeroBitCount
                            block += 1
                            continue
                        }
                        pass &= LevelSelector.passingLanes(row + block << 4, base: base, threshold: threshold)
                    }
                    while pass != 0 {
                        let lane = pass.trailingZeroBitCount
                        let t = block << 4 + lane
                        let below = mask & ((UInt16(1) << UInt16(lane)) &- 1)
                        consider(score: base + row[t], child: rank + below.nonzeroBitCount, token: t, beam: beam)
                        pass &= pass &- 1
                    }
                    rank += mask.nonzeroBitCount
                    block += 1
                }
                var t = blocks << 4
                while t < k {
                    if bw[t >> 6] & (UInt64(1) << UInt64(t & 63)) != 0 {
                        consider(score: base + row[t], child: rank, token: t, beam: beam)
                        rank += 1
                    }
                    t += 1
                }
            } else {
                // Sparse node: walk its sorted codes.
                var j = first
                while j < end {
                    let t = Int(tokens[j])
                    consider(score: base + row[t], child: j, token: t, beam: beam)
                    j += 1
                }
            }
            // Right after the best beam, tighten the threshold to its `keep`-th best child, so the
            // other beams skip more.
            if beam == beams.lowerBound { top.compact() }
        }
        return visited
    }
}
