import Foundation

/// How the learning rate evolves over the optimizer steps: linear warm-up, then a constant rate
/// or a linear or cosine decay to a floor.
///
/// At (1-based) step `t` with `w` warm-up steps and `T` total steps, `p = min(1, (t − w)/max(1, T − w))`:
/// ```
/// t ≤ w      peak · t / w
/// constant   peak
/// linear     peak · (1 − (1 − floor)·p)
/// cosine     peak · (floor + (1 − floor) · ½(1 + cos πp))
/// ```
/// Used by both trainers (RQ-VAE and the next-item model); O(1) per step.
public struct LearningRateSchedule: Codable, Sendable, Equatable {
    /// What follows the warm-up.
    public enum Decay: String, Codable, Sendable, CaseIterable {
        /// The peak rate.
        case constant
        /// Linear from the peak (after warm-up) down to `floor · peak` at `totalSteps`.
        case linear
        /// Cosine from the peak (after warm-up) down to `floor · peak` at `totalSteps`.
        case cosine
    }

    /// The peak learning rate.
    public var peak: Double
    /// Steps of linear warm-up from `peak / warmupSteps` to `peak` (0 = none).
    public var warmupSteps: Int
    /// The step at which the decay reaches `floor · peak` (ignored for ``Decay/constant``).
    public var totalSteps: Int
    /// The decay after warm-up.
    public var decay: Decay
    /// The final fraction of `peak` for ``Decay/linear`` and ``Decay/cosine``.
    public var floor: Double

    /// Creates a schedule.
    public init(peak: Double, warmupSteps: Int, totalSteps: Int, decay: Decay = .constant, floor: Double = 0.1) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.decay = decay
        self.floor = floor
    }

    /// The learning rate of (1-based) step `step`.
    public func rate(at step: Int) -> Double {
        if warmupSteps > 0 && step <= warmupSteps { return peak * Double(step) / Double(warmupSteps) }
        let span = Double(max(1, totalSteps - warmupSteps))
        let progress = min(1, Double(step - warmupSteps) / span)
        switch decay {
        case .constant: return peak
        case .linear: return peak * (1 - (1 - floor) * progress)
        case .cosine:
            let cosine = 0.5 * (1 + Foundation.cos(Double.pi * progress))
            return peak * (floor + (1 - floor) * cosine)
        }
    }
}
