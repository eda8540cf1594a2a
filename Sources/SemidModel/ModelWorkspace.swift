import SemidMath
import SemidNeuralNetwork

/// Activation and gradient buffers for one forward/backward pass of ``NextItemModel``, sized for
/// the largest batch seen and reused (no allocation per step once warm).
public final class ModelWorkspace: @unchecked Sendable {
    let d: Int, f: Int, layers: Int, heads: Int
    /// Rows of the item-logit chunk of the items head.
    let logitRows: Int

    // Residual stream: residual[ℓ] is the input of block ℓ, residual[layers] the trunk output.
    var residual: [FloatBuffer]
    var embedMask = FloatBuffer(count: 1)
    var ln1Norm: [FloatBuffer], ln1Rstd: [FloatBuffer], ln1Out: [FloatBuffer]
    var qkv: [FloatBuffer], probabilities: [FloatBuffer], probabilityMask: [FloatBuffer], context: [FloatBuffer]
    var attentionMask: [FloatBuffer], mid: [FloatBuffer]
    var ln2Norm: [FloatBuffer], ln2Rstd: [FloatBuffer], ln2Out: [FloatBuffer]
    var ffPre: [FloatBuffer], ffAct: [FloatBuffer], ffMask: [FloatBuffer], ffOutMask: [FloatBuffer]
    var finalNorm = FloatBuffer(count: 1), finalRstd = FloatBuffer(count: 1)
    /// `[N, d]` the trunk's normalised output (the user state at every position).
    var hidden = FloatBuffer(count: 1)
    /// `[S, d]` the user vector of each sequence (user tokens) and `[S]` 1 = kept, 0 = dropped.
    var userVectors = FloatBuffer(count: 1), userKeep = FloatBuffer(count: 1)
    /// The items head's rows when some positions have no target (user-token prefixes): `[M, d]`
    /// hidden states and their gradients, and `[M]` targets, of the positions with a target.
    var headHidden = FloatBuffer(count: 1), headDHidden = FloatBuffer(count: 1)
    var headTargets: [Int32] = []

    // Gradients.
    var dHidden = FloatBuffer(count: 1)
    var dResidual = FloatBuffer(count: 1)
    var dTemp = FloatBuffer(count: 1)
    var dTemp2 = FloatBuffer(count: 1)
    var dQKV = FloatBuffer(count: 1)
    var dFF = FloatBuffer(count: 1)
    var temp = FloatBuffer(count: 1)

    // Items head: one set of buffers per worker.
    final class HeadWorker: @unchecked Sendable {
        let logits: FloatBuffer, rowLoss: FloatBuffer, ones: FloatBuffer
        let itemGradient: FloatBuffer, biasGradient: FloatBuffer
        init(rows: Int, items: Int, d: Int) {
            logits = FloatBuffer(count: rows * items)
            rowLoss = FloatBuffer(count: rows)
            ones = FloatBuffer(count: rows, value: 1)
            itemGradient = FloatBuffer(count: items * d)
            biasGradient = FloatBuffer(count: items)
        }
    }
    /// Fixed parts the items head splits its rows into (processed on all cores, their gradients
    /// summed in order), so training does not depend on the number of cores.
    static let itemHeadShards = 4

    lazy var headWorkers: [HeadWorker] = (0..<Self.itemHeadShards).map { _ in
        HeadWorker(rows: logitRows, items: itemCount, d: d)
    }
    let itemCount: Int

    /// The code head's buffers (created on first use).
    var codeHeadBuffers: AnyObject?

    /// Whether the last forward pass used dropout.
    var dropoutActive = false
    /// The layout of the last forward pass.
    var layout = PackedSequences(lengths: [])

    /// Seconds spent per phase since the last ``resetTimers()``.
    public var timers = PhaseTimers()

    /// Buffers for a model of `configuration` over `itemCount` items.
    public init(configuration c: ModelConfiguration, itemCount: Int, logitRows: Int = 256) {
        d = c.dimension; f = c.feedForward; layers = c.layers; heads = c.heads
        self.logitRows = logitRows
        func many(_ k: Int) -> [FloatBuffer] { (0..<k).map { _ in FloatBuffer(count: 1) } }
        residual = many(layers + 1)
        ln1Norm = many(layers); ln1Rstd = many(layers); ln1Out = many(layers)
        qkv = many(layers); probabilities = many(layers); probabilityMask = many(layers); context = many(layers)
        attentionMask = many(layers); mid = many(layers)
        ln2Norm = many(layers); ln2Rstd = many(layers); ln2Out = many(layers)
        ffPre = many(layers); ffAct = many(layers); ffMask = many(layers); ffOutMask = many(layers)
        self.itemCount = itemCount
    }

    /// Grows every buffer for `tokens` positions and `probabilityValues` attention values.
    func reserve(tokens n: Int, probabilityValues p: Int) {
        for b in residual { b.reserve(n * d) }
        embedMask.reserve(n * d)
        for l in 0..<layers {
            ln1Norm[l].reserve(n * d); ln1Rstd[l].reserve(n); ln1Out[l].reserve(n * d)
            qkv[l].reserve(n * 3 * d); probabilities[l].reserve(p); probabilityMask[l].reserve(p); context[l].reserve(n * d)
            attentionMask[l].reserve(n * d); mid[l].reserve(n * d)
            ln2Norm[l].reserve(n * d); ln2Rstd[l].reserve(n); ln2Out[l].reserve(n * d)
            ffPre[l].reserve(n * f); ffAct[l].reserve(n * f); ffMask[l].reserve(n * f); ffOutMask[l].reserve(n * d)
        }
        finalNorm.reserve(n * d); finalRstd.reserve(n); hidden.reserve(n * d)
        dHidden.reserve(n * d); dResidual.reserve(n * d); dTemp.reserve(n * d); dTemp2.reserve(n * d)
        dQKV.reserve(n * 3 * d); dFF.reserve(n * f); temp.reserve(n * max(d, f))
    }

    /// Zeroes ``timers``.
    public func resetTimers() { timers = PhaseTimers() }
}

/// Wall-clock seconds per training phase.
public struct PhaseTimers: Sendable, Codable, Equatable {
    /// Item-vector composition, transformer forward, output logits and softmax (loss).
    public var forward: Double = 0
    /// Gradients of the output layer, the transformer and the item-vector composition.
    public var backward: Double = 0
    /// Gradient norm, clipping and the AdamW update.
    public var optimizer: Double = 0
    /// Creates zero timers.
    public init() {}

    /// Adds another set of timers.
    public static func + (a: PhaseTimers, b: PhaseTimers) -> PhaseTimers {
        var r = a
        r.forward += b.forward; r.backward += b.backward; r.optimizer += b.optimizer
        return r
    }
}
