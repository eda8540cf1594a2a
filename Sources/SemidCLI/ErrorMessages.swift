import Semid

/// The one place where library errors are worded for the command line: library errors name
/// Swift parameters (`codebookSize`, `itemEmbeddings`), the tool names its flags.
enum ErrorMessages {
    /// Which command's flags a library parameter is named by.
    enum Domain {
        /// `semid build` (the quantizer's and the build's configurations).
        case build
        /// `semid train` and `semid compare` (the model's and the training's configurations).
        case model
    }

    /// The flag of a library parameter: `codebookSize` → `--codebook-size`, except where the
    /// flag has another name; a parameter without a flag keeps its Swift name.
    static func flag(_ parameter: String, _ domain: Domain = .build) -> String {
        let table = domain == .build ? buildFlags : modelFlags
        if let renamed = table[parameter] ?? sharedFlags[parameter] { return renamed ?? parameter }
        var kebab = ""
        for character in parameter.split(separator: ".").last ?? Substring(parameter) {
            if character.isUppercase { kebab += "-" + character.lowercased() } else { kebab.append(character) }
        }
        return "--" + kebab
    }

    /// Parameters of every command whose flag is not their kebab-cased name.
    static let sharedFlags: [String: String?] = [
        "output": "--out",
        "overwrite": "--force",
    ]

    /// `semid build`'s flags that are not the kebab-cased parameter (`nil`: no flag).
    static let buildFlags: [String: String?] = [
        "latentDimension": "--latent-dim",
        "batchSize": "--batch",
        "optimizer.learningRate": "--lr",
        "optimizer.minimumFraction": "--lr-min-fraction",
        "evaluateEvery": "--eval-every",
        "refinementPasses": "--kmeans-refinement",
        "restarts": "--kmeans-restarts",
        "iterations": "--kmeans-iterations",
        "tolerance": "--kmeans-tolerance",
        "clusters": "--codebook-size",
        "codes": nil,
        "sinkhorn.epsilon": "--sinkhorn-epsilon",
        "sinkhorn.iterations": "--sinkhorn-iterations",
        "sinkhorn.rounds": "--sinkhorn-rounds",
    ]

    /// `semid train`'s flags that are not the kebab-cased parameter (`nil`: no flag).
    static let modelFlags: [String: String?] = [
        "dimension": "--dim",
        "batchSize": "--batch",
        "learningRate": "--lr",
        "warmupSteps": "--warmup",
        "optimizer.weightDecay": "--weight-decay",
        "optimizer.clipNorm": "--clip",
        "timeLimit": "--time-limit",
        "validateEvery": nil,
        "contentDimension": nil,
        "codeHeadHidden": nil,
        "userCodeSizes": nil,
        "item vector": nil,
    ]

    /// The one-line message of `error` for stderr.
    static func message(for error: Error) -> String {
        if case let .invalidParameter(name, value, expected) = error as? QuantizationError {
            return "\(flag(name)) = \(value) is not valid: expected \(expected)"
        }
        if case let .invalidParameter(name, value, expected) = error as? ModelError {
            return "invalid model setting: \(flag(name, .model)) must be \(expected) (got \(value))"
        }
        guard let error = error as? PipelineError else { return String(describing: error) }
        switch error {
        case .outputNotAnIndex(let path):
            return "\(path) exists and is not a semid index; refusing to replace it even with --force"
        case let .fewerRowsThanCodes(file, rows, codebookSize):
            return "\(file): has \(rows) rows, fewer than \(flag("codebookSize")) \(codebookSize): "
                + "need at least as many vectors as codes per level (lower \(flag("codebookSize")))"
        case let .warmupDimensionTooLarge(dimension, embeddingDimension, file):
            return "\(flag("kmeansWarmup")): \(dimension) is more than half the embedding dimension (\(embeddingDimension) in \(file)); "
                + "use dimensions up to \(embeddingDimension / 2), or none"
        case .userIDsExist(let index):
            return "\(index) already has user IDs; pass --add to give IDs to new users or --force to rebuild them"
        case let .itemVectorsNeeded(index, method):
            return "\(index) has \(method) IDs that cannot be decoded to vectors; give \(flag("itemEmbeddings"))"
        case .notADirectory(let path):
            return "--out \(path) exists and is not a directory; give a directory for the comparison's indexes"
        case let .fewerUsersThanCodes(sequences, users, codebookSize):
            return "--user-codebook-size \(codebookSize) is larger than the \(users) users of \(sequences); "
                + "user IDs need at least as many users as codes per level"
        case .outputExists(let path):
            return "\(path) already exists; pass --force to replace it"
        case let .unknownItem(item, items):
            return "--history: item \(item) is not in the index (items are 0..<\(items))"
        case let .userWithoutID(user, index, users):
            return "--user: user \(user) has no user ID in \(index) (users 0…\(users - 1) have one); "
                + "give it one with `semid users \(index) --sequences FILE --add`"
        case .itemCountMismatch, .outputIsADirectory, .noEvaluationCases, .notContentVectors, .dimensionMismatch, .userEmbeddingRows, .itemVectorRows:
            return error.description
        }
    }

    /// Whether `error` is a usage error (exit status 2, with a pointer to `--help`) rather than
    /// a failed operation (exit status 1).
    static func isUsageError(_ error: Error) -> Bool {
        if case .warmupDimensionTooLarge = error as? PipelineError { return true }
        return false
    }
}
