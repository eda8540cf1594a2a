import Foundation

/// What ``Pipeline/evaluate(_:)`` measures: which model, on which split, how.
public struct EvaluationRequest: Sendable {
    /// The index with its model (``Pipeline/open(_:)``).
    public var index: TrainedIndex
    /// The users' histories (the file the model was trained on).
    public var sequences: PipelineInput<[UserSequence]>
    /// The leave-one-out target: test (last item) or valid (second-last).
    public var split: LeaveOneOutSplit.Part = .test
    /// Cut-offs, beam width and whether history items are excluded.
    public var settings = EvaluationSettings()
    /// History length read (`nil`: the model's).
    public var maxHistory: Int?
    /// Also decode the popularity baseline by the same search.
    public var popularityBaseline = true
    /// Also rank all items exactly by the items head's scores (no beam search).
    public var exactRanking = false
    /// Give every user the unknown-user token instead of their ID (models with user tokens).
    public var unknownUsers = false

    /// A request to evaluate `index`'s model on `sequences`.
    public init(index: TrainedIndex, sequences: PipelineInput<[UserSequence]>) {
        self.index = index
        self.sequences = sequences
    }
}

/// What ``Pipeline/evaluate(_:)`` measured: Recall@K and NDCG@K by generation (full ranking).
public struct EvaluationReport: Sendable {
    /// The model, by trie-constrained generation.
    public var model: EvaluationResult
    /// The popularity baseline, when requested.
    public var popularity: EvaluationResult?
    /// The model's exact ranking by its items head, when requested and the model has one.
    public var exactRanking: EvaluationResult?
}

extension Pipeline {
    /// Evaluates a trained model by generation on a leave-one-out split: for each user the top
    /// `max(cutoffs)` items are decoded by trie-constrained beam search.
    ///
    /// Costs one beam search per user (`O(users · levels · beam · scorer call)`), the baseline
    /// one more; the exact ranking `O(users · items · d)`.
    ///
    /// - Throws: ``ModelError/invalidParameter(name:value:expected:)`` for `maxHistory < 1`,
    ///   ``EvaluationError`` for bad ``EvaluationRequest/settings``,
    ///   ``PipelineError/noEvaluationCases(sequences:split:)`` when no user has enough items.
    public static func evaluate(_ request: EvaluationRequest) throws -> EvaluationReport {
        let opened = request.index
        let n = opened.model.itemCount
        let maxHistory = request.maxHistory ?? opened.model.configuration.maxHistory
        // Checked before any split is made: LeaveOneOutSplit and the metrics trap on these.
        guard maxHistory >= 1 else {
            throw ModelError.invalidParameter(name: "maxHistory", value: "\(maxHistory)", expected: "at least 1")
        }
        try request.settings.validate()
        let split: LeaveOneOutSplit
        switch request.sequences {
        case .file(let path): split = try ModelTraining.readSplit(path, itemCount: n, maxHistory: maxHistory)
        case .memory(let value, _): split = LeaveOneOutSplit(sequences: value, maxHistory: maxHistory)
        }
        let cases = split.cases(request.split)
        guard !cases.isEmpty else {
            throw PipelineError.noEvaluationCases(sequences: request.sequences.path ?? "the sequences", split: request.split.rawValue)
        }
        let settings = request.settings
        let model = try opened.evaluate(cases, settings: settings, unknownUsers: request.unknownUsers)
        let baseline = !request.popularityBaseline ? nil : try GenerativeEvaluation.popularity(
            cases, counts: split.itemCounts(before: request.split, itemCount: n), trie: opened.trie, settings: settings)
        var exact: EvaluationResult?
        if request.exactRanking && opened.model.configuration.hasItemHead {
            let t0 = Date()
            let m = try ModelTrainer.exactRanking(opened.model, cases: cases, cutoffs: settings.cutoffs,
                                                  excludeHistory: settings.excludeHistory,
                                                  users: request.unknownUsers ? nil : opened.users)
            exact = EvaluationResult(metrics: m, seconds: Date().timeIntervalSince(t0))
        }
        return EvaluationReport(model: model, popularity: baseline, exactRanking: exact)
    }
}
