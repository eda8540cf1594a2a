import Dispatch
import Foundation
import SemidDecoding
import SemidEvaluation
import SemidIndex
import SemidMath
import SemidNeuralNetwork

/// How to train: optimiser, schedule, batching, early stopping.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    /// Maximum passes over the training sequences.
    public var epochs = 200
    /// Sequences per batch (every position of each is a training target).
    public var batchSize = 128
    /// Peak learning rate.
    public var learningRate = 1e-3
    /// Linear warm-up steps.
    public var warmupSteps = 300
    /// Decay after warm-up (over `epochs` worth of steps).
    public var decay: LearningRateSchedule.Decay = .constant
    /// AdamW settings (β, ε, decoupled weight decay, clipping norm).
    public var optimizer = AdamW.Configuration(beta2: 0.98, clipNorm: 1)
    /// Stop after this many validations without a better NDCG@10 (0 = never stop early).
    public var patience = 8
    /// Validate every this many epochs.
    public var validateEvery = 1
    /// Validate on at most this many users, spread evenly (0 = all).
    public var validationUsers = 0
    /// Stop training after this many seconds (0 = no limit); the best model so far is kept.
    public var timeLimit: Double = 0
    /// The seed of initialisation, shuffling and dropout.
    public var seed: UInt64 = 0
    /// Which user IDs training shows a model with user tokens (see ``UserIDTraining``).
    public var userIDSource: UserIDTraining = .causal

    /// Which user IDs a model with user tokens reads during training.
    ///
    /// A stored user ID summarises the user's whole training history, and teacher forcing
    /// predicts every item of that history, so reading it in training shows the model the
    /// targets; at test time it only describes the past, and the model over-trusts it.
    public enum UserIDTraining: String, Codable, Sendable, CaseIterable {
        /// For every sequence and epoch a cut `c` is drawn uniformly from `1…n−1`; the user ID is
        /// encoded from the first `c` items with the frozen user quantizer (``UserIDEncoder``)
        /// and only positions predicting items after them see it. Needs the encoder's inputs.
        case causal
        /// Every position reads the stored user ID (leaks the targets; kept for comparison).
        case stored
    }

    /// The defaults.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case epochs, batchSize, learningRate, warmupSteps, decay, optimizer, patience, validateEvery, validationUsers,
             timeLimit, seed
        // Spelled so that snake-case conversion round-trips (`user_id_source`).
        case userIDSource = "userIdSource"
    }

    /// Decodes settings; keys missing from older manifests take their defaults, except `userIDSource`,
    /// which is `stored` for models trained before causal user IDs existed.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingConfiguration()
        epochs = try c.decode(.epochs, default: d.epochs)
        batchSize = try c.decode(.batchSize, default: d.batchSize)
        learningRate = try c.decode(.learningRate, default: d.learningRate)
        warmupSteps = try c.decode(.warmupSteps, default: d.warmupSteps)
        decay = try c.decode(.decay, default: d.decay)
        optimizer = try c.decode(.optimizer, default: d.optimizer)
        patience = try c.decode(.patience, default: d.patience)
        validateEvery = try c.decode(.validateEvery, default: d.validateEvery)
        validationUsers = try c.decode(.validationUsers, default: d.validationUsers)
        timeLimit = try c.decode(.timeLimit, default: d.timeLimit)
        seed = try c.decode(.seed, default: d.seed)
        userIDSource = try c.decode(.userIDSource, default: UserIDTraining.stored)
    }

    /// Throws ``ModelError/invalidParameter(name:value:expected:)`` for the first setting out of
    /// range, naming its property (e.g. `learningRate`).
    public func validate() throws {
        func bad(_ name: String, _ value: Any, _ expected: String) -> ModelError {
            .invalidParameter(name: name, value: "\(value)", expected: expected)
        }
        guard epochs >= 1 else { throw bad("epochs", epochs, "at least 1") }
        guard batchSize >= 1 else { throw bad("batchSize", batchSize, "at least 1") }
        guard learningRate > 0, learningRate.isFinite else { throw bad("learningRate", learningRate, "positive") }
        guard warmupSteps >= 0 else { throw bad("warmupSteps", warmupSteps, "0 or more") }
        guard optimizer.weightDecay >= 0 else { throw bad("optimizer.weightDecay", optimizer.weightDecay, "0 or more") }
        guard optimizer.clipNorm >= 0 else { throw bad("optimizer.clipNorm", optimizer.clipNorm, "0 or more") }
        guard patience >= 0 else { throw bad("patience", patience, "0 or more") }
        guard validateEvery >= 1 else { throw bad("validateEvery", validateEvery, "at least 1") }
        guard validationUsers >= 0 else { throw bad("validationUsers", validationUsers, "0 or more") }
        guard timeLimit >= 0 else { throw bad("timeLimit", timeLimit, "0 or more (seconds)") }
    }
}

