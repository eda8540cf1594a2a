import SemidMath
import SemidNeuralNetwork

extension RQVAE {
    /// Parameters of RQ-VAE training. Every field is recorded in the index manifest
    /// (`parameters.rqvae`), with snake_case keys: `levels` and `codebook_size` when every level
    /// has the same size (the bytes of indexes written before per-level sizes), `levels` and
    /// `codebook_sizes` otherwise.
    public struct Configuration: Codable, Equatable, Sendable {
        /// Codes at each residual level, `K_l` (`levels` = its count).
        public var codebookSizes: [Int]
        /// Residual levels `L`.
        public var levels: Int { codebookSizes.count }
        /// Latent dimension `m` (`--latent-dim`).
        public var latentDimension: Int = 32
        /// Encoder hidden widths, input side first; the decoder mirrors them (`--hidden`).
        public var hidden: [Int] = [512, 256, 128]
        /// Maximum passes over the data (`--epochs`).
        public var epochs: Int = 100
        /// Rows per optimizer step (`--batch`).
        public var batchSize: Int = 1024
        /// AdamW settings and learning-rate schedule (`--lr`, `--weight-decay`, `--warmup-steps`, `--lr-decay`).
        public var optimizer = Optimizer(learningRate: 1e-3, weightDecay: 1e-4, warmupSteps: 50,
                                         decay: .cosine, minimumFraction: 0.1)
        /// Commitment weight β (`--beta`).
        public var beta: Double = 0.25
        /// A code unused for this many consecutive steps is re-seeded from a high-error latent
        /// (`--dead-code-steps`); `nil` = one epoch's worth of steps; 0 = never.
        public var deadCodeSteps: Int? = nil
        /// No re-seeding in the last this-many epochs, so the final codebooks settle
        /// (`--dead-code-stop-epochs`).
        public var deadCodeStopEpochs: Int = 2
        /// The codebooks are initialised by k-means on the latents of this many items per code
        /// (`--init-samples-per-code`; 0 = all items). The reference uses its first batch (4 per code at
        /// K = 256); most initial codes are re-seeded anyway once the encoder moves.
        public var initSamplesPerCode: Int = 16
        /// Exact evaluation on all items (collision rate, utilisation, reconstruction) every this many
        /// epochs, and always after the last (`--eval-every`).
        public var evaluateEvery: Int = 5
        /// Stop after this many evaluations in a row that did not change the selected checkpoint
        /// (`--patience`; 0 = run all epochs).
        public var patience: Int = 0
        /// Checkpoint rule: among evaluations whose relative reconstruction MSE is within this
        /// fraction of the best one, keep the lowest raw collision rate (`--checkpoint-tolerance`).
        public var checkpointTolerance: Double = 0.05
        /// Arithmetic of the dense layers' matrix products during training (`--precision`).
        public var precision: Precision = .auto

        /// How training multiplies matrices. Inference (encoding, evaluations, the stored codes) is
        /// always fp32.
        public enum Precision: String, Codable, Sendable, CaseIterable {
            /// bfloat16 on Intel AMX when the CPU and OS allow it, fp32 otherwise.
            case auto
            /// fp32 OpenBLAS `sgemm`.
            case fp32
            /// bfloat16 inputs with fp32 accumulation on Intel AMX tiles (an error where unavailable).
            case bf16
        }

        /// A configuration with the defaults above and one size per level.
        public init(codebookSizes: [Int]) {
            self.codebookSizes = codebookSizes
        }

        /// A configuration with the defaults above: `levels` levels of `codebookSize` codes.
        public init(levels: Int, codebookSize: Int) {
            self.codebookSizes = Array(repeating: codebookSize, count: Swift.max(0, levels))
        }

