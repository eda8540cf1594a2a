import Foundation
import SemidDecoding
import SemidMath

/// A trivial scorer: each beam gets one row of a fixed random table of log-probabilities, chosen by
/// hashing its history and prefix. Costs one row copy per beam, so decoding time with it is almost
/// all the decoder's own; used for throughput and constraint-cost benchmarks and in tests.
public struct TableScorer: NextTokenScorer {
    /// `K_l` per level.
    public let codebookSizes: [Int]
    /// Rows per level table.
    public let rowCount: Int
    /// Per level, `[rowCount, K_l]` row-major log-softmax rows.
    let tables: [[Float]]

    /// Per-history hashes of the current micro-batch.
    public struct State {
        var historyHashes: [UInt64]
    }

    /// Tables of `rowCount` rows per level; each row is the log-softmax of Gaussian logits with
    /// standard deviation `spread` (larger = more peaked distributions).
    public init(codebookSizes: [Int], rowCount: Int = 1024, spread: Float = 2, seed: UInt64 = 1) {
        self.codebookSizes = codebookSizes
        self.rowCount = max(1, rowCount)
        var rng = SeededGenerator(seed: seed)
        tables = codebookSizes.map { k in
            var table = [Float](repeating: 0, count: max(1, rowCount) * k)
            for r in 0..<max(1, rowCount) {
                for j in 0..<k { table[r * k + j] = spread * rng.nextGaussian() }
                table.withUnsafeMutableBufferPointer { t in
                    if let base = t.baseAddress { LogSoftmax.inPlace(base + r * k, count: k) }
                }
            }
            return table
        }
    }

    /// A state for up to `maxHistories` histories.
    public func makeState(maxHistories: Int, maxBeams: Int) -> State {
        State(historyHashes: [UInt64](repeating: 0, count: max(1, maxHistories)))
    }

    /// Hashes each history.
    public func start(_ histories: HistoryBatch, state: inout State) throws {
        for i in 0..<histories.count {
            var h: UInt64 = 0x9E37_79B9_7F4A_7C15
            for item in histories[i] { h = TableScorer.mix(h ^ UInt64(bitPattern: Int64(item))) }
            state.historyHashes[i] = h
        }
    }

    /// Copies, for each beam, the table row chosen by its history and prefix.
    public func logProbabilities(_ beams: BeamBatch, state: inout State, into output: UnsafeMutableBufferPointer<Float>) {
        let k = beams.codebookSize, level = beams.level
        tables[level].withUnsafeBufferPointer { table in
            guard let src = table.baseAddress, let dst = output.baseAddress else { return }
            for b in 0..<beams.count {
                var h = state.historyHashes[beams.history(b)] &+ UInt64(level)
                for j in 0..<level { h = TableScorer.mix(h ^ UInt64(bitPattern: Int64(beams.prefixes[b * level + j]))) }
                let row = Int(TableScorer.mix(h) % UInt64(rowCount))
                (dst + b * k).update(from: src + row * k, count: k)
            }
        }
    }

    /// SplitMix64's finaliser.
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Numerically stable log-softmax.
enum LogSoftmax {
    /// Replaces `count` logits at `x` by their log-softmax (`x − max − log Σ exp(x − max)`).
    static func inPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var top = -Float.infinity
        for j in 0..<count where x[j] > top { top = x[j] }
        if !top.isFinite { top = 0 }
        var sum: Float = 0
        for j in 0..<count { sum += Foundation.exp(x[j] - top) }
        let shift = top + Foundation.log(sum)
        for j in 0..<count { x[j] -= shift }
    }
}