/// One epoch's figures.
public struct EpochReport: Sendable, Codable {
    /// 1-based epoch.
    public var epoch: Int
    /// Mean training loss of the items head (0 without it).
    public var itemLoss: Double
    /// Mean training loss of the code head, summed over levels (0 without it).
    public var codeLoss: Double
    /// Validation metrics of this epoch, when it was validated.
    public var validation: ValidationMetrics?
    /// Seconds per phase of this epoch's training steps.
    public var timers: PhaseTimers
    /// Seconds of the whole epoch's training steps (≥ the sum of the phases: batching and
    /// bookkeeping are the rest).
    public var trainSeconds: Double
    /// Seconds of validation.
    public var validationSeconds: Double
    /// Learning rate at the end of the epoch.
    public var learningRate: Double
    /// Whether this epoch is the best so far.
    public var best: Bool
}

/// Validation figures used for model selection.
public struct ValidationMetrics: Sendable, Codable, Equatable {
    /// Recall@5, mean over users, in [0, 1].
    public var recall5: Double
    /// NDCG@5, mean over users, in [0, 1].
    public var ndcg5: Double
    /// Recall@10, mean over users, in [0, 1].
    public var recall10: Double
    /// NDCG@10, mean over users, in [0, 1] (the model-selection criterion).
    public var ndcg10: Double
    /// Users evaluated.
    public var users: Int
    /// How the ranking was obtained: `"exact"` (the model's scores for every item) or `"generated"`.
    public var method: String
}

/// What a training run did.
public struct TrainingReport: Sendable, Codable {
    /// Per-epoch figures.
    public var epochs: [EpochReport]
    /// The epoch whose weights were kept.
    public var bestEpoch: Int
    /// Its validation figures.
    public var bestValidation: ValidationMetrics?
    /// Why training ended: `"epochs"`, `"early-stopping"` or `"time-limit"`.
    public var stopReason: String
    /// Total wall-clock seconds (training and validation).
    public var seconds: Double
    /// Training sequences per epoch.
    public var sequences: Int
    /// Target positions per epoch (each sequence's length − 1, at most `maxHistory`, summed).
    public var targets: Int
    /// Summed phase timers over all epochs.
    public var timers: PhaseTimers
    /// The BLAS kernel and threads.
    public var blas: String
}

/// Trains a ``NextItemModel`` on a leave-one-out split with AdamW, warm-up, dropout, gradient
/// clipping and early stopping on validation NDCG@10.
public enum ModelTrainer {
    /// Trains `model` in place on `split.training`; validates on `split.validation`.
    ///
    /// - Parameters:
    ///   - trie: used to validate by generation when the model has no items head.
    ///   - users: the users' semantic IDs; required when the model reads user tokens (every
    ///     user of `split` must have one), ignored otherwise. Validation reads them.
    ///   - userEncoder: encodes user IDs from history prefixes; required when the model reads
    ///     user tokens and `configuration.userIDSource` is ``TrainingConfiguration/UserIDTraining/causal``.
    ///   - onEpoch: called after every epoch (for progress lines).
    /// - Returns: the report; `model` holds the best validated weights.
    ///
    /// OpenBLAS's `sgemm` gives different last bits with a different number of threads, so training
    /// always runs BLAS with exactly ``blasThreads`` threads (whatever `OPENBLAS_NUM_THREADS` says)
    /// and splits its own parallel work into fixed parts: the same data, seed and settings give
    /// bit-identical weights for any thread setting and core count on one BLAS kernel (the kernel
    /// itself still changes the last bits).
    public static func train(
        _ model: NextItemModel, split: LeaveOneOutSplit, trie: CodeTrie, configuration: TrainingConfiguration,
        users: UserCodes? = nil, userEncoder: UserIDEncoder? = nil, onEpoch: ((EpochReport) -> Void)? = nil
    ) throws -> TrainingReport {
        try BLASRuntime.withThreadCount(blasThreads) {
            try trainWithFixedThreads(model, split: split, trie: trie, configuration: configuration, users: users,
                                      userEncoder: userEncoder, onEpoch: onEpoch)
        }
    }