        enum CodingKeys: String, CodingKey {
            case levels, codebookSize, codebookSizes, latentDimension, hidden, epochs, batchSize, optimizer, beta,
                 deadCodeSteps, deadCodeStopEpochs, initSamplesPerCode, evaluateEvery, patience, checkpointTolerance, precision
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            codebookSizes = try CodebookSizes.decode(from: c, levels: .levels, size: .codebookSize, sizes: .codebookSizes)
            latentDimension = try c.decode(Int.self, forKey: .latentDimension)
            hidden = try c.decode([Int].self, forKey: .hidden)
            epochs = try c.decode(Int.self, forKey: .epochs)
            batchSize = try c.decode(Int.self, forKey: .batchSize)
            optimizer = try c.decode(Optimizer.self, forKey: .optimizer)
            beta = try c.decode(Double.self, forKey: .beta)
            deadCodeSteps = try c.decodeIfPresent(Int.self, forKey: .deadCodeSteps)
            deadCodeStopEpochs = try c.decode(Int.self, forKey: .deadCodeStopEpochs)
            initSamplesPerCode = try c.decode(Int.self, forKey: .initSamplesPerCode)
            evaluateEvery = try c.decode(Int.self, forKey: .evaluateEvery)
            patience = try c.decode(Int.self, forKey: .patience)
            checkpointTolerance = try c.decode(Double.self, forKey: .checkpointTolerance)
            precision = try c.decode(Precision.self, forKey: .precision)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try CodebookSizes.encode(codebookSizes, to: &c, levels: .levels, size: .codebookSize, sizes: .codebookSizes)
            try c.encode(latentDimension, forKey: .latentDimension)
            try c.encode(hidden, forKey: .hidden)
            try c.encode(epochs, forKey: .epochs)
            try c.encode(batchSize, forKey: .batchSize)
            try c.encode(optimizer, forKey: .optimizer)
            try c.encode(beta, forKey: .beta)
            try c.encodeIfPresent(deadCodeSteps, forKey: .deadCodeSteps)
            try c.encode(deadCodeStopEpochs, forKey: .deadCodeStopEpochs)
            try c.encode(initSamplesPerCode, forKey: .initSamplesPerCode)
            try c.encode(evaluateEvery, forKey: .evaluateEvery)
            try c.encode(patience, forKey: .patience)
            try c.encode(checkpointTolerance, forKey: .checkpointTolerance)
            try c.encode(precision, forKey: .precision)
        }

        /// The steps in one epoch over `items` rows.
        public func stepsPerEpoch(items: Int) -> Int { (items + batchSize - 1) / max(1, batchSize) }

        /// Throws ``QuantizationError/invalidParameter(name:value:expected:)`` (named by the
        /// property, e.g. `latentDimension` or `optimizer.learningRate`) for out-of-range values.
        public func validate(items: Int, dimension: Int) throws {
            func bad(_ name: String, _ value: Any, _ expected: String) -> QuantizationError {
                .invalidParameter(name: name, value: "\(value)", expected: expected)
            }
            try ResidualKMeans.Configuration.validate(codebookSizes: codebookSizes, items: items)
            if dimension < 1 { throw bad("dimension", dimension, "at least 1") }
            if latentDimension < 1 || latentDimension > 4096 { throw bad("latentDimension", latentDimension, "1 to 4096") }
            if hidden.contains(where: { $0 < 1 || $0 > 65_536 }) {
                throw bad("hidden", hidden.map(String.init).joined(separator: ","), "widths from 1 to 65536")
            }
            if epochs < 1 { throw bad("epochs", epochs, "at least 1") }
            if batchSize < 1 { throw bad("batchSize", batchSize, "at least 1") }
            let o = optimizer
            if !(o.learningRate > 0 && o.learningRate.isFinite) { throw bad("optimizer.learningRate", o.learningRate, "a positive number") }
            if !(o.weightDecay >= 0 && o.weightDecay.isFinite) { throw bad("optimizer.weightDecay", o.weightDecay, "0 or more") }
            if o.warmupSteps < 0 { throw bad("optimizer.warmupSteps", o.warmupSteps, "0 or more") }
            if !(o.beta1 >= 0 && o.beta1 < 1) { throw bad("adam beta1", o.beta1, "in [0, 1)") }
            if !(o.beta2 >= 0 && o.beta2 < 1) { throw bad("adam beta2", o.beta2, "in [0, 1)") }
            if !(o.epsilon > 0) { throw bad("adam epsilon", o.epsilon, "a positive number") }
            if !(o.minimumFraction >= 0 && o.minimumFraction <= 1) { throw bad("optimizer.minimumFraction", o.minimumFraction, "in [0, 1]") }
            if o.decay == .linear { throw bad("optimizer.decay", o.decay.rawValue, "cosine or constant") }
            if !(beta >= 0 && beta.isFinite) { throw bad("beta", beta, "0 or more") }
            if let s = deadCodeSteps, s < 0 { throw bad("deadCodeSteps", s, "0 (never) or more") }
            if deadCodeStopEpochs < 0 { throw bad("deadCodeStopEpochs", deadCodeStopEpochs, "0 or more") }
            if initSamplesPerCode < 0 { throw bad("initSamplesPerCode", initSamplesPerCode, "0 (all) or more") }
            if evaluateEvery < 1 { throw bad("evaluateEvery", evaluateEvery, "at least 1") }
            if patience < 0 { throw bad("patience", patience, "0 (off) or more") }
            if !(checkpointTolerance >= 0 && checkpointTolerance.isFinite) {
                throw bad("checkpointTolerance", checkpointTolerance, "0 or more")
            }
        }
    }

