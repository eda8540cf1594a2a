import ArgumentParser
import Foundation
import SemidDecoding
import SemidIndex
import SemidMath
import SemidQuantization
import SemidStorage

/// `semid build`: embeddings (+ item catalog) → codebooks → unique semantic IDs → index on disk.
struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Train a residual quantizer on item embeddings and write a semantic-ID index.",
        discussion: """
            The index is written to a temporary directory next to --out and renamed into place, so an
            interrupted build leaves any previous index intact. Same inputs + same --seed give a
            byte-identical index (on the same OpenBLAS kernel).

            --method rq-vae trains an MLP autoencoder (d → --hidden → --latent-dim, mirrored decoder)
            with --levels residual codebooks of --codebook-size codes in its latent space
            (straight-through gradients, loss = reconstruction MSE + codebook loss + --beta ×
            commitment, AdamW). One progress line per epoch; every --eval-every epochs all items are
            encoded and the raw collision rate, per-level utilisation and reconstruction are measured.
            The kept checkpoint is the evaluation with the lowest raw collision rate among those whose
            relative reconstruction MSE is within --checkpoint-tolerance of the best one.
            """)

    @Option(help: "Item embeddings: a 2-D .npy file (<f4, <f2 or <f8, C order); row i is item i. Needed for --source content|hybrid.")
    var embeddings: String?

    @Option(help: "Item catalog: JSONL (item, source_id, title, text) or LC-Rec *.item.json. Without it items are 0…n−1, untitled.")
    var items: String?

    @Option(help: "How IDs are made: rq-kmeans (residual k-means), rq-vae (residual quantization in a learned latent space), or the baselines random and sequential (numbered by first appearance in --sequences).")
    var method: String = QuantizationMethod.rqKMeans.rawValue

    @Option(help: "Vectors to quantize: content (--embeddings), collaborative (PPMI factorisation of --sequences) or hybrid (both, concatenated).")
    var source: String = ItemVectorSource.content.rawValue

    @Option(help: "User histories (TSV user<TAB>items… or LC-Rec *.inter.json) for collaborative/hybrid vectors and sequential IDs; the last 2 items per user are held out.")
    var sequences: String?

    @Option(help: "Dimension of the collaborative vectors.")
    var collaborativeDim: Int = 64

    @Option(help: "Items at most this many positions apart co-occur (weight 1/distance).")
    var cooccurrenceWindow: Int = 5

    @Option(help: "hybrid: share of the content view in [0, 1].")
    var contentWeight: Double = 0.5

    @Option(help: "Items held out at the end of every sequence when using --sequences (2 = leave-one-out validation + test).")
    var heldOut: Int = 2

    @Option(help: "Number of quantizer levels L (default 3, or the number of --codebook-size values).")
    var levels: Int?

    @Option(help: "Codes per level K: one value for every level, or one per level separated by commas (e.g. 1024,256,256).")
    var codebookSize = CodebookSizeList([256])

    /// The codebook size of every level (`--levels` and `--codebook-size` checked against each other).
    func codebookSizes() throws -> [Int] { try codebookSize.resolved(levels: levels, defaultLevels: 3) }

    @Option(help: "Collision policy: none (report only), suffix (TIGER: one extra level = rank in the colliding group) or sinkhorn (LC-Rec uniform mapping, finished so every ID is unique at the same length).")
    var collisions: String = "suffix"

    @Option(help: "sinkhorn: entropic regularisation on standardised distances.")
    var sinkhornEpsilon: Double = 0.003

    @Option(help: "sinkhorn: Sinkhorn-Knopp iterations per round.")
    var sinkhornIterations: Int = 50

    @Option(help: "sinkhorn: maximum rounds before the deterministic next-best-free-code step.")
    var sinkhornRounds: Int = 20

    @Option(help: "Seed for every random choice.")
    var seed: UInt64 = 0

    @Option(help: "Maximum full-dimensional k-means iterations per level.")
    var kmeansIterations: Int = 10

    @Option(help: "Stop k-means when an iteration improves the mean squared error by less than this fraction.")
    var kmeansTolerance: Double = 1e-5

    @Option(help: "Train each level on at most this many points per code (0 = all points).")
    var maxPointsPerCentroid: Int = 512

    @Option(help: "k-means seeding: kmeans++ or random.")
    var kmeansInit: String = KMeans.Initialization.kMeansPlusPlus.rawValue

    @Option(help: "Principal-subspace dimensions clustered before the full space, comma-separated: \"auto\" (4, 8, 16, … up to d/2, at most 64) or \"none\".")
    var kmeansWarmup: String = "auto"

    @Option(help: "k-means iterations in each warm-up subspace.")
    var warmupIterations: Int = 10

    @Option(help: "Stop a warm-up stage when an iteration improves its error by less than this fraction.")
    var warmupTolerance: Double = 1e-5

    @Option(help: "Independent k-means fits per level; the lowest-error one is kept.")
    var kmeansRestarts: Int = 1

    @Option(help: "Passes of Hartigan single-point moves after k-means converges (0 = plain Lloyd).")
    var kmeansRefinement: Int = 2

    @Option(help: "Maximum rows per shard for per-item arrays.")
    var rowsPerShard: Int = 262_144

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
    var precision: String?

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
        if let lrDecay, let decay = AdamW.Decay(rawValue: lrDecay) { c.optimizer.decay = decay }
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
        if let precision, let value = RQVAE.Configuration.Precision(rawValue: precision) { c.precision = value }
        return c
    }

    /// The policy with its settings.
    var collisionPolicy: CollisionPolicy {
        if collisions == "sinkhorn" {
            return .sinkhorn(SinkhornPolicy(epsilon: sinkhornEpsilon, iterations: sinkhornIterations, rounds: sinkhornRounds))
        }
        return CollisionPolicy(name: collisions) ?? .suffix
    }

    func validate() throws {
        do { try collisionPolicy.validate() } catch { throw ValidationError("\(error)") }
        if let levels, levels < 1 || levels > IndexLimits.maximumLevels {
            throw ValidationError("--levels must be in 1…\(IndexLimits.maximumLevels) (got \(levels))")
        }
        _ = try codebookSizes()
        if collaborativeDim < 1 || collaborativeDim > 4096 {
            throw ValidationError("--collaborative-dim must be in 1…4096 (got \(collaborativeDim))")
        }
        if CollisionPolicy(name: collisions) == nil {
            throw ValidationError("--collisions must be one of \(CollisionPolicy.names.joined(separator: ", ")) (got \(collisions))")
        }
        if ItemVectorSource(rawValue: source) == nil {
            throw ValidationError("--source must be one of \(ItemVectorSource.allCases.map(\.rawValue).joined(separator: ", ")) (got \(source))")
        }
        if embeddings == nil && items == nil {
            throw ValidationError("give --embeddings (and/or --items for the item count)")
        }
        if QuantizationMethod(rawValue: method) == nil {
            throw ValidationError("--method must be one of \(QuantizationMethod.allCases.map(\.rawValue).joined(separator: ", ")) (got \(method))")
        }
        if KMeans.Initialization(rawValue: kmeansInit) == nil {
            throw ValidationError("--kmeans-init must be kmeans++ or random (got \(kmeansInit))")
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
        if QuantizationMethod(rawValue: method) != .rqVAE {
            if let flag = givenVAEFlags.first {
                throw ValidationError("\(flag) applies to --method rq-vae only (got --method \(method))")
            }
            return
        }
        if let lrDecay, AdamW.Decay(rawValue: lrDecay) == nil {
            throw ValidationError("--lr-decay must be cosine or constant (got \(lrDecay))")
        }
        if let precision, RQVAE.Configuration.Precision(rawValue: precision) == nil {
            throw ValidationError("--precision must be auto, fp32 or bf16 (got \(precision))")
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
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        if FileSystem.exists(out) && !force { throw IndexError.outputExists(path: out) }
        if FileSystem.exists(out) && !FileSystem.exists(out + "/" + IndexStore.manifestFile) {
            throw IndexError.inconsistentInput("\(out) exists and is not a semid index; refusing to replace it even with --force")
        }
        let started = Date()
        let progress = Console.progress(quiet: quiet)

        var matrix: Matrix?
        var inputs: [InputFingerprint] = []
        if let embeddings {
            let read = try NpyFile.readMatrix(at: embeddings)
            if let largest = try codebookSizes().max(), largest > read.rows,
               !(QuantizationMethod(rawValue: method)?.isAssigned ?? false) {
                // Checked here (and again by the quantizer) so the message names the file.
                throw InputError(embeddings, "has \(read.rows) rows, fewer than --codebook-size \(codebookSize)\(codebookSize.sizes.count > 1 ? " (\(largest) codes at a level)" : ""): "
                                 + "need at least as many vectors as codes per level (lower --codebook-size)")
            }
            if QuantizationMethod(rawValue: method) == .rqKMeans, ItemVectorSource(rawValue: source) == .content,
               let dims = warmupDimensions ?? nil, let large = dims.first(where: { 2 * $0 > read.cols }) {
                throw ValidationError("--kmeans-warmup \(kmeansWarmup): \(large) is more than half the embedding dimension (\(read.cols) in \(embeddings)); use dimensions up to \(read.cols / 2), or none")
            }
            inputs.append(try InputFingerprint(role: "embeddings", path: embeddings, rows: read.rows, columns: read.cols))
            matrix = read
        }
        var records: [ItemRecord]?
        if let items {
            let read = try ItemCatalogFile.read(at: items)
            try ItemCatalogFile.validateDense(read, startingAt: 0, source: items)
            if let matrix, read.count != matrix.rows, let embeddings {
                throw IndexError.inconsistentInput(
                    "\(items) lists \(read.count) items but \(embeddings) has \(matrix.rows) rows; row i of the embeddings must be item i")
            }
            records = read
            inputs.append(try InputFingerprint(role: "items", path: items, rows: read.count, columns: nil))
        }
        var histories: [UserSequence]?
        if let sequences {
            let count = matrix?.rows ?? records?.count ?? 0
            let read = try SequenceFile.read(at: sequences, itemCount: count)
            histories = read
            inputs.append(try InputFingerprint(role: "sequences", path: sequences, rows: read.count, columns: nil))
        }

        var configuration = BuildConfiguration(codebookSizes: try codebookSizes(),
                                               collisionPolicy: collisionPolicy, seed: seed)
        configuration.method = QuantizationMethod(rawValue: method) ?? .rqKMeans
        configuration.kmeans.iterations = kmeansIterations
        configuration.kmeans.tolerance = kmeansTolerance
        configuration.kmeans.maxPointsPerCentroid = maxPointsPerCentroid
        configuration.kmeans.initialization = KMeans.Initialization(rawValue: kmeansInit) ?? .kMeansPlusPlus
        configuration.rowsPerShard = rowsPerShard
        configuration.source = ItemVectorSource(rawValue: source) ?? .content
        configuration.collaborative = CollaborativeConfiguration(
            dimension: collaborativeDim, window: cooccurrenceWindow, heldOutPerUser: heldOut, contentWeight: contentWeight)
        configuration.kmeans.warmupDimensions = warmupDimensions ?? nil
        configuration.kmeans.warmupIterations = warmupIterations
        configuration.kmeans.warmupTolerance = warmupTolerance
        configuration.kmeans.restarts = kmeansRestarts
        configuration.kmeans.refinementPasses = kmeansRefinement
        configuration.rqvae = try vaeConfiguration()

        var built = try IndexBuilder.build(embeddings: matrix, items: records, sequences: histories, inputs: inputs,
                                           configuration: configuration, progress: progress)
        // The decoding trie is stored with the index when IDs are unique (not under --collisions none
        // with collisions left, where generation would be ambiguous anyway).
        do {
            try CodeTrie.attach(to: &built.index)
        } catch DecodingError.duplicateID {
            Console.err("note: IDs are not unique (policy \(collisions)), so no decoding trie is stored")
        }
        try IndexStore.write(built.index, catalog: .new(built.catalog), to: out, overwrite: force, progress: progress,
                             waiting: writer.waiting)
        let index = try IndexStore.open(at: out)
        let report = try index.report(groupLimit: 3)
        Console.out("wrote \(out) in \(Format.seconds(Date().timeIntervalSince(started)))")
        Console.out(InspectCommand.render(report, manifest: index.manifest))
    }
}
