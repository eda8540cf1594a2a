import Foundation
import SemidMath

/// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay and bias correction, with
/// optional global-norm gradient clipping — the one optimizer of semid's trainers (RQ-VAE and the
/// next-item model).
///
/// One step at learning rate `η` (from a ``LearningRateSchedule``), for every parameter `θ` with
/// gradient `g` (scaled by `clipNorm / ‖g‖` when clipping applies):
/// ```
/// θ ← θ − η·λ·θ                       (only in the decayed ranges; decoupled from the gradient)
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// θ ← θ − η · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
/// ```
/// which is PyTorch's `torch.optim.AdamW` (weight decay multiplied by the current learning rate).
/// Parameters and gradients are flat `Float` buffers of ``parameterCount`` values; the optimizer
/// keeps `m` and `v` of the same size and allocates nothing per step. A step is O(parameters),
/// element-wise over both cores (the split changes no result), plus one pass for the gradient
/// norm when clipping.
public struct AdamW: Sendable {
    /// Optimizer settings (the learning rate comes from the schedule).
    public struct Configuration: Codable, Equatable, Sendable {
        /// Decay rate of the first-moment (mean) estimate `β₁`.
        public var beta1: Double
        /// Decay rate of the second-moment (uncentred variance) estimate `β₂`.
        public var beta2: Double
        /// Added to `√v̂` in the update's denominator.
        public var epsilon: Double
        /// Decoupled weight decay `λ` per step, `θ −= η·λ·θ`, on the decayed ranges only.
        public var weightDecay: Double
        /// Clip the global gradient norm to this value (0 = no clipping).
        public var clipNorm: Double

