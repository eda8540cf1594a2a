import Foundation
import SemidDecoding
import SemidMath

/// A small random MLP scorer, shaped like a real model's decoding head, for benchmarks and tests.
///
/// A beam's input is `x = h(history) + Σ_{j<level} E_j[code_j]` (`[d]`), where `h` is the mean of
/// hashed item embeddings over the history (computed once in ``start(_:state:)``) and `E_j` is a
/// per-level code embedding; `x` is cached per beam and extended in ``advance(_:state:)`` (the
/// parent's `x` plus the chosen code's embedding), which is how a real model carries its work
/// between steps. Log-probabilities are `logSoftmax(W2_l · relu(W1 · x + b1) + b2_l)`, two
/// `sgemm` calls per level for the whole micro-batch: `[beams, d] × [d, hidden]` and
/// `[beams, hidden] × [hidden, K_l]`.
public struct RandomMLPScorer: NextTokenScorer {
    /// `K_l` per level.
    public let codebookSizes: [Int]
    /// Input width `d`.
    public let inputDimension: Int
    /// Hidden width.
    public let hiddenDimension: Int
    /// Buckets of the hashed item-embedding table.
    public let itemBuckets: Int
    let itemTable: [Float]          // [itemBuckets, d]
    let codeEmbeddings: [[Float]]   // per level [K_l, d]
    let w1: [Float]                 // [d, hidden]
    let b1: [Float]                 // [hidden]
    let w2: [[Float]]               // per level [hidden, K_l]
    let b2: [[Float]]               // per level [K_l]

    /// Per-worker buffers: history vectors, per-beam inputs (double-buffered) and hidden activations.
    public struct State {
        var historyVectors: [Float]   // [maxHistories, d]
        var inputs: [Float]           // [maxBeams, d]
        var nextInputs: [Float]       // [maxBeams, d]
        var hidden: [Float]           // [maxBeams, hidden]
    }

    /// Random weights from `seed` (Gaussian, scaled by fan-in; output weights scaled by
    /// `outputScale` so the distributions are not flat).
    public init(codebookSizes: [Int], inputDimension: Int = 64, hiddenDimension: Int = 128,
                itemBuckets: Int = 4096, outputScale: Float = 3, seed: UInt64 = 7) {
        self.codebookSizes = codebookSizes
        self.inputDimension = max(1, inputDimension)
        self.hiddenDimension = max(1, hiddenDimension)
        self.itemBuckets = max(1, itemBuckets)
        let d = self.inputDimension, h = self.hiddenDimension
        var rng = SeededGenerator(seed: seed)
        func gaussian(_ count: Int, _ scale: Float) -> [Float] { (0..<count).map { _ in scale * rng.nextGaussian() } }
        itemTable = gaussian(self.itemBuckets * d, 1)
        codeEmbeddings = codebookSizes.map { gaussian($0 * d, 0.5) }
        w1 = gaussian(d * h, 1 / Float(d).squareRoot())
        b1 = gaussian(h, 0.1)
        w2 = codebookSizes.map { gaussian(h * $0, outputScale / Float(h).squareRoot()) }
        b2 = codebookSizes.map { gaussian($0, 0.1) }
    }

    /// Buffers for `maxHistories` histories and `maxBeams` beams.
    public func makeState(maxHistories: Int, maxBeams: Int) -> State {
        let d = inputDimension
        return State(historyVectors: [Float](repeating: 0, count: max(1, maxHistories) * d),
                     inputs: [Float](repeating: 0, count: max(1, maxBeams) * d),
                     nextInputs: [Float](repeating: 0, count: max(1, maxBeams) * d),
                     hidden: [Float](repeating: 0, count: max(1, maxBeams) * hiddenDimension))
    }

    /// The hashed-embedding bucket of an item.
    @inline(__always)
    func bucket(_ item: Int32) -> Int { Int(TableScorer.mix(UInt64(bitPattern: Int64(item))) % UInt64(itemBuckets)) }

    /// Writes the history vector (mean of hashed item embeddings) of `history` into `out` (`[d]`).
    func historyVector(_ history: UnsafeBufferPointer<Int32>, into out: UnsafeMutablePointer<Float>) {
        let d = inputDimension
        for j in 0..<d { out[j] = 0 }
        itemTable.withUnsafeBufferPointer { table in
            for item in history {
                let row = table.baseAddress! + bucket(item) * d
                for j in 0..<d { out[j] += row[j] }
            }
        }
        let scale = 1 / Float(max(1, history.count))
        for j in 0..<d { out[j] *= scale }
    }

