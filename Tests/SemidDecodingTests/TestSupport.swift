import SemidMath
@testable import SemidBenchmarks
@testable import SemidDecoding

/// A random index of unique IDs: `n` rows over `sizes`, built by sampling distinct mixed-radix
/// numbers, optionally concentrated in a few prefixes so that some nodes are full.
struct RandomIndex {
    var ids: [Int32]
    var sizes: [Int]
    var count: Int { ids.count / sizes.count }

    func row(_ i: Int) -> [Int32] { Array(ids[(i * sizes.count)..<((i + 1) * sizes.count)]) }

    static func make(_ rng: inout SeededGenerator, items requested: Int, sizes: [Int], skewed: Bool = false) -> RandomIndex {
        // Saturating: huge spaces are sampled in their first 2^62 IDs.
        let space = sizes.reduce(1) { acc, k in
            let (p, overflow) = acc.multipliedReportingOverflow(by: k)
            return overflow || p > 1 << 62 ? 1 << 62 : p
        }
        let n = min(requested, space)
        var picked: [Int]
        if skewed {
            // Fill whole blocks of the lexicographic space first (full fan-out), then random.
            let block = sizes.last ?? 1
            let start = rng.nextInt(below: max(1, space / block)) * block
            picked = Array(start..<min(space, start + min(n, block)))
            var seen = Set(picked)
            while picked.count < n {
                let x = rng.nextInt(below: space)
                if seen.insert(x).inserted { picked.append(x) }
            }
        } else {
            picked = rng.sample(n, from: space)
        }
        rng.shuffle(&picked)
        var ids = [Int32]()
        ids.reserveCapacity(n * sizes.count)
        for var x in picked {
            var row = [Int32](repeating: 0, count: sizes.count)
            for l in stride(from: sizes.count - 1, through: 0, by: -1) {
                row[l] = Int32(x % sizes[l]); x /= sizes[l]
            }
            ids.append(contentsOf: row)
        }
        return RandomIndex(ids: ids, sizes: sizes)
    }

    /// Random codebook sizes: 1–4 levels, sizes 1–9, sometimes a level of size 1 or 17 (> 16 for
    /// the vectorised path).
    static func randomSizes(_ rng: inout SeededGenerator) -> [Int] {
        let levels = 1 + rng.nextInt(below: 4)
        return (0..<levels).map { _ in
            switch rng.nextInt(below: 6) {
            case 0: return 1
            case 1: return 17 + rng.nextInt(below: 20)
            default: return 2 + rng.nextInt(below: 8)
            }
        }
    }
}

/// A deterministic scorer: the log-probability of a code is a hash of (history, prefix, code).
/// With `coarse`, values are multiples of 1/8 in [-4, 0], so sums are exact and ties frequent.
struct HashScorer: NextTokenScorer {
    let codebookSizes: [Int]
    let seed: UInt64
    let coarse: Bool

    struct State { var hashes: [UInt64] }

    func makeState(maxHistories: Int, maxBeams: Int) -> State {
        State(hashes: [UInt64](repeating: 0, count: maxHistories))
    }

    func start(_ histories: HistoryBatch, state: inout State) throws {
        for i in 0..<histories.count { state.hashes[i] = HashScorer.hash(history: Array(histories[i]), seed: seed) }
    }

    func logProbabilities(_ beams: BeamBatch, state: inout State, into output: UnsafeMutableBufferPointer<Float>) {
        for b in 0..<beams.count {
            let prefix = Array(beams.prefix(b))
            for t in 0..<beams.codebookSize {
                output[b * beams.codebookSize + t] = value(state.hashes[beams.history(b)], prefix: prefix, token: t)
            }
        }
    }

    static func hash(history: [Int32], seed: UInt64) -> UInt64 {
        var h = seed &* 0x9E37_79B9_7F4A_7C15
        for item in history { h = TableScorer.mix(h ^ UInt64(bitPattern: Int64(item))) }
        return h
    }

    func value(_ historyHash: UInt64, prefix: [Int32], token: Int) -> Float {
        var h = historyHash &+ UInt64(prefix.count) &* 31
        for c in prefix { h = TableScorer.mix(h ^ UInt64(c)) }
        h = TableScorer.mix(h ^ (UInt64(token) &+ 0x1234_5678))
        if coarse { return -Float(h % 33) / 8 }
        return -Float(h % 1_000_003) / 65536
    }

    /// Exhaustive top-K: scores every item of `index` allowed for the query and sorts by
    /// (score desc, item asc).
    func exhaustiveTopK(index: RandomIndex, history: [Int32], k: Int, excluded: Set<Int32> = [],
                        allowed: Set<Int32>? = nil) -> [(item: Int32, score: Float)] {
        let hh = HashScorer.hash(history: history, seed: seed)
        var all: [(item: Int32, score: Float)] = []
        for i in 0..<index.count {
            let item = Int32(i)
            if excluded.contains(item) { continue }
            if let allowed, !allowed.contains(item) { continue }
            let row = index.row(i)
            var s: Float = 0
            for l in 0..<row.count { s = s + value(hh, prefix: Array(row[0..<l]), token: Int(row[l])) }
            all.append((item, s))
        }
        all.sort { $0.score > $1.score || ($0.score == $1.score && $0.item < $1.item) }
        return Array(all.prefix(k))
    }
}

