/// What ``Pipeline/train(_:)`` trains, with which settings, and where the model goes.
public struct TrainRequest: Sendable {
    /// The index, the sequences, optional content embeddings and the output index.
    public var inputs: ModelTraining.Inputs
    /// The next-item model (its `contentDimension` and `userCodeSizes` are set from the data).
    public var model: ModelConfiguration
    /// The optimizer, schedule, budget and seed.
    public var training: TrainingConfiguration
    /// Called after every epoch with its losses, validation metrics and timings.
    public var onEpoch: (@Sendable (EpochReport) -> Void)?

    /// A request to train `model` with `training` on `inputs`.
    public init(inputs: ModelTraining.Inputs, model: ModelConfiguration = ModelConfiguration(),
                training: TrainingConfiguration = TrainingConfiguration()) {
        self.inputs = inputs
        self.model = model
        self.training = training
    }
}

/// What ``Pipeline/train(_:)`` trained.
public struct TrainResult: Sendable {
    /// Per-epoch losses and metrics, the best epoch and why training stopped.
    public var report: TrainingReport
    /// The model section stored in the manifest.
    public var summary: ModelSummary
    /// The trained model (the best epoch's weights).
    public var model: NextItemModel
}

extension Pipeline {
    /// Trains the built-in next-item model on the leave-one-out split of the sequences and stores
    /// the best epoch in the index (atomically, under its writer lock), unless it is a dry run.
    ///
    /// Costs `epochs × (training pass + validation by generation)`; the training pass is
    /// `O(sequences · history · (layers · d² + items · d))` with the items head.
    public static func train(_ request: TrainRequest) throws -> TrainResult {
        let (report, summary, model) = try ModelTraining.run(request.inputs, model: request.model, training: request.training,
                                                             onEpoch: request.onEpoch)
        return TrainResult(report: report, summary: summary, model: model)
    }

    /// Opens an index with its trained model for ``TrainedIndex/recommend(histories:users:top:beam:excludeHistory:)``
    /// and ``TrainedIndex/evaluate(_:settings:unknownUsers:)``; every shard's checksum is verified.
    ///
    /// - Throws: ``ModelError/noModel(path:)`` when the index has no model.
    public static func open(_ path: String) throws -> TrainedIndex {
        try TrainedIndex.open(path)
    }
}