    /// What training did, recorded in the manifest as `statistics.rqvae`.
    public struct Report: Codable, Equatable, Sendable {
        /// The checkpoint rule, in words.
        public var selectionRule: String
        /// The arithmetic training used: `"bf16-amx"` or `"fp32"`.
        public var precision: String
        /// Epochs run (fewer than configured when `patience` stopped training).
        public var epochsRun: Int
        /// Optimizer steps taken.
        public var steps: Int
        /// Whether `patience` stopped training early.
        public var stoppedEarly: Bool
        /// The epoch whose parameters were kept.
        public var selectedEpoch: Int
        /// Trainable parameters.
        public var parameterCount: Int
        /// Codes re-seeded, per level, over the whole training.
        public var deadCodeResets: [Int]
        /// One entry per epoch.
        public var history: [Epoch]
        /// The kept checkpoint evaluated in fp32 — the pass that produced the index's raw codes.
        /// (History evaluations use the training arithmetic, so with bf16 they can differ slightly.)
        public var final: Evaluation

        /// One epoch's figures. Loss parts are means over the epoch's batches.
        public struct Epoch: Codable, Equatable, Sendable {
            /// 1-based epoch number.
            public var epoch: Int
            /// Learning rate of the epoch's last step.
            public var learningRate: Double
            /// Reconstruction MSE (mean over the batch and the `d` input values).
            public var reconstruction: Double
            /// Codebook loss `(1/L)·Σ_l mean (c_l − sg(r_l))²`.
            public var codebook: Double
            /// Commitment loss `β·(1/L)·Σ_l mean (r_l − sg(c_l))²`.
            public var commitment: Double
            /// Codes re-seeded during the epoch, all levels.
            public var resets: Int
            /// Per level, the fraction of codes used by the epoch's batches (codes change during the epoch).
            public var trainingUtilization: [Double]
            /// Raw collision rate of the codes the batches got during the epoch (an estimate: the
            /// weights change between batches).
            public var trainingCollisionRate: Double
            /// Figures on all items with the weights at the end of the epoch, every `evaluate_every`
            /// epochs, computed in the training arithmetic.
            public var evaluation: Evaluation?
        }

        /// Figures from an exact pass over all items.
        public struct Evaluation: Codable, Equatable, Sendable {
            /// `mean ‖x − decoder(zq)‖² / mean ‖x − μ‖²`.
            public var relativeMse: Double
            /// `(items − distinct raw IDs) / items`.
            public var collisionRate: Double
            /// Per level: fraction of codes used.
            public var utilization: [Double]
            /// Per level: `exp(entropy)` of code usage.
            public var perplexity: [Double]
            /// Per level: mean squared latent residual after the level over the latents' variance.
            public var latentResidualFraction: [Double]
        }
    }
}