/// A scorer that fails in `start`.
struct FailingScorer: NextTokenScorer {
    struct Failure: Error, Equatable {}
    let codebookSizes: [Int]
    func start(_ histories: HistoryBatch, state: inout Void) throws { throw Failure() }
    func logProbabilities(_ beams: BeamBatch, state: inout Void, into output: UnsafeMutableBufferPointer<Float>) {}
}

/// A scorer that keeps a copy of each beam's prefix in its state via `advance` and records any
/// disagreement with the prefixes the search passes (checks the parent/token bookkeeping).
final class PrefixTrackingScorer: NextTokenScorer, @unchecked Sendable {
    let codebookSizes: [Int]
    private let lock = NSLockish()
    private(set) var mismatches = 0
    private(set) var calls = 0

    init(codebookSizes: [Int]) { self.codebookSizes = codebookSizes }

    struct State { var prefixes: [[Int32]]; var histories: [Int32] }

    func makeState(maxHistories: Int, maxBeams: Int) -> State { State(prefixes: [], histories: []) }

    func start(_ histories: HistoryBatch, state: inout State) throws {
        state.prefixes = Array(repeating: [], count: histories.count)
        state.histories = (0..<histories.count).map { Int32($0) }
    }

    func logProbabilities(_ beams: BeamBatch, state: inout State, into output: UnsafeMutableBufferPointer<Float>) {
        var bad = beams.count == state.prefixes.count ? 0 : 1
        for b in 0..<min(beams.count, state.prefixes.count) {
            if Array(beams.prefix(b)) != state.prefixes[b] || beams.histories[b] != state.histories[b] { bad += 1 }
            for t in 0..<beams.codebookSize { output[b * beams.codebookSize + t] = -Float((t * 7 + b) % 5) }
        }
        lock.run { mismatches += bad; calls += 1 }
    }

    func advance(_ selection: BeamSelection, state: inout State) {
        var next: [[Int32]] = []
        for i in 0..<selection.count { next.append(state.prefixes[Int(selection.parents[i])] + [selection.tokens[i]]) }
        state.prefixes = next
        state.histories = Array(selection.histories)
    }
}

import Foundation
final class NSLockish: @unchecked Sendable {
    private let lock = NSLock()
    func run(_ body: () -> Void) { lock.lock(); body(); lock.unlock() }
}

/// A straightforward beam search over the list of IDs (no trie, no pruning tricks): at each level
/// every beam's valid continuations are scored, those whose subtree holds no returnable item are
/// dropped, all candidates are sorted by (score desc, prefix asc) — or (score desc, item asc) on
/// the last level — and the best `B` (or `K`) are kept.
func referenceBeamSearch(index: RandomIndex, scorer: HashScorer, history: [Int32], beam: Int, k: Int,
                         returnable: Set<Int32>) -> [(item: Int32, score: Float)] {
    let levels = index.sizes.count
    let hh = HashScorer.hash(history: history, seed: scorer.seed)
    var rowsByPrefix: [[Int32]: [Int32]] = [:]   // prefix -> returnable items under it
    for i in 0..<index.count where returnable.contains(Int32(i)) {
        let row = index.row(i)
        for d in 0...levels { rowsByPrefix[Array(row[0..<d]), default: []].append(Int32(i)) }
    }
    var beams: [(prefix: [Int32], score: Float)] = [([], 0)]
    for level in 0..<levels {
        var candidates: [(prefix: [Int32], score: Float)] = []
        for b in beams {
            var codes = Set<Int32>()
            for item in rowsByPrefix[b.prefix] ?? [] { codes.insert(index.row(Int(item))[level]) }
            for c in codes.sorted() {
                let s = b.score + scorer.value(hh, prefix: b.prefix, token: Int(c))
                candidates.append((b.prefix + [c], s))
            }
        }
        if level == levels - 1 {
            let items = candidates.map { (item: rowsByPrefix[$0.prefix]![0], score: $0.score) }
            return Array(items.sorted { $0.score > $1.score || ($0.score == $1.score && $0.item < $1.item) }.prefix(k))
        }
        candidates.sort { $0.score > $1.score || ($0.score == $1.score && $0.prefix.lexicographicallyPrecedes($1.prefix)) }
        beams = Array(candidates.prefix(beam))
    }
    return []
}

/// Like ``HashScorer`` but with positive values too (raw scores), declared as such.
struct PositiveScorer: NextTokenScorer {
    let inner: HashScorer
    var codebookSizes: [Int] { inner.codebookSizes }
    var producesLogProbabilities: Bool { false }
    func makeState(maxHistories: Int, maxBeams: Int) -> HashScorer.State { inner.makeState(maxHistories: maxHistories, maxBeams: maxBeams) }
    func start(_ histories: HistoryBatch, state: inout HashScorer.State) throws { try inner.start(histories, state: &state) }
    func logProbabilities(_ beams: BeamBatch, state: inout HashScorer.State, into output: UnsafeMutableBufferPointer<Float>) {
        inner.logProbabilities(beams, state: &state, into: output)
        for i in 0..<output.count { output[i] += 20 }
    }
}
