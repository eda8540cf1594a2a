import ArgumentParser
import Foundation
import Semid

/// `semid build`: embeddings (+ item catalog) → codebooks → unique semantic IDs → index on disk.
struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Train a residual quantizer on item embeddings and write a semantic-ID index.",
        discussion: """
            The index is written to a temporary directory next to --out and renamed into place, so an \
            interrupted build leaves any previous index intact. Same inputs + same --seed give a \
            byte-identical index (on the same OpenBLAS kernel).

            --method rq-vae trains an MLP autoencoder (d → --hidden → --latent-dim, mirrored decoder) \
            with --levels residual codebooks of --codebook-size codes in its latent space \
            (straight-through gradients, loss = reconstruction MSE + codebook loss + --beta × \
            commitment, AdamW). One progress line per epoch; every --eval-every epochs all items are \
            encoded and the raw collision rate, per-level utilisation and reconstruction are measured. \
            The kept checkpoint is the evaluation with the lowest raw collision rate among those whose \
            relative reconstruction MSE is within --checkpoint-tolerance of the best one.
            """)

    @Option(help: "Item embeddings: a 2-D .npy file (<f4, <f2 or <f8, C order), a directory of .npy parts (in name order) or a comma-separated list of parts; row i is item i. Needed for --source content|hybrid. RQ-KMeans on content reads it by chunks (never whole).")
    var embeddings: String?

    @Option(help: "Item catalog: JSONL (item, source_id, title, text) or LC-Rec *.item.json. Without it items are 0…n−1, untitled.")
    var items: String?

    @Option(help: "How IDs are made: rq-kmeans (residual k-means), rq-vae (residual quantization in a learned latent space), or the baselines random and sequential (numbered by first appearance in --sequences).")
    var method: QuantizationMethod = .rqKMeans

    @Option(help: "Vectors to quantize: content (--embeddings), collaborative (PPMI factorisation of --sequences) or hybrid (both, concatenated).")
    var source: ItemVectorSource = .content

    @Option(help: "User histories (TSV user<TAB>items… or LC-Rec *.inter.json) for collaborative/hybrid vectors and sequential IDs; the last 2 items per user are held out.")
    var sequences: String?

    @Option(help: "Dimension of the collaborative vectors.")
    var collaborativeDim = CollaborativeConfiguration().dimension

    @Option(help: "Items at most this many positions apart co-occur (weight 1/distance).")
    var cooccurrenceWindow = CollaborativeConfiguration().window

    @Option(help: "hybrid: share of the content view in [0, 1].")
    var contentWeight = CollaborativeConfiguration().contentWeight

    @Option(help: "Items held out at the end of every sequence when using --sequences (2 = leave-one-out validation + test).")
    var heldOut = CollaborativeConfiguration().heldOutPerUser

    @Option(help: "Number of quantizer levels L (default 3, or the number of --codebook-size values).")
    var levels: Int?

    @Option(help: "Codes per level K: one value for every level, or one per level separated by commas (e.g. 1024,256,256).")
    var codebookSize = CodebookSizeList([256])

    /// The codebook size of every level (`--levels` and `--codebook-size` checked against each other).
    func codebookSizes() throws -> [Int] { try codebookSize.resolved(levels: levels, defaultLevels: 3) }

    @Option(help: "Collision policy: none (report only), suffix (TIGER: one extra level = rank in the colliding group) or sinkhorn (LC-Rec uniform mapping, finished so every ID is unique at the same length).")
    var collisions: CollisionPolicyName = .suffix

    @Option(help: "sinkhorn: entropic regularisation on standardised distances.")
    var sinkhornEpsilon = SinkhornPolicy().epsilon

    @Option(help: "sinkhorn: Sinkhorn-Knopp iterations per round.")
    var sinkhornIterations = SinkhornPolicy().iterations

    @Option(help: "sinkhorn: maximum rounds before the deterministic next-best-free-code step.")
    var sinkhornRounds = SinkhornPolicy().rounds

    @Option(help: "Seed for every random choice.")
    var seed = BuildConfiguration(levels: 1, codebookSize: 2).seed

    @Option(help: "Maximum full-dimensional k-means iterations per level.")
    var kmeansIterations = Self.kmeansDefaults.iterations

    @Option(help: "Stop k-means when an iteration improves the mean squared error by less than this fraction.")
    var kmeansTolerance = Self.kmeansDefaults.tolerance

    @Option(help: "Train each level on at most this many points per code (0 = all points).")
    var maxPointsPerCentroid = Self.kmeansDefaults.maxPointsPerCentroid

    @Option(help: "k-means seeding: kmeans++ or random.")
    var kmeansInit: KMeans.Initialization = .kMeansPlusPlus

    @Option(help: "Principal-subspace dimensions clustered before the full space, comma-separated: \"auto\" (4, 8, 16, … up to d/2, at most 64) or \"none\".")
    var kmeansWarmup: String = "auto"

    @Option(help: "k-means iterations in each warm-up subspace.")
    var warmupIterations = Self.kmeansDefaults.warmupIterations

    @Option(help: "Stop a warm-up stage when an iteration improves its error by less than this fraction.")
    var warmupTolerance = Self.kmeansDefaults.warmupTolerance

    @Option(help: "Independent k-means fits per level; the lowest-error one is kept.")
    var kmeansRestarts = Self.kmeansDefaults.restarts

    @Option(help: "Passes of Hartigan single-point moves after k-means converges (0 = plain Lloyd).")
    var kmeansRefinement = Self.kmeansDefaults.refinementPasses

    @Option(help: "Maximum rows per shard for per-item arrays.")
    var rowsPerShard = BuildConfiguration(levels: 1, codebookSize: 2).rowsPerShard

    /// The library's k-means defaults (the flags' defaults).
    static let kmeansDefaults = KMeans.Configuration(clusters: 2)

    // RQ-VAE (only with --method rq-vae; nil = the library default shown in the help).
    static let vaeDefaults = RQVAE.Configuration(levels: 3, codebookSize: 256)

    @Option(help: "RQ-VAE: maximum training epochs (default \(vaeDefaults.epochs)).")
    var epochs: Int?

    @Option(help: "RQ-VAE: peak AdamW learning rate (default \(vaeDefaults.optimizer.learningRate)).")
    var lr: Double?

    @Option(help: "RQ-VAE: rows per optimizer step (default \(vaeDefaults.batchSize)).")
    var batch: Int?

    @Option(help: "RQ-VAE: decoupled AdamW weight decay on the weight matrices (default \(vaeDefaults.optimizer.weightDecay)).")
    var weightDecay: Double?

    @Option(help: "RQ-VAE: steps of linear learning-rate warm-up (default \(vaeDefaults.optimizer.warmupSteps)).")
    var warmupSteps: Int?

    @Option(help: "RQ-VAE: learning rate after warm-up: cosine or constant (default \(vaeDefaults.optimizer.decay.rawValue)).")
    var lrDecay: String?

    @Option(help: "RQ-VAE: final learning rate of the cosine schedule as a fraction of the peak (default \(vaeDefaults.optimizer.minimumFraction)).")
    var lrMinFraction: Double?

    @Option(help: "RQ-VAE: commitment weight β (default \(vaeDefaults.beta)).")
    var beta: Double?

    @Option(help: "RQ-VAE: latent dimension of the codewords (default \(vaeDefaults.latentDimension)).")
    var latentDim: Int?

    @Option(help: "RQ-VAE: encoder hidden widths, comma-separated; the decoder mirrors them (default \(vaeDefaults.hidden.map(String.init).joined(separator: ","))).")
    var hidden: String?

    @Option(help: "RQ-VAE: re-seed a code unused for this many steps (\"epoch\" = one epoch of steps, 0 = never; default epoch).")
    var deadCodeSteps: String?

    @Option(help: "RQ-VAE: no dead-code re-seeding in the last this-many epochs (default \(vaeDefaults.deadCodeStopEpochs)).")
    var deadCodeStopEpochs: Int?

    @Option(help: "RQ-VAE: the codebooks' k-means initialisation uses the latents of this many items per code (0 = all; default \(vaeDefaults.initSamplesPerCode)).")
    var initSamplesPerCode: Int?

    @Option(help: "RQ-VAE: evaluate collisions, utilisation and reconstruction on all items every this many epochs (default \(vaeDefaults.evaluateEvery)).")
    var evalEvery: Int?

    @Option(help: "RQ-VAE: stop after this many evaluations without a new selected checkpoint (0 = off; default \(vaeDefaults.patience)).")
    var patience: Int?

    @Option(help: "RQ-VAE: training arithmetic: auto (bfloat16 on Intel AMX when available, else fp32), fp32 or bf16 (default auto). Encoding is always fp32.")
    var precision: RQVAE.Configuration.Precision?

    @Option(help: "RQ-VAE: checkpoint rule tolerance: keep the lowest collision rate among evaluations within this fraction of the best reconstruction (default \(vaeDefaults.checkpointTolerance)).")
    var checkpointTolerance: Double?

    @Option(help: "Where to write the index directory.")
    var out: String

    @Flag(help: "Replace --out if it is an existing index.")
    var force = false

    @Flag(help: "No progress output.")
    var quiet = false

    @OptionGroup var writer: WriterOptions

    /// `--kmeans-warmup` parsed: `.some(nil)` for auto, `.some([])` for none, `nil` unless it is
    /// one or more positive integers in increasing order, separated by commas (no empty entries).
    var warmupDimensions: [Int]?? {
        if kmeansWarmup == "auto" { return .some(nil) }
        if kmeansWarmup == "none" { return .some([]) }
        let parts = kmeansWarmup.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, values.count == parts.count, values.allSatisfy({ $0 > 0 }),
              zip(values, values.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
        return values
    }

    /// The RQ-VAE flags that were given, by name.
    var givenVAEFlags: [String] {
        let flags: [(String, Any?)] = [
            ("--epochs", epochs), ("--lr", lr), ("--batch", batch), ("--weight-decay", weightDecay),
            ("--warmup-steps", warmupSteps), ("--lr-decay", lrDecay), ("--lr-min-fraction", lrMinFraction),
            ("--beta", beta), ("--latent-dim", latentDim), ("--hidden", hidden), ("--dead-code-steps", deadCodeSteps),
            ("--dead-code-stop-epochs", deadCodeStopEpochs), ("--init-samples-per-code", initSamplesPerCode), ("--eval-every", evalEvery),
            ("--patience", patience), ("--checkpoint-tolerance", checkpointTolerance), ("--precision", precision),
        ]
        return flags.filter { $0.1 != nil }.map(\.0)
    }

    /// `--hidden` parsed, `nil` if malformed.
    var hiddenWidths: [Int]? {
        guard let hidden else { return Self.vaeDefaults.hidden }
        if hidden.trimmingCharacters(in: .whitespaces).isEmpty || hidden == "none" { return [] }
        let parts = hidden.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return values.count == parts.count && values.allSatisfy({ $0 > 0 }) ? values : nil
    }

    /// `--dead-code-steps` parsed: `.some(nil)` for one epoch, `nil` if malformed.
    var parsedDeadCodeSteps: Int?? {
        guard let deadCodeSteps, deadCodeSteps != "epoch" else { return .some(nil) }
        guard let value = Int(deadCodeSteps), value >= 0 else { return nil }
        return .some(value)
    }

    /// The RQ-VAE configuration from the flags.
    func vaeConfiguration() throws -> RQVAE.Configuration {
        var c = RQVAE.Configuration(codebookSizes: try codebookSizes())
        if let epochs { c.epochs = epochs }
        if let lr { c.optimizer.learningRate = lr }
        if let batch { c.batchSize = batch }
        if let weightDecay { c.optimizer.weightDecay = weightDecay }
        if let warmupSteps { c.optimizer.warmupSteps = warmupSteps }
        if let lrDecay, let decay = LearningRateSchedule.Decay(rawValue: lrDecay) { c.optimizer.decay = decay }
        if let lrMinFraction { c.optimizer.minimumFraction = lrMinFraction }
        if let beta { c.beta = beta }
        if let latentDim { c.latentDimension = latentDim }
        if let widths = hiddenWidths { c.hidden = widths }
        if let steps = parsedDeadCodeSteps { c.deadCodeSteps = steps }
        if let deadCodeStopEpochs { c.deadCodeStopEpochs = deadCodeStopEpochs }
        if let initSamplesPerCode { c.initSamplesPerCode = initSamplesPerCode }
        if let evalEvery { c.evaluateEvery = evalEvery }
        if let patience { c.patience = patience }
        if let checkpointTolerance { c.checkpointTolerance = checkpointTolerance }
        if let precision { c.precision = precision }
        return c
    }

    /// The policy with its settings.
    var collisionPolicy: CollisionPolicy {
        if collisions == .sinkhorn {
            return .sinkhorn(SinkhornPolicy(epsilon: sinkhornEpsilon, iterations: sinkhornIterations, rounds: sinkhornRounds))
        }
        return collisions.policy
    }

    func validate() throws {
        do { try collisionPolicy.validate() } catch { throw ValidationError(ErrorMessages.message(for: error)) }
        if let levels, levels < 1 || levels > IndexLimits.maximumLevels {
            throw ValidationError("--levels must be in 1…\(IndexLimits.maximumLevels) (got \(levels))")
        }
        _ = try codebookSizes()
        if collaborativeDim < 1 || collaborativeDim > 4096 {
            throw ValidationError("--collaborative-dim must be in 1…4096 (got \(collaborativeDim))")
        }
        if embeddings == nil && items == nil {
            throw ValidationError("give --embeddings (and/or --items for the item count)")
        }
        if kmeansIterations < 1 { throw ValidationError("--kmeans-iterations must be at least 1 (got \(kmeansIterations))") }
        if !(kmeansTolerance >= 0) { throw ValidationError("--kmeans-tolerance must be 0 or more") }
        if maxPointsPerCentroid < 0 { throw ValidationError("--max-points-per-centroid must be 0 or more") }
        if rowsPerShard < 1 { throw ValidationError("--rows-per-shard must be at least 1") }
        if warmupDimensions == nil {
            throw ValidationError("--kmeans-warmup must be auto, none, or increasing positive integers separated by commas (got \"\(kmeansWarmup)\")")
        }
        if !(warmupTolerance >= 0) { throw ValidationError("--warmup-tolerance must be 0 or more") }
        if kmeansRefinement < 0 { throw ValidationError("--kmeans-refinement must be 0 or more") }
        if kmeansRestarts < 1 { throw ValidationError("--kmeans-restarts must be at least 1") }
        if warmupIterations < 0 { throw ValidationError("--warmup-iterations must be 0 or more") }
        if method != .rqVAE {
            if let flag = givenVAEFlags.first {
                throw ValidationError("\(flag) applies to --method rq-vae only (got --method \(method.rawValue))")
            }
            return
        }
        if let lrDecay, ![.constant, .cosine].contains(LearningRateSchedule.Decay(rawValue: lrDecay)) {
            throw ValidationError("--lr-decay must be cosine or constant (got \(lrDecay))")
        }
        if hiddenWidths == nil {
            throw ValidationError("--hidden must be positive widths separated by commas, e.g. 512,256,128 (got \(hidden ?? ""))")
        }
        if parsedDeadCodeSteps == nil {
            throw ValidationError("--dead-code-steps must be \"epoch\" or a whole number ≥ 0 (got \(deadCodeSteps ?? ""))")
        }
        do {
            // Item count is checked against K when the data is read.
            try vaeConfiguration().validate(items: Int.max, dimension: 1)
        } catch let error as QuantizationError {
            throw ValidationError(ErrorMessages.message(for: error))
        }
    }

    /// The library configuration from the flags.
    func buildConfiguration() throws -> BuildConfiguration {
        var configuration = BuildConfiguration(codebookSizes: try codebookSizes(),
                                               collisionPolicy: collisionPolicy, seed: seed)
        configuration.method = method
        configuration.kmeans.iterations = kmeansIterations
        configuration.kmeans.tolerance = kmeansTolerance
        configuration.kmeans.maxPointsPerCentroid = maxPointsPerCentroid
        configuration.kmeans.initialization = kmeansInit
        configuration.rowsPerShard = rowsPerShard
        configuration.source = source
        configuration.collaborative = CollaborativeConfiguration(
            dimension: collaborativeDim, window: cooccurrenceWindow, heldOutPerUser: heldOut, contentWeight: contentWeight)
        configuration.kmeans.warmupDimensions = warmupDimensions ?? nil
        configuration.kmeans.warmupIterations = warmupIterations
        configuration.kmeans.warmupTolerance = warmupTolerance
        configuration.kmeans.restarts = kmeansRestarts
        configuration.kmeans.refinementPasses = kmeansRefinement
        configuration.rqvae = try vaeConfiguration()
        return configuration
    }

    func run() throws {
        let progress = Console.progress(quiet: quiet)
        var request = BuildRequest(embeddings: embeddings.map { .file($0) }, items: items.map { .file($0) },
                                   sequences: sequences.map { .file($0) }, configuration: try buildConfiguration(), output: out)
        request.overwrite = force
        request.waiting = writer.waiting
        request.progress = progress
        let result = try Pipeline.build(request)
        if !result.trieStored {
            Console.err("note: IDs are not unique (policy \(collisions.rawValue)), so no decoding trie is stored")
        }
        for g in result.levelGrowth where g.isNearDegenerate {
            Console.err(Self.degenerateLevelWarning(g))
        }
        Console.out("wrote \(out) in \(Format.seconds(result.seconds))")
        Console.out(InspectCommand.render(result.report, manifest: result.index.manifest))
    }

    /// The warning for a level that made few of the new raw-ID prefixes it could have.
    static func degenerateLevelWarning(_ g: LevelGrowth) -> String {
        let added = g.distinctPrefixes - g.previousPrefixes
        let before = g.level == 1 ? "" : " (from \(g.previousPrefixes) after level \(g.level - 1))"
        return "warning: level \(g.level) (\(g.codebookSize) codes) is near-degenerate: \(g.distinctPrefixes) distinct prefixes "
            + "after it\(before), \(added) new of the \(g.possiblePrefixes - g.previousPrefixes) it could add "
            + "(\(Format.percent(g.gain, 1)), under \(Format.percent(LevelGrowth.minimumGain, 0))); its codes barely tell "
            + "the items apart: try fewer --levels, a smaller --codebook-size at this level, or `semid plan`"
    }
}
