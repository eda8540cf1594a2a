import SemidNeuralNetwork

extension RQVAE.Configuration {
    /// The optimizer settings of RQ-VAE training as the manifest records them
    /// (`parameters.rqvae.optimizer`): ``AdamW`` (no gradient clipping) and its
    /// ``LearningRateSchedule``, in one object whose keys are those of every index built so far.
    public struct Optimizer: Codable, Equatable, Sendable {
        /// Peak learning rate (`--lr`).
        public var learningRate: Double
        /// First-moment decay `β₁`.
        public var beta1: Double
        /// Second-moment decay `β₂`.
        public var beta2: Double
        /// Added to `√v̂`.
        public var epsilon: Double
        /// Decoupled weight decay `λ` on the weight matrices (`--weight-decay`).
        public var weightDecay: Double
        /// Steps of linear warm-up to the peak (`--warmup-steps`; 0 = none).
        public var warmupSteps: Int
        /// What follows the warm-up (`--lr-decay`).
        public var decay: LearningRateSchedule.Decay
        /// The final rate as a fraction of the peak, for a decaying schedule (`--lr-min-fraction`).
        public var minimumFraction: Double

        /// Creates settings (PyTorch's defaults for the betas and epsilon).
        public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                    weightDecay: Double = 0, warmupSteps: Int = 0, decay: LearningRateSchedule.Decay = .constant,
                    minimumFraction: Double = 0) {
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
            self.warmupSteps = warmupSteps
            self.decay = decay
            self.minimumFraction = minimumFraction
        }

        /// The AdamW part.
        public var adamW: AdamW.Configuration {
            AdamW.Configuration(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, clipNorm: 0)
        }

        /// The schedule over `totalSteps` steps.
        public func schedule(totalSteps: Int) -> LearningRateSchedule {
            LearningRateSchedule(peak: learningRate, warmupSteps: warmupSteps, totalSteps: totalSteps, decay: decay,
                                 floor: minimumFraction)
        }
    }
}
