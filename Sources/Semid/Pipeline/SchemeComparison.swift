import Dispatch
import Foundation

/// Builds several ID schemes on the same data, trains the same model with the same budget on each,
/// and measures next-item quality: the indexing comparison of `semid compare`.
///
/// Following the indexing study ("How to Index Item IDs for Recommendation Foundation Models"),
/// the model used for the comparison represents an item only by its ID tokens unless told
/// otherwise (``Configuration/model``), so that differences come from the IDs.
public enum SchemeComparison {
    /// One way of making item IDs.
    public struct Scheme: Sendable {
        /// Name in the table, e.g. `"content rq-kmeans"`.
        public var name: String
        /// Whether the scheme uses only content embeddings (for the "best content-only" figure).
        public var contentOnly: Bool
        /// The build settings.
        public var build: BuildConfiguration

        /// Creates a scheme.
        public init(name: String, contentOnly: Bool, build: BuildConfiguration) {
            self.name = name
            self.contentOnly = contentOnly
            self.build = build
        }

        /// The six schemes of the comparison with IDs of `codebookSizes[l]` codes at level `l`:
        /// random, sequential, content RQ-KMeans, content RQ-VAE, collaborative and hybrid (both
        /// RQ-KMeans).
        public static func standard(codebookSizes: [Int], seed: UInt64, rqvaeEpochs: Int) -> [Scheme] {
            func config(_ method: QuantizationMethod, _ source: ItemVectorSource, _ policy: CollisionPolicy) -> BuildConfiguration {
                var c = BuildConfiguration(codebookSizes: codebookSizes, collisionPolicy: policy, seed: seed)
                c.method = method
                c.source = source
                c.rqvae.epochs = rqvaeEpochs
                return c
            }
            return [
                Scheme(name: "random", contentOnly: false, build: config(.random, .content, .none)),
                Scheme(name: "sequential", contentOnly: false, build: config(.sequential, .content, .none)),
                Scheme(name: "content rq-kmeans", contentOnly: true, build: config(.rqKMeans, .content, .suffix)),
                Scheme(name: "content rq-vae", contentOnly: true, build: config(.rqVAE, .content, .suffix)),
                Scheme(name: "collaborative", contentOnly: false, build: config(.rqKMeans, .collaborative, .suffix)),
                Scheme(name: "hybrid", contentOnly: false, build: config(.rqKMeans, .hybrid, .suffix)),
            ]
        }

        /// ``standard(codebookSizes:seed:rqvaeEpochs:)`` with `levels` levels of `codebookSize` codes.
        public static func standard(levels: Int, codebookSize: Int, seed: UInt64, rqvaeEpochs: Int) -> [Scheme] {
            standard(codebookSizes: Array(repeating: codebookSize, count: Swift.max(0, levels)), seed: seed, rqvaeEpochs: rqvaeEpochs)
        }
    }

    /// What to compare and with which model budget.
    public struct Configuration: Sendable {
        /// The schemes.
        public var schemes: [Scheme]
        /// Seeds of model training (results are averaged over them).
        public var seeds: [UInt64]
        /// Run each scheme without user tokens, with them, or both (`[false, true]`).
        public var userTokens: [Bool]
        /// The model trained on every scheme (its `userTokens` is set per run).
        public var model: ModelConfiguration
        /// The training budget, identical for every run (its `seed` is set per run).
        public var training: TrainingConfiguration
        /// User-ID settings for runs with user tokens.
        public var users: UserIDConfiguration
        /// User-ID positions the model reads in runs with user tokens (`nil` = all, including a
        /// suffix position; ``UserIDConfiguration/levels`` = only the quantizer's codes).
        public var userTokenLevels: Int?
        /// Beam width of the test evaluation.
        public var beam: Int

        /// The default epoch budget of every run: smaller than ``TrainingConfiguration/epochs``
        /// because a comparison trains one model per scheme, seed and user-token setting.
        public static let defaultEpochs = 20
        /// The default early-stopping patience of every run (with the smaller budget).
        public static let defaultPatience = 4

        /// A comparison of `schemes` with the given model and budget.
        public init(schemes: [Scheme], seeds: [UInt64], userTokens: [Bool], model: ModelConfiguration,
                    training: TrainingConfiguration, users: UserIDConfiguration = UserIDConfiguration(),
                    userTokenLevels: Int? = nil, beam: Int = 20) {
            self.schemes = schemes
            self.seeds = seeds
            self.userTokens = userTokens
            self.model = model
            self.training = training
            self.users = users
            self.userTokenLevels = userTokenLevels
            self.beam = beam
        }
    }

    /// One line of the table: a scheme with or without user tokens, averaged over seeds.
    public struct Row: Codable, Sendable {
        /// The scheme's name (``Scheme/name``).
        public var scheme: String
        /// Whether the scheme uses only content embeddings.
        public var contentOnly: Bool
        /// Whether the model read the user's semantic ID as a prefix token.
        public var userTokens: Bool
        /// Raw collision rate of the scheme's IDs (before the collision policy).
        public var rawCollisionRate: Double
        /// ID length after the collision policy.
        public var idLength: Int
        /// Test Recall@10 per seed, full ranking by generation.
        public var recall10: [Double]
        /// Test NDCG@10 per seed, full ranking by generation.
        public var ndcg10: [Double]
        /// Invalid IDs returned over all test users and seeds (must be 0).
        public var invalid: Int
        /// Seconds to build the index (and user IDs, when used).
        public var buildSeconds: Double
        /// Mean training seconds per seed.
        public var trainSeconds: Double
        /// Epochs trained per seed.
        public var epochs: [Int]

