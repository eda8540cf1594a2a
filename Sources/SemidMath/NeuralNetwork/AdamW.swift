import Foundation

/// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, bias correction, and a
/// learning-rate schedule of linear warm-up followed by a constant rate or a cosine decay.
///
/// One step at learning rate `η_t` (see ``Schedule``), for every parameter `θ` with gradient `g`:
/// ```
/// θ ← θ − η_t·λ·θ                       (only in the decayed ranges; decoupled from the gradient)
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// θ ← θ − η_t · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
/// ```
/// which is PyTorch's `torch.optim.AdamW` (weight decay multiplied by the current learning rate).
/// Parameters and gradients are flat `[Float]` buffers; the optimizer keeps `m` and `v` of the
/// same size and allocates nothing per step.
public struct AdamW: Sendable {
    /// How the learning rate changes over the steps.
    public enum Decay: String, Codable, Sendable, CaseIterable {
        /// The peak rate after warm-up.
        case constant
        /// Cosine from the peak rate (after warm-up) down to `minimumFraction × peak` at `totalSteps`.
        case cosine
    }

    /// Optimizer settings.
    public struct Configuration: Codable, Equatable, Sendable {
        /// Peak learning rate.
        public var learningRate: Double
        /// First-moment decay.
        public var beta1: Double
        /// Second-moment decay.
        public var beta2: Double
        /// Added to `√v̂`.
        public var epsilon: Double
        /// Decoupled weight decay `λ` (applied to the decayed ranges only).
        public var weightDecay: Double
        /// Steps of linear warm-up from `peak / warmupSteps` to the peak (0 = none).
        public var warmupSteps: Int
        /// What follows the warm-up.
        public var decay: Decay
        /// For ``Decay/cosine``: the final rate as a fraction of the peak.
        public var minimumFraction: Double

        /// Creates settings (PyTorch's defaults for the betas and epsilon).
        public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                    weightDecay: Double = 0, warmupSteps: Int = 0, decay: Decay = .constant, minimumFraction: Double = 0) {
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
            self.warmupSteps = warmupSteps
            self.decay = decay
            self.minimumFraction = minimumFraction
        }
    }

    /// Settings.
    public let configuration: Configuration
    /// Length of the cosine schedule (steps); ignored for ``Decay/constant``.
    public let totalSteps: Int
    /// Index ranges of the parameter buffer that receive weight decay (typically the weight matrices,
    /// not biases or codebooks).
    public let decayedRanges: [Range<Int>]
    /// Steps taken so far.
    public private(set) var step: Int = 0
    /// First moments.
    public private(set) var m: [Float]
    /// Second moments.
    public private(set) var v: [Float]

    /// An optimizer for `parameterCount` values.
    public init(parameterCount: Int, configuration: Configuration, totalSteps: Int, decayedRanges: [Range<Int>]) {
        self.configuration = configuration
        self.totalSteps = totalSteps
        self.decayedRanges = decayedRanges
        self.m = [Float](repeating: 0, count: parameterCount)
        self.v = [Float](repeating: 0, count: parameterCount)
    }

    /// The learning rate used by step `t` (1-based).
    public func learningRate(atStep t: Int) -> Double {
        let c = configuration
        if c.warmupSteps > 0 && t <= c.warmupSteps {
            return c.learningRate * Double(t) / Double(c.warmupSteps)
        }
        switch c.decay {
        case .constant:
            return c.learningRate
        case .cosine:
            let span = max(1, totalSteps - c.warmupSteps)
            let progress = min(1, Double(t - c.warmupSteps) / Double(span))
            let cosine = 0.5 * (1 + Foundation.cos(Double.pi * progress))
            return c.learningRate * (c.minimumFraction + (1 - c.minimumFraction) * cosine)
        }
    }

    /// Applies one step to `parameters` with `gradients` (both `m.count` values).
    public mutating func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>) {
        step += 1
        let c = configuration
        let lr = learningRate(atStep: step)
        let b1 = Float(c.beta1), b2 = Float(c.beta2)
        let correction1 = Float(1 - Foundation.pow(c.beta1, Double(step)))
        let correction2 = Float(1 - Foundation.pow(c.beta2, Double(step)))
        // θ −= lr · m̂ / (√v̂ + ε)  ⇔  θ −= stepSize · m / (√v / √c₂ + ε)
        let stepSize = Float(lr) / correction1
        let invSqrtC2 = 1 / correction2.squareRoot()
        let eps = Float(c.epsilon)
        let decayFactor = Float(1 - lr * c.weightDecay)
        let count = m.count
        let decayed = c.weightDecay != 0 ? decayedRanges : []
        let params = SharedMutablePointer(parameters)
        m.withUnsafeMutableBufferPointer { mb in
            v.withUnsafeMutableBufferPointer { vb in
                let mp = SharedMutablePointer(mb.baseAddress!), vp = SharedMutablePointer(vb.baseAddress!)
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
                    let vEps = SIMD16<Float>(repeating: eps)
                    while i + 16 <= chunk.upperBound {
                        let g = UnsafeRawPointer(gradients + i).loadUnaligned(as: SIMD16<Float>.self)
                        let mi = vb1 * UnsafeRawPointer(mp + i).loadUnaligned(as: SIMD16<Float>.self) + g1 * g
                        let vi = vb2 * UnsafeRawPointer(vp + i).loadUnaligned(as: SIMD16<Float>.self) + g2 * (g * g)
                        UnsafeMutableRawPointer(mp + i).storeBytes(of: mi, as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(vp + i).storeBytes(of: vi, as: SIMD16<Float>.self)
                        let old = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
                        let new = old - vStep * mi / (vi.squareRoot() * vInv + vEps)
                        UnsafeMutableRawPointer(p + i).storeBytes(of: new, as: SIMD16<Float>.self)
                        i += 16
                    }
                    while i < chunk.upperBound {
                        let g = gradients[i]
                        let mi = b1 * mp[i] + (1 - b1) * g
                        let vi = b2 * vp[i] + (1 - b2) * (g * g)
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
    public mutating func resetMoments(_ range: Range<Int>) {
        for i in range { m[i] = 0; v[i] = 0 }
    }
}