    /// The BLAS thread count of every training run (see ``train(_:split:trie:configuration:users:userEncoder:onEpoch:)``).
    public static let blasThreads = 2

    static func trainWithFixedThreads(
        _ model: NextItemModel, split: LeaveOneOutSplit, trie: CodeTrie, configuration: TrainingConfiguration,
        users: UserCodes?, userEncoder: UserIDEncoder?, onEpoch: ((EpochReport) -> Void)?
    ) throws -> TrainingReport {
        try configuration.validate()
        let started = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
        let kept = split.training.indices.filter { split.training[$0].count >= 2 }
        let sequences = kept.map { split.training[$0] }
        guard !sequences.isEmpty else {
            throw ModelError.noTrainingData("no user has at least 2 training items (sequences need 4 or more items for leave-one-out training)")
        }
        var sequenceUsers: [[Int32]]?
        let userOfSequence = kept.map { split.trainingUsers[$0] }
        var encoder: UserIDEncoder?
        if model.configuration.userTokens {
            guard let users else {
                throw ModelError.inconsistentInput("the model reads user tokens but no user IDs were given; run `semid users INDEX --sequences FILE` first")
            }
            sequenceUsers = try users.ids(of: userOfSequence)
            _ = try users.ids(of: split.validation.map(\.user))
            if configuration.userIDSource == .causal {
                guard let userEncoder else {
                    throw ModelError.inconsistentInput("causal user IDs need the item vectors the user IDs were built from (and their user embeddings, if any); give them, or train with --user-id-training stored")
                }
                guard model.configuration.userCodeSizes.count <= userEncoder.levels else {
                    throw ModelError.invalidConfiguration("with causal user IDs the model can read at most the user quantizer's \(userEncoder.levels) positions (a collision suffix cannot be encoded); got --user-token-levels \(model.configuration.userCodeSizes.count)")
                }
                // Fail now rather than epochs later when a random cut first reaches the item.
                if let item = sequences.lazy.flatMap({ $0 }).first(where: { Int($0) >= userEncoder.itemVectors.rows }) {
                    throw ModelError.inconsistentInput("causal user IDs: training item \(item) is outside the \(userEncoder.itemVectors.rows) item vectors the user IDs were built from")
                }
                encoder = userEncoder
            }
        }
        let targets = sequences.reduce(0) { $0 + min($1.count - 1, model.configuration.maxHistory) }
        var validationCases = split.validation
        if configuration.validationUsers > 0 && configuration.validationUsers < validationCases.count {
            let step = Double(validationCases.count) / Double(configuration.validationUsers)
            validationCases = (0..<configuration.validationUsers).map { validationCases[Int(Double($0) * step)] }
        }
        let stepsPerEpoch = (sequences.count + configuration.batchSize - 1) / configuration.batchSize
        let schedule = LearningRateSchedule(peak: configuration.learningRate, warmupSteps: configuration.warmupSteps,
                                            totalSteps: stepsPerEpoch * configuration.epochs, decay: configuration.decay)
        var optimizer = AdamW(for: model.parameters, configuration: configuration.optimizer, rounding: .scaleFirst)
        let ws = ModelWorkspace(configuration: model.configuration, itemCount: model.itemCount)
        let root = SeededGenerator(seed: configuration.seed)
        var dropoutRNG = root.derived(2)
        var cutRNG = root.derived(3)
        var reports: [EpochReport] = []
        var best: (epoch: Int, ndcg: Double, snapshot: [Float], metrics: ValidationMetrics?) = (0, -1, model.parameters.snapshot(), nil)
        var sinceBest = 0
        var stopReason = "epochs"
        var totalTimers = PhaseTimers()
        var step = 0
        var order = Array(sequences.indices)
        epochs: for epoch in 1...configuration.epochs {
            let epochStart = DispatchTime.now().uptimeNanoseconds
            var shuffler = root.derived(1000 + UInt64(epoch))
            shuffler.shuffle(&order)
            ws.resetTimers()
            var itemLoss = 0.0, codeLoss = 0.0, weightSum = 0.0
            var lr = 0.0
            var start = 0
            while start < order.count {
                let end = min(order.count, start + configuration.batchSize)
                let picked = order[start..<end]
                let batch: TrainingBatch
                if let encoder {
                    let cuts = picked.map { 1 + cutRNG.nextInt(below: sequences[$0].count - 1) }
                    let codes = try encoder.encode(zip(picked, cuts).map { (user: userOfSequence[$0], items: sequences[$0].prefix($1)) })
                    batch = model.teacherForcingBatch(picked.map { sequences[$0][...] },
                                                      users: (0..<picked.count).map { Array(codes.row($0)) }, userIDItems: cuts)
                } else {
                    batch = model.teacherForcingBatch(picked.map { sequences[$0][...] },
                                                      users: sequenceUsers.map { u in picked.map { u[$0] } })
                }
                start = end
                let loss = model.computeGradients(batch, workspace: ws, generator: &dropoutRNG)
                step += 1
                lr = schedule.rate(at: step)
                let t0 = DispatchTime.now().uptimeNanoseconds
                optimizer.update(model.parameters, learningRate: lr)
                ws.timers.optimizer += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                let w = Double(loss.targets)
                itemLoss += loss.items * w
                codeLoss += loss.codes * w
                weightSum += w
                if !(loss.items.isFinite && loss.codes.isFinite) {
                    throw ModelError.invalidConfiguration("training diverged at epoch \(epoch) (loss is not finite); try a lower --lr")
                }
            }
            let trainSeconds = Double(DispatchTime.now().uptimeNanoseconds - epochStart) / 1e9
            totalTimers = totalTimers + ws.timers
            var report = EpochReport(epoch: epoch, itemLoss: itemLoss / max(1, weightSum), codeLoss: codeLoss / max(1, weightSum),
                                     validation: nil, timers: ws.timers, trainSeconds: trainSeconds, validationSeconds: 0,
                                     learningRate: lr, best: false)
            let timeUp = configuration.timeLimit > 0 && elapsed() >= configuration.timeLimit
            if epoch % configuration.validateEvery == 0 || epoch == configuration.epochs || timeUp {
                let v0 = DispatchTime.now().uptimeNanoseconds
                model.composeItemVectors()
                let metrics = try validate(model, cases: validationCases, trie: trie, users: users)
                report.validation = metrics
                report.validationSeconds = Double(DispatchTime.now().uptimeNanoseconds - v0) / 1e9
                if metrics.ndcg10 > best.ndcg {
                    best = (epoch, metrics.ndcg10, model.parameters.snapshot(), metrics)
                    report.best = true
                    sinceBest = 0
                } else {
                    sinceBest += 1
                }
            }
            reports.append(report)
            onEpoch?(report)
            if timeUp { stopReason = "time-limit"; break epochs }
            if configuration.patience > 0 && sinceBest >= configuration.patience { stopReason = "early-stopping"; break epochs }
        }
        model.parameters.restore(best.snapshot)
        model.composeItemVectors()
        return TrainingReport(epochs: reports, bestEpoch: best.epoch, bestValidation: best.metrics, stopReason: stopReason,
                              seconds: elapsed(), sequences: sequences.count, targets: targets, timers: totalTimers,
                              blas: "\(BLASRuntime.version), core \(BLASRuntime.coreName)")
    }

