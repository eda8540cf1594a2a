import ArgumentParser
import Semid

/// `semid users`: semantic IDs for users, stored in the index next to the item IDs.
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Give users semantic IDs of their own (ULMRec / TTDS style).",
        discussion: """
            A user's vector is the recency-weighted mean of their training items' vectors (the last \
            --held-out items of every history are never used), optionally fused with a per-user text \
            embedding (--user-embeddings, row u = user u). The vectors are quantized by residual \
            k-means with a collision policy; IDs go to the index's shards and to the catalog's users \
            table. Item vectors are --item-embeddings, or else the index's own decoded item codes. \
            With --add, users not yet in the index get IDs from the frozen user quantizer and no \
            existing ID changes.
            """)

    @Argument(help: "The index directory.")
    var index: String

    @Option(help: "User histories: TSV user<TAB>items… or LC-Rec *.inter.json; users 0…U−1.")
    var sequences: String

    @Option(help: "Item vectors (.npy, row i = item i); default: the index's decoded item codes.")
    var itemEmbeddings: String?

    @Option(help: "Per-user text embeddings (.npy, row u = user u), fused with the history vector.")
    var userEmbeddings: String?

    @Option(help: "Levels of the user quantizer (default \(UserIDConfiguration().levels), or the number of --codebook-size values).")
    var levels: Int?

    @Option(help: "Codes per level of the user quantizer: one value for every level, or one per level separated by commas (e.g. 256,64,64).")
    var codebookSize = CodebookSizeList([UserIDConfiguration().codebookSizes[0]])

    @Option(help: "Collision policy for user IDs: none, suffix or sinkhorn.")
    var collisions: CollisionPolicyName = .suffix

    @Option(help: "Seed of the user quantizer.")
    var seed = UserIDConfiguration().seed

    @Option(help: "Recency half-life of the history mean, in items.")
    var recencyHalfLife = UserIDConfiguration().recencyHalfLife

    @Option(help: "Share of the history view when --user-embeddings are given, in [0, 1].")
    var historyWeight = UserIDConfiguration().historyWeight

    @Option(help: "Items held out at the end of every history.")
    var heldOut = UserIDConfiguration().heldOutPerUser

    @Flag(help: "Only give IDs to users that do not have one yet (ids continuing after the existing ones).")
    var add = false

    @Flag(help: "Replace existing user IDs.")
    var force = false

    @Flag(help: "No progress output.")
    var quiet = false

    @OptionGroup var writer: WriterOptions

    func validate() throws {
        if add && force { throw ValidationError("--add and --force cannot be combined") }
    }

    func run() throws {
        let sizes = try codebookSize.resolved(levels: levels, defaultLevels: UserIDConfiguration().levels)
        var configuration = UserIDConfiguration(
            codebookSizes: sizes, collisionPolicy: collisions.policy,
            seed: seed, recencyHalfLife: recencyHalfLife, historyWeight: historyWeight, heldOutPerUser: heldOut)
        configuration.kmeans = .init(clusters: sizes[0])
        var request = UserIDRequest(index: index, sequences: .file(sequences), configuration: configuration)
        request.itemEmbeddings = itemEmbeddings.map { .file($0) }
        request.userEmbeddings = userEmbeddings.map { .file($0) }
        request.mode = add ? .add : (force ? .replace : .create)
        request.waiting = writer.waiting
        request.progress = Console.progress(quiet: quiet)
        let result = try Pipeline.assignUserIDs(request)
        guard let users = result.users, result.assigned > 0 || !add else {
            Console.out("every user in \(sequences) already has an ID; nothing to add")
            return
        }
        if result.modelNeedsRetraining {
            Console.err("warning: the model in \(index) was trained with user tokens on the previous user IDs, which no longer match; "
                        + "retrain it (semid train \(index) --user-tokens …) before recommending with it")
        }
        let report = users.report(groupLimit: 0)
        Console.out("\(add ? "added" : "gave") \(result.assigned) users IDs in \(index): \(users.section.users) users, "
                    + "ID length \(users.ids.levels), raw collision rate \(Format.percent(report.raw.collisionRate)), "
                    + "final \(Format.percent(report.final.collisionRate))")
    }
}
