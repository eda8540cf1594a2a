import ArgumentParser
import Semid

/// The model width and optimisation flags of `semid train` and `semid compare`, with the
/// library's defaults (``ModelConfiguration`` and ``TrainingConfiguration``).
struct TrainingOptions: ParsableArguments {
    /// The library's default model.
    static let model = ModelConfiguration()
    /// The library's default training settings.
    static let training = TrainingConfiguration()

    @Option(help: "Model width d.")
    var dim = TrainingOptions.model.dimension

    @Option(help: "Sequences per batch.")
    var batch = TrainingOptions.training.batchSize

    @Option(help: "Peak learning rate (AdamW).")
    var lr = TrainingOptions.training.learningRate

    @Option(help: "Linear warm-up steps.")
    var warmup = TrainingOptions.training.warmupSteps

    @Option(help: "Validate on at most this many users (0 = all).")
    var validationUsers = TrainingOptions.training.validationUsers

    func validate() throws {
        let limits = ModelConfiguration.Limits.self
        if dim < 2 || dim > limits.dimension { throw ValidationError("--dim must be in 2…\(limits.dimension) (got \(dim))") }
        if batch < 1 { throw ValidationError("--batch must be at least 1 (got \(batch))") }
        if batch > 65_536 { throw ValidationError("--batch must be at most 65536 (got \(batch))") }
        if !(lr > 0) || !lr.isFinite { throw ValidationError("--lr must be positive (got \(lr))") }
        if warmup < 0 { throw ValidationError("--warmup must be 0 or more") }
        if validationUsers < 0 { throw ValidationError("--validation-users must be 0 or more") }
    }

    /// Sets the width and the optimisation settings.
    func apply(to model: inout ModelConfiguration, _ training: inout TrainingConfiguration) {
        model.dimension = dim
        training.batchSize = batch
        training.learningRate = lr
        training.warmupSteps = warmup
        training.validationUsers = validationUsers
    }
}
