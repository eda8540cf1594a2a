import Foundation
import SemidDecoding
import SemidEvaluation
import SemidIndex
import SemidMath
import SemidStorage

/// An index opened together with its trie and trained model: what `recommend` and `eval` use.
public struct TrainedIndex: Sendable {
    /// The index.
    public let index: SemanticIndex
    /// Its trie: the one stored in the index (checked against its IDs), built from the IDs only for
    /// an index written before tries were stored.
    public let trie: CodeTrie
    /// The trained model.
    public let model: NextItemModel
    /// The manifest's model section.
    public let summary: ModelSummary
    /// The index's user IDs when the model reads user tokens (`nil` otherwise); users that got
    /// an ID after training (`semid users --add`) are included.
    public let users: UserCodes?

    /// Opens the index at `path`; throws ``ModelError/noModel(path:)`` when it holds no model, and
    /// ``ModelError/inconsistentInput(_:)`` when the model reads user tokens but the index has
    /// no user IDs.
    public static func open(_ path: String) throws -> TrainedIndex {
        let index = try IndexStore.open(at: path)
        guard StoredModel.hasModel(index) else { throw ModelError.noModel(path: path) }
        let trie = try CodeTrie(index: index)
        let (model, summary) = try StoredModel.load(from: index, trie: trie)
        var users: UserCodes?
        if model.configuration.userTokens {
            // A model trained on causal user IDs reads the quantizer's codes, as in training.
            guard let loaded = try UserCodes.load(from: index, raw: summary.training.userIDSource == .causal) else {
                throw ModelError.inconsistentInput("the model in \(path) reads user tokens but the index has no user IDs; run `semid users \(path) --sequences FILE` first")
            }
            users = loaded
        }
        return TrainedIndex(index: index, trie: trie, model: model, summary: summary, users: users)
    }

    /// The user IDs the model reads for `users` (`nil` entries = unknown user, the zero user
    /// vector); `nil` when the model has no user tokens. Throws for a user without an ID.
    public func userIDs(_ users: [Int?]) throws -> [[Int32]?]? {
        guard model.configuration.userTokens, let known = self.users else { return nil }
        return try users.map { u in try u.map { try known.ids(of: [$0])[0] } }
    }

    /// Decodes the top `top` items for each history with beam `beam`.
    ///
    /// - Parameter users: with user tokens, each history's user (`nil`, or a `nil` entry = unknown
    ///   user: the zero user vector, what training shows with user-token dropout); a user
    ///   without an ID is an error. Ignored by a model without user tokens.
    public func recommend(histories: [[Int32]], users: [Int?]? = nil, top: Int, beam: Int,
                          excludeHistory: Bool) throws -> BeamSearchResults {
        let search = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(
            beamWidth: beam, topK: top, excludeHistory: excludeHistory, queriesPerScorerCall: 32))
        let scorer = try ModelScorer(model: model, trie: trie, excludeHistoryMass: excludeHistory,
                                     users: try users.flatMap { try userIDs($0) })
        // One query runs on the calling thread: a multi-threaded BLAS would only add wake-ups.
        if histories.count <= 32 {
            return try BLASRuntime.withThreadCount(1) { try search.search(histories: histories, scorer: scorer) }
        }
        return try search.search(histories: histories, scorer: scorer)
    }

    /// Evaluates by generation on `cases`; with user tokens, each case's user reads its user ID
    /// (a user without one is an error), or with `unknownUsers` every case gets the unknown-user
    /// input (the zero user vector).
    public func evaluate(_ cases: [EvaluationCase], settings: EvaluationSettings, unknownUsers: Bool = false) throws -> EvaluationResult {
        let scorer = try ModelScorer(model: model, trie: trie, excludeHistoryMass: settings.excludeHistory,
                                     users: unknownUsers ? nil : try ModelTrainer.caseUsers(model, cases: cases, users: users))
        return try GenerativeEvaluation.evaluate(cases, scorer: scorer, trie: trie, settings: settings)
    }
}

/// `semid train` as a library call: read the inputs, train, store the model in the index.
public enum ModelTraining {
    /// What to train on and where to store the result.
    public struct Inputs: Sendable {
        /// The index directory.
        public var index: String
        /// TSV or LC-Rec `*.inter.json` sequences.
        public var sequences: String
        /// Optional `.npy` content embeddings (row `i` = item `i`) for the content projection.
        public var embeddings: String?
        /// Where to write the index with the model (default: in place).
        public var output: String?
        /// Train but do not write.
        public var dryRun = false
        /// Replace ``output`` when it is an existing index other than ``index``.
        public var overwrite = false
        /// What to do when another process is writing the index this run writes.
        public var waiting: DirectoryLock.Waiting = .wait
        /// With user tokens: read only the first this many user-ID positions (default: all; with
        /// causal user IDs, the user quantizer's levels).
        public var userTokenLevels: Int?
        /// With causal user IDs: the `.npy` item vectors the user IDs were built from, when they
        /// were not the index's decoded item codes (checked against the manifest's fingerprint).
        public var userItemEmbeddings: String?
        /// With causal user IDs: the per-user text embeddings the user IDs were built from.
        public var userEmbeddings: String?

