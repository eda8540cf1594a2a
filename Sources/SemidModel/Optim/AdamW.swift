import Foundation

/// How the learning rate evolves: linear warm-up from 0, then constant, linear or cosine decay.
public struct LearningRateSchedule: Codable, Sendable, Equatable {
    /// What follows the warm-up.
    public enum Decay: String, Codable, Sendable, CaseIterable {
        case constant, linear, cosine
    }

    /// The peak learning rate.
    public var peak: Double
    /// Steps of linear warm-up from `peak/warmupSteps` to `peak`.
    public var warmupSteps: Int
    /// The step at which decay reaches `floor·peak` (ignored for `constant`).
    public var totalSteps: Int
    /// The decay after warm-up.
    public var decay: Decay
    /// The final fraction of `peak` for `linear` and `cosine`.
    public var floor: Double

    /// Creates a schedule.
    public init(peak: Double, warmupSteps: Int, totalSteps: Int, decay: Decay = .constant, floor: Double = 0.1) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.decay = decay
        self.floor = floor
    }

    /// The learning rate at (1-based) step `step`.
    public func rate(at step: Int) -> Double {
        if step <= warmupSteps { return peak * Double(step) / Double(max(1, warmupSteps)) }
        let span = Double(max(1, totalSteps - warmupSteps))
        let progress = min(1, Double(step - warmupSteps) / span)
        switch decay {
        case .constant: return peak
        case .linear: return peak * (1 - (1 - floor) * progress)
        case .cosine: return peak * (floor + (1 - floor) * 0.5 * (1 + cos(Double.pi * progress)))
        }
    }
}

/// AdamW (Loshchilov & Hutter: Adam with decoupled weight decay) with global-norm gradient
/// clipping, over a ``ParameterSet``'s flat buffers.
public final class AdamW: @unchecked Sendable {
    /// Settings.
    public struct Configuration: Codable, Sendable, Equatable {
        /// Decay rate of the first-moment (mean) estimate.
        public var beta1: Double = 0.9
        /// Decay rate of the second-moment (uncentred variance) estimate.
        public var beta2: Double = 0.98
        /// Added to `sqrt(v̂)` in the update's denominator.
        public var epsilon: Double = 1e-8
        /// Decoupled weight decay per step, `p -= lr·weightDecay·p`, on tensors marked for decay.
        public var weightDecay: Double = 0
        /// Clip the global gradient norm to this value (0 = no clipping).
        public var clipNorm: Double = 1
        /// The defaults.
        public init() {}
    }

    /// Settings.
    public let configuration: Configuration
    /// Steps taken.
    public private(set) var step = 0
    let m: FloatBuffer
    let v: FloatBuffer

    /// An optimiser for `parameters` (moments start at zero).
    public init(parameters: ParameterSet, configuration: Configuration) {
        self.configuration = configuration
        m = FloatBuffer(count: parameters.count)
        v = FloatBuffer(count: parameters.count)
    }

    /// What one step did.
    public struct StepReport: Sendable {
        /// The gradient norm before clipping.
        public var gradientNorm: Double
        /// Whether the gradients were scaled down.
        public var clipped: Bool
    }

    /// Updates `parameters` from their gradients at learning rate `learningRate`.
    @discardableResult
    public func update(_ parameters: ParameterSet, learningRate: Double) -> StepReport {
        step += 1
        let c = configuration
        let norm = parameters.gradientNorm()
        var gradScale: Float = 1
        var clipped = false
        if c.clipNorm > 0, norm > c.clipNorm {
            gradScale = Float(c.clipNorm / norm)
            clipped = true
        }
        let b1 = Float(c.beta1), b2 = Float(c.beta2)
        let correction1 = Float(1 - pow(c.beta1, Double(step)))
        let correction2 = Float(1 - pow(c.beta2, Double(step)))
        let lr = Float(learningRate)
        let stepSize = lr / correction1
        let invSqrtC2 = 1 / correction2.squareRoot()
        let eps = Float(c.epsilon)
        let p = parameters.values.pointer, g = parameters.gradients.pointer
        let mp = m.pointer, vp = v.pointer
        for entry in parameters.entries {
            let decayFactor: Float = entry.decay ? 1 - lr * Float(c.weightDecay) : 1
            let lo = entry.offset, hi = entry.offset + entry.count
            for i in lo..<hi {
                let gi = g[i] * gradScale
                let mi = b1 * mp[i] + (1 - b1) * gi
                let vi = b2 * vp[i] + (1 - b2) * gi * gi
                mp[i] = mi
                vp[i] = vi
                p[i] = p[i] * decayFactor - stepSize * mi / ((vi.squareRoot() * invSqrtC2) + eps)
            }
        }
        return StepReport(gradientNorm: norm, clipped: clipped)
    }
}