        /// Creates settings; the defaults are PyTorch's (`β = (0.9, 0.999)`, `ε = 1e-8`, no weight
        /// decay) and no clipping. Each trainer's configuration sets its own.
        public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0,
                    clipNorm: Double = 0) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
            self.clipNorm = clipNorm
        }
    }

    /// The order of two roundings in a step. Each stored artifact was trained with one of them,
    /// and keeping it lets the same inputs and seed reproduce it bit for bit.
    package enum Rounding: Sendable {
        /// `v ← β₂·v + (1 − β₂)·(g·g)`, decay factor `Float(1 − η·λ)` rounded once from `Double`
        /// (RQ-VAE training).
        case squareFirst
        /// `v ← β₂·v + ((1 − β₂)·g)·g`, decay factor `1 − Float(η)·Float(λ)` in `Float` (the
        /// next-item model).
        case scaleFirst
    }

    /// Settings.
    public let configuration: Configuration
    /// Index ranges of the parameter buffer that receive weight decay (typically the weight
    /// matrices, not biases, norms or codebooks).
    public let decayedRanges: [Range<Int>]
    /// The rounding order of a step.
    package let rounding: Rounding
    /// Steps taken so far (the `t` of the bias corrections).
    public private(set) var step: Int = 0
    /// First moments.
    package private(set) var m: [Float]
    /// Second moments.
    package private(set) var v: [Float]

    /// An optimizer for `parameterCount` values whose moments start at zero.
    package init(parameterCount: Int, configuration: Configuration, decayedRanges: [Range<Int>],
                 rounding: Rounding = .squareFirst) {
        self.configuration = configuration
        self.decayedRanges = decayedRanges
        self.rounding = rounding
        self.m = [Float](repeating: 0, count: parameterCount)
        self.v = [Float](repeating: 0, count: parameterCount)
    }

    /// The number of parameters.
    public var parameterCount: Int { m.count }

    /// Applies one step at `learningRate` to `parameters` with `gradients` (both ``parameterCount``
    /// values; `gradients` is read, never written).
    package mutating func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                                 learningRate: Double) {
        step += 1
        let c = configuration
        let count = m.count
        var scale: Float = 1
        if c.clipNorm > 0 {
            let norm = Self.norm(gradients, count: count)
            if norm > c.clipNorm { scale = Float(c.clipNorm / norm) }
        }
        let b1 = Float(c.beta1), b2 = Float(c.beta2)
        let correction1 = Float(1 - Foundation.pow(c.beta1, Double(step)))
        let correction2 = Float(1 - Foundation.pow(c.beta2, Double(step)))
        // θ −= lr · m̂ / (√v̂ + ε)  ⇔  θ −= stepSize · m / (√v / √c₂ + ε)
        let stepSize = Float(learningRate) / correction1
        let invSqrtC2 = 1 / correction2.squareRoot()
        let eps = Float(c.epsilon)
        let decayFactor: Float
        switch rounding {
        case .squareFirst: decayFactor = Float(1 - learningRate * c.weightDecay)
        case .scaleFirst: decayFactor = 1 - Float(learningRate) * Float(c.weightDecay)
        }
        let squareFirst = rounding == .squareFirst
        let decayed = c.weightDecay != 0 ? decayedRanges : []
        let params = SharedMutablePointer(parameters)
        m.withUnsafeMutableBufferPointer { mb in
            v.withUnsafeMutableBufferPointer { vb in
                guard let mBase = mb.baseAddress, let vBase = vb.baseAddress else { return }
                let mp = SharedMutablePointer(mBase), vp = SharedMutablePointer(vBase)
                // Element-wise, so splitting over the cores changes nothing in the result.
                Parallel.forEachChunk(count: count, minimumChunk: 65_536) { chunk in
                    let p = params.pointer, mp = mp.pointer, vp = vp.pointer
                    for range in decayed {
                        let lo = Swift.max(range.lowerBound, chunk.lowerBound), hi = Swift.min(range.upperBound, chunk.upperBound)
                        if lo < hi { for i in lo..<hi { p[i] *= decayFactor } }
                    }
                    // Sixteen lanes at a time, then the tail; the same arithmetic in both.
                    var i = chunk.lowerBound
                    let g1 = SIMD16<Float>(repeating: 1 - b1), g2 = SIMD16<Float>(repeating: 1 - b2)
                    let vb1 = SIMD16<Float>(repeating: b1), vb2 = SIMD16<Float>(repeating: b2)
                    let vStep = SIMD16<Float>(repeating: stepSize), vInv = SIMD16<Float>(repeating: invSqrtC2)
                    let vEps = SIMD16<Float>(repeating: eps), vScale = SIMD16<Float>(repeating: scale)
                    while i + 16 <= chunk.upperBound {
                        let g = UnsafeRawPointer(gradients + i).loadUnaligned(as: SIMD16<Float>.self) * vScale
                        let mi = vb1 * UnsafeRawPointer(mp + i).loadUnaligned(as: SIMD16<Float>.self) + g1 * g
                        let square = squareFirst ? g2 * (g * g) : (g2 * g) * g
                        let vi = vb2 * UnsafeRawPointer(vp + i).loadUnaligned(as: SIMD16<Float>.self) + square
                        UnsafeMutableRawPointer(mp + i).storeBytes(of: mi, as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(vp + i).storeBytes(of: vi, as: SIMD16<Float>.self)
                        let old = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
                        let new = old - vStep * mi / (vi.squareRoot() * vInv + vEps)
                        UnsafeMutableRawPointer(p + i).storeBytes(of: new, as: SIMD16<Float>.self)
                        i += 16
                    }
                    while i < chunk.upperBound {
                        let g = gradients[i] * scale
                        let mi = b1 * mp[i] + (1 - b1) * g
                        let square = squareFirst ? (1 - b2) * (g * g) : ((1 - b2) * g) * g
                        let vi = b2 * vp[i] + square
                        mp[i] = mi
                        vp[i] = vi
                        p[i] -= stepSize * mi / (vi.squareRoot() * invSqrtC2 + eps)
                        i += 1
                    }
                }
            }
        }
    }

    /// Sets the moments of `range` back to zero (e.g. for a re-seeded codebook entry).
    package mutating func resetMoments(_ range: Range<Int>) {
        for i in range { m[i] = 0; v[i] = 0 }
    }

    /// `√Σ g²` over `count` values, accumulated in `Double` every 4096 values. O(count).
    package static func norm(_ g: UnsafePointer<Float>, count: Int) -> Double {
        var total = 0.0
        var i = 0
        while i < count {
            let end = Swift.min(count, i + 4096)
            total += Double(Distances.squaredNorm(g + i, count: end - i))
            i = end
        }
        return total.squareRoot()
    }
}