        /// Creates inputs.
        public init(index: String, sequences: String, embeddings: String? = nil, output: String? = nil) {
            self.index = index
            self.sequences = sequences
            self.embeddings = embeddings
            self.output = output
        }
    }

    /// Reads the sequences of an index's items (unknown items are an error naming the line).
    public static func readSplit(_ path: String, itemCount: Int, maxHistory: Int) throws -> LeaveOneOutSplit {
        let sequences = try SequenceFile.read(at: path, itemCount: itemCount)
        return LeaveOneOutSplit(sequences: sequences, maxHistory: maxHistory)
    }

    /// Trains a model per `model` and `training` and stores it; returns the report and summary.
    ///
    /// Unless it is a dry run, the writer lock of the index written to (``Inputs/output``, or the
    /// index itself) is held from before the index is read until the model is stored, so a
    /// concurrent `add` or `users` waits for the training (or the training for them) and nothing
    /// is lost; a destination that cannot be written is refused before training starts.
    public static func run(
        _ inputs: Inputs, model modelConfiguration: ModelConfiguration, training: TrainingConfiguration,
        onEpoch: ((EpochReport) -> Void)? = nil
    ) throws -> (report: TrainingReport, summary: ModelSummary, model: NextItemModel) {
        try training.validate()
        var lock: DirectoryLock?
        if !inputs.dryRun {
            let destination = FileSystem.resolvedWriteTarget(inputs.output ?? inputs.index)
            try checkDestination(inputs)
            if FileSystem.isDirectory(destination) { lock = try DirectoryLock.acquire(destination, waiting: inputs.waiting) }
        }
        defer { lock?.release() }
        return try train(inputs, model: modelConfiguration, training: training, onEpoch: onEpoch)
    }

    /// Refuses an ``Inputs/output`` that exists and is not an index, or is another index and
    /// ``Inputs/overwrite`` is not set.
    static func checkDestination(_ inputs: Inputs) throws {
        guard let output = inputs.output else { return }
        let target = FileSystem.resolvedWriteTarget(output)
        guard FileSystem.exists(target) else { return }
        guard FileSystem.isDirectory(target), FileSystem.exists(target + "/" + IndexStore.manifestFile) else {
            throw IndexError.inconsistentInput("\(output) exists and is not a semid index; choose another output path")
        }
        if FileSystem.canonicalPath(target) != FileSystem.canonicalPath(FileSystem.resolvedWriteTarget(inputs.index)) && !inputs.overwrite {
            throw IndexError.outputExists(path: output)
        }
    }

    /// ``run(_:model:training:onEpoch:)`` once the destination is locked.
    private static func train(
        _ inputs: Inputs, model modelConfiguration: ModelConfiguration, training: TrainingConfiguration,
        onEpoch: ((EpochReport) -> Void)?
    ) throws -> (report: TrainingReport, summary: ModelSummary, model: NextItemModel) {
        var config = modelConfiguration
        var index = try IndexStore.open(at: inputs.index)
        let n = index.itemCount
        let items = try StoredModel.itemCodes(of: index)
        let trie = try CodeTrie(index: index)
        var fingerprints: [InputFingerprint] = []
        let sequences = try SequenceFile.read(at: inputs.sequences, itemCount: n)
        fingerprints.append(try InputFingerprint(role: "sequences", path: inputs.sequences, rows: sequences.count, columns: nil))
        let split = LeaveOneOutSplit(sequences: sequences, maxHistory: config.maxHistory)
        var content: [Float]?
        if let path = inputs.embeddings {
            let matrix = try NpyFile.readMatrix(at: path)
            guard matrix.rows == n else {
                throw ModelError.inconsistentInput("\(path) has \(matrix.rows) rows but the index has \(n) items; row i must be item i")
            }
            if let bad = matrix.firstNonFinite() {
                throw ModelError.inconsistentInput("\(path): row \(bad.row), column \(bad.column) is not a finite number")
            }
            config.contentDimension = matrix.cols
            content = matrix.values
            fingerprints.append(try InputFingerprint(role: "content-embeddings", path: path, rows: matrix.rows, columns: matrix.cols))
        } else {
            config.contentDimension = 0
        }
        var users: UserCodes?
        var userEncoder: UserIDEncoder?
        if config.userTokens {
            guard let stored = try UserIDs.load(from: index) else {
                throw ModelError.inconsistentInput("--user-tokens: \(inputs.index) has no user IDs; run `semid users \(inputs.index) --sequences \(inputs.sequences)` first")
            }
            let causal = training.userIDSource == .causal
            let loaded = try UserCodes(stored, raw: causal)
            if let missing = sequences.first(where: { $0.user >= loaded.userCount }) {
                throw ModelError.inconsistentInput("--user-tokens: user \(missing.user) of \(inputs.sequences) has no user ID (the index has IDs for users 0…\(loaded.userCount - 1)); run `semid users \(inputs.index) --sequences \(inputs.sequences) --add` first")
            }
            let levels = inputs.userTokenLevels ?? loaded.levels
            guard levels >= 1 && levels <= loaded.levels else {
                throw ModelError.invalidConfiguration(causal
                    ? "--user-token-levels must be in 1…\(loaded.levels) with causal user IDs (the user quantizer has \(loaded.levels) levels; a collision suffix cannot be encoded; got \(levels))"
                    : "--user-token-levels must be in 1…\(loaded.levels) (the user IDs have \(loaded.levels) positions; got \(levels))")
            }
            config.userCodeSizes = Array(loaded.codeSizes.prefix(levels))
            users = loaded
            if causal {
                let (encoder, used) = try Self.userEncoder(stored, index: index, inputs: inputs, userCount: sequences.count)
                userEncoder = encoder
                fingerprints += used
            }
        }
        try config.validate()
        try config.checkTrainingMemory(items: n, batch: training.batchSize)
        let model = try NextItemModel(configuration: config, items: items, content: content, trie: trie,
                                      seed: training.seed &+ 0x5EED)
        let report = try ModelTrainer.train(model, split: split, trie: trie, configuration: training, users: users,
                                            userEncoder: userEncoder, onEpoch: onEpoch)
        let summary = ModelSummary(
            formatVersion: ModelSummary.currentFormatVersion, configuration: config, training: training, inputs: fingerprints,
            bestEpoch: report.bestEpoch, stopReason: report.stopReason, trainingSeconds: nil,
            sequences: report.sequences, targets: report.targets, validation: report.bestValidation,
            epochs: report.epochs.map {
                EpochSummary(epoch: $0.epoch, itemLoss: $0.itemLoss, codeLoss: $0.codeLoss, validNdcg10: $0.validation?.ndcg10,
                             validRecall10: $0.validation?.recall10, forwardSeconds: nil, backwardSeconds: nil,
                             optimizerSeconds: nil, trainSeconds: nil, validationSeconds: nil)
            },
            blas: report.blas, tensors: [])
        if !inputs.dryRun {
            try StoredModel.attach(model, summary: summary, to: &index)
            try StoredModel.write(index, to: inputs.output ?? inputs.index, overwrite: true, waiting: inputs.waiting)
        }
        return (report, summary, model)
    }