    /// Validation NDCG/Recall: the exact full ranking of the items head's scores for the items
    /// head (what its generation approximates to within the beam), else generation (beam 20)
    /// with the scorer that decoding will use.
    ///
    /// `users` gives the cases' users their IDs when the model reads user tokens (a user without
    /// one is an error); `nil` = every user unknown (the zero user vector).
    public static func validate(_ model: NextItemModel, cases: [EvaluationCase], trie: CodeTrie,
                                users: UserCodes? = nil) throws -> ValidationMetrics {
        if model.configuration.head == .items {
            let m = try exactRanking(model, cases: cases, cutoffs: [5, 10], users: users)
            return ValidationMetrics(recall5: m.recall(at: 5), ndcg5: m.ndcg(at: 5), recall10: m.recall(at: 10),
                                     ndcg10: m.ndcg(at: 10), users: m.users, method: "exact")
        }
        let scorer = try ModelScorer(model: model, trie: trie, users: try caseUsers(model, cases: cases, users: users))
        let r = try GenerativeEvaluation.evaluate(cases, scorer: scorer, trie: trie, settings: EvaluationSettings())
        let m = r.metrics
        return ValidationMetrics(recall5: m.recall(at: 5), ndcg5: m.ndcg(at: 5), recall10: m.recall(at: 10),
                                 ndcg10: m.ndcg(at: 10), users: m.users, method: "generated")
    }