    /// Computes history vectors; the level-0 beam of history `i` starts from it.
    public func start(_ histories: HistoryBatch, state: inout State) throws {
        let d = inputDimension
        state.historyVectors.withUnsafeMutableBufferPointer { hv in
            state.inputs.withUnsafeMutableBufferPointer { input in
                for i in 0..<histories.count {
                    historyVector(histories[i], into: hv.baseAddress! + i * d)
                    (input.baseAddress! + i * d).update(from: hv.baseAddress! + i * d, count: d)
                }
            }
        }
    }

    /// Two GEMMs and a log-softmax per row.
    public func logProbabilities(_ beams: BeamBatch, state: inout State, into output: UnsafeMutableBufferPointer<Float>) {
        let d = inputDimension, h = hiddenDimension, k = beams.codebookSize, m = beams.count
        guard m > 0, let out = output.baseAddress else { return }
        state.inputs.withUnsafeBufferPointer { x in
            state.hidden.withUnsafeMutableBufferPointer { hid in
                w1.withUnsafeBufferPointer { w in
                    b1.withUnsafeBufferPointer { bias in
                        let hp = hid.baseAddress!
                        for r in 0..<m { (hp + r * h).update(from: bias.baseAddress!, count: h) }
                        BLAS.sgemm(m: m, n: h, k: d, a: x.baseAddress!, lda: d, b: w.baseAddress!, ldb: h,
                                   beta: 1, c: hp, ldc: h)
                        for i in 0..<(m * h) where hp[i] < 0 { hp[i] = 0 }
                    }
                }
                w2[beams.level].withUnsafeBufferPointer { w in
                    b2[beams.level].withUnsafeBufferPointer { bias in
                        for r in 0..<m { (out + r * k).update(from: bias.baseAddress!, count: k) }
                        BLAS.sgemm(m: m, n: k, k: h, a: hid.baseAddress!, lda: h, b: w.baseAddress!, ldb: k,
                                   beta: 1, c: out, ldc: k)
                    }
                }
            }
        }
        for r in 0..<m { LogSoftmax.inPlace(out + r * k, count: k) }
    }

    /// New beam `i`'s input = its parent's input + the embedding of the code it took.
    public func advance(_ selection: BeamSelection, state: inout State) {
        let d = inputDimension
        codeEmbeddings[selection.level].withUnsafeBufferPointer { emb in
            state.inputs.withUnsafeBufferPointer { x in
                state.nextInputs.withUnsafeMutableBufferPointer { nx in
                    for i in 0..<selection.count {
                        let src = x.baseAddress! + Int(selection.parents[i]) * d
                        let e = emb.baseAddress! + Int(selection.tokens[i]) * d
                        let dst = nx.baseAddress! + i * d
                        for j in 0..<d { dst[j] = src[j] + e[j] }
                    }
                }
            }
        }
        swap(&state.inputs, &state.nextInputs)
    }

    /// The log-probabilities (`[K_level]`, `level = prefix.count`) for one history and prefix,
    /// computed from scratch without the per-beam cache (for checking the cached path); `nil` when
    /// the prefix is as long as an ID or has a code outside its codebook.
    public func logProbabilities(history: [Int32], prefix: [Int32]) -> [Float]? {
        guard prefix.count < codebookSizes.count,
              prefix.enumerated().allSatisfy({ $1 >= 0 && Int($1) < codebookSizes[$0] }) else { return nil }
        var state = makeState(maxHistories: 1, maxBeams: 1)
        history.withUnsafeBufferPointer { hb in
            state.inputs.withUnsafeMutableBufferPointer { x in historyVector(hb, into: x.baseAddress!) }
        }
        let d = inputDimension
        for (level, code) in prefix.enumerated() {
            for j in 0..<d { state.inputs[j] += codeEmbeddings[level][Int(code) * d + j] }
        }
        let level = prefix.count
        var out = [Float](repeating: 0, count: codebookSizes[level])
        let historyIndex: [Int32] = [0]
        historyIndex.withUnsafeBufferPointer { hi in
            prefix.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { o in
                    logProbabilities(BeamBatch(level: level, count: 1, codebookSize: codebookSizes[level], histories: hi, prefixes: pb),
                                     state: &state, into: o)
                }
            }
        }
        return out
    }
}