    /// The encoder of causal user IDs: the item vectors the IDs were built from (the index's
    /// decoded codes, or `inputs.userItemEmbeddings` matching the manifest's fingerprint) and the
    /// per-user text embeddings when the IDs used them; with the fingerprints of the files read.
    static func userEncoder(_ users: UserIDs, index: SemanticIndex, inputs: Inputs,
                            userCount: Int) throws -> (UserIDEncoder, [InputFingerprint]) {
        let section = users.section
        var fingerprints: [InputFingerprint] = []
        let itemVectors: Matrix
        if let expected = section.itemVectors {
            guard let path = inputs.userItemEmbeddings else {
                throw ModelError.inconsistentInput("causal user IDs: the user IDs of \(inputs.index) were built from item vectors \(expected.file); give that file as --user-item-embeddings (or train with --user-id-training stored)")
            }
            let matrix = try NpyFile.readMatrix(at: path)
            let found = try InputFingerprint(role: expected.role, path: path, rows: matrix.rows, columns: matrix.cols)
            guard found.xxh64 == expected.xxh64, found.bytes == expected.bytes else {
                throw ModelError.inconsistentInput("--user-item-embeddings \(path) is not the file the user IDs were built from (\(expected.file), \(expected.bytes) bytes, xxh64 \(expected.xxh64))")
            }
            itemVectors = matrix
            fingerprints.append(found)
        } else {
            if let path = inputs.userItemEmbeddings {
                throw ModelError.inconsistentInput("--user-item-embeddings \(path): the user IDs of \(inputs.index) were built from the index's decoded item codes; leave it out")
            }
            itemVectors = try index.quantizer.reconstruct(index.rawCodes)
        }
        var text: Matrix?
        if let path = inputs.userEmbeddings {
            let matrix = try NpyFile.readMatrix(at: path)
            guard matrix.rows >= userCount else {
                throw ModelError.inconsistentInput("--user-embeddings \(path) has \(matrix.rows) rows but the sequences have \(userCount) users; row u must be user u")
            }
            let found = try InputFingerprint(role: "user-embeddings", path: path, rows: matrix.rows, columns: matrix.cols)
            // The file of the latest `semid users` run that read one (each run reads all users' rows).
            if let expected = section.batches.reversed().lazy.compactMap({ $0.inputs.first { $0.role == "user-embeddings" } }).first,
               found.xxh64 != expected.xxh64 || found.bytes != expected.bytes {
                throw ModelError.inconsistentInput("--user-embeddings \(path) is not the file the user IDs were built from (\(expected.file), \(expected.bytes) bytes, xxh64 \(expected.xxh64))")
            }
            text = matrix
            fingerprints.append(found)
        } else if section.usesTextEmbeddings {
            throw ModelError.inconsistentInput("causal user IDs: the user IDs of \(inputs.index) were built with per-user text embeddings; give the same file as --user-embeddings (or train with --user-id-training stored)")
        }
        return (try UserIDEncoder(users: users, itemVectors: itemVectors, textEmbeddings: text), fingerprints)
    }
}