    /// The user ID of every case's user when the model reads user tokens and `users` is given
    /// (a user without an ID is an error), else `nil`.
    public static func caseUsers(_ model: NextItemModel, cases: [EvaluationCase], users: UserCodes?) throws -> [[Int32]?]? {
        guard model.configuration.userTokens, let users else { return nil }
        return try users.ids(of: cases.map(\.user))
    }

    /// Metrics of the items head's exact ranking of all items (rank = number of items scored
    /// strictly higher than the target), optionally excluding history items. `users` as in
    /// ``validate(_:cases:trie:users:)``.
    public static func exactRanking(_ model: NextItemModel, cases: [EvaluationCase], cutoffs: [Int],
                                    excludeHistory: Bool = false, users: UserCodes? = nil) throws -> RankingMetrics {
        let perCase = try caseUsers(model, cases: cases, users: users)
        let n = model.itemCount
        let block = 1024
        var metrics = RankingMetrics(cutoffs: cutoffs)
        let ws = ModelWorkspace(configuration: model.configuration, itemCount: n, logitRows: 1)
        var scores = [Float](repeating: 0, count: block * n)
        var ranks = [Int](repeating: 0, count: block)
        var start = 0
        while start < cases.count {
            let end = min(cases.count, start + block)
            let chunk = cases[start..<end]
            let states = model.userStates(chunk.map(\.history), users: perCase.map { Array($0[start..<end]) }, workspace: ws)
            let m = chunk.count
            states.withUnsafeBufferPointer { s in
                scores.withUnsafeMutableBufferPointer { out in
                    model.itemScores(states: s.baseAddress!, count: m, into: out.baseAddress!)
                }
            }
            scores.withUnsafeBufferPointer { sBuf in
                ranks.withUnsafeMutableBufferPointer { rBuf in
                    let sp = sBuf.baseAddress!, rp = SharedMutablePointer(rBuf.baseAddress!)
                    Parallel.forEachChunk(count: m, minimumChunk: 16) { range in
                        for i in range {
                            let c = chunk[chunk.startIndex + i]
                            let row = sp + i * n
                            let t = row[Int(c.target)]
                            var above = 0
                            for j in 0..<n where row[j] > t { above += 1 }
                            if excludeHistory {
                                for h in Set(c.history) where h != c.target && row[Int(h)] > t { above -= 1 }
                            }
                            rp.pointer[i] = above
                        }
                    }
                }
            }
            for i in 0..<m { metrics.add(rank: ranks[i]) }
            start = end
        }
        return metrics
    }
}