        /// Mean test Recall@10 over seeds.
        public var meanRecall10: Double { recall10.reduce(0, +) / Double(max(1, recall10.count)) }
        /// Mean test NDCG@10 over seeds.
        public var meanNdcg10: Double { ndcg10.reduce(0, +) / Double(max(1, ndcg10.count)) }
    }

    /// Runs the comparison. Indexes are written to `directory` (kept, so they can be inspected);
    /// each is built with ``Pipeline/build(_:)`` and, for runs with user tokens, given user IDs
    /// with ``Pipeline/assignUserIDs(_:)``.
    ///
    /// Costs one build per scheme and `seeds × userTokens` trainings and test evaluations per scheme.
    ///
    /// - Parameters:
    ///   - embeddings: content embeddings `[n, d]` (row `i` = item `i`).
    ///   - sequences: the users' histories; models train on the leave-one-out training part, IDs
    ///     see only the training part too, and the table reports the test split.
    ///   - log: called with one line per step.
    public static func run(embeddings: Matrix, items: [ItemRecord]?, sequences: [UserSequence], configuration: Configuration,
                           directory: String, log: (String) -> Void) throws -> [Row] {
        var rows: [Row] = []
        let split = LeaveOneOutSplit(sequences: sequences, maxHistory: configuration.model.maxHistory)
        let settings = EvaluationSettings(cutoffs: [10], beamWidth: configuration.beam)
        for scheme in configuration.schemes {
            let start = DispatchTime.now().uptimeNanoseconds
            let path = directory + "/" + scheme.name.replacingOccurrences(of: " ", with: "-") + ".semid"
            var request = BuildRequest(embeddings: .memory(embeddings, fingerprint: nil),
                                       items: items.map { .memory($0, fingerprint: nil) },
                                       sequences: .memory(sequences, fingerprint: nil), configuration: scheme.build, output: path)
            request.overwrite = true
            request.reportGroups = 0
            let built = try Pipeline.build(request)
            var userEncoder: UserIDEncoder?
            if configuration.userTokens.contains(true) {
                // User IDs from the content embeddings, the same for every scheme.
                var users = UserIDRequest(index: path, sequences: .memory(sequences, fingerprint: nil),
                                          configuration: configuration.users)
                users.itemEmbeddings = .memory(embeddings, fingerprint: nil)
                users.mode = .replace
                if let userIDs = try Pipeline.assignUserIDs(users).users {
                    userEncoder = try UserIDEncoder(users: userIDs, itemVectors: embeddings, textEmbeddings: nil)
                }
            }
            let buildSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let collisions = built.report
            log("\(scheme.name): built in \(String(format: "%.1f", buildSeconds)) s, raw collision rate \(String(format: "%.2f%%", 100 * collisions.raw.collisionRate))")
            let index = try IndexStore.open(at: path)
            let trie = try CodeTrie(index: index)
            let itemCodes = try StoredModel.itemCodes(of: index)
            let userCodes = try UserCodes.load(from: index, raw: configuration.training.userIDSource == .causal)
            for userTokens in configuration.userTokens {
                var row = Row(scheme: scheme.name, contentOnly: scheme.contentOnly, userTokens: userTokens,
                              rawCollisionRate: collisions.raw.collisionRate, idLength: index.ids.levels,
                              recall10: [], ndcg10: [], invalid: 0, buildSeconds: buildSeconds, trainSeconds: 0, epochs: [])
                var trainTotal = 0.0
                for seed in configuration.seeds {
                    var model = configuration.model
                    model.contentDimension = 0
                    model.userTokens = userTokens
                    let sizes = userCodes?.codeSizes ?? []
                    model.userCodeSizes = userTokens ? Array(sizes.prefix(configuration.userTokenLevels ?? sizes.count)) : []
                    try model.validate()
                    var training = configuration.training
                    training.seed = seed
                    let network = try NextItemModel(configuration: model, items: itemCodes, content: nil, trie: trie,
                                                    seed: seed &+ 0x5EED)
                    let users = userTokens ? userCodes : nil
                    let trained = try ModelTrainer.train(network, split: split, trie: trie, configuration: training, users: users,
                                                           userEncoder: userEncoder)
                    trainTotal += trained.seconds
                    let scorer = try ModelScorer(model: network, trie: trie, excludeHistoryMass: false,
                                                 users: try ModelTrainer.caseUsers(network, cases: split.test, users: users))
                    let result = try GenerativeEvaluation.evaluate(split.test, scorer: scorer, trie: trie, settings: settings)
                    row.recall10.append(result.metrics.recall(at: 10))
                    row.ndcg10.append(result.metrics.ndcg(at: 10))
                    row.invalid += result.metrics.invalid
                    row.epochs.append(trained.epochs.count)
                    log(String(format: "%@%@ seed %llu: test R@10 %.4f N@10 %.4f, %d epochs in %.0f s", scheme.name,
                               userTokens ? " + user tokens" : "", seed, row.recall10.last ?? 0, row.ndcg10.last ?? 0,
                               trained.epochs.count, trained.seconds))
                }
                row.trainSeconds = trainTotal / Double(max(1, configuration.seeds.count))
                rows.append(row)
            }
        }
        return rows
    }
}
