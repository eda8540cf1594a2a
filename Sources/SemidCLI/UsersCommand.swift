import ArgumentParser
import Foundation
import SemidDecoding
import SemidIndex
import SemidMath
import SemidModel
import SemidStorage

/// `semid users`: semantic IDs for users, stored in the index next to the item IDs.
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Give users semantic IDs of their own (ULMRec / TTDS style).",
        discussion: """
            A user's vector is the recency-weighted mean of their training items' vectors (the last
            --held-out items of every history are never used), optionally fused with a per-user text
            embedding (--user-embeddings, row u = user u). The vectors are quantized by residual
            k-means with a collision policy; IDs go to the index's shards and to the catalog's users
            table. Item vectors are --item-embeddings, or else the index's own decoded item codes.
            With --add, users not yet in the index get IDs from the frozen user quantizer and no
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

    @Option(help: "Levels of the user quantizer (default 3, or the number of --codebook-size values).")
    var levels: Int?

    @Option(help: "Codes per level of the user quantizer: one value for every level, or one per level separated by commas (e.g. 256,64,64).")
    var codebookSize = CodebookSizeList([64])

    @Option(help: "Collision policy for user IDs: none, suffix or sinkhorn.")
    var collisions: String = "suffix"

    @Option(help: "Seed of the user quantizer.")
    var seed: UInt64 = 0

    @Option(help: "Recency half-life of the history mean, in items.")
    var recencyHalfLife: Double = 3

    @Option(help: "Share of the history view when --user-embeddings are given, in [0, 1].")
    var historyWeight: Double = 0.5

    @Option(help: "Items held out at the end of every history.")
    var heldOut: Int = 2

    @Flag(help: "Only give IDs to users that do not have one yet (ids continuing after the existing ones).")
    var add = false

    @Flag(help: "Replace existing user IDs.")
    var force = false

    @Flag(help: "No progress output.")
    var quiet = false

    @OptionGroup var writer: WriterOptions

    func validate() throws {
        guard CollisionPolicy(name: collisions) != nil else {
            throw ValidationError("--collisions must be one of \(CollisionPolicy.names.joined(separator: ", ")) (got \(collisions))")
        }
        if add && force { throw ValidationError("--add and --force cannot be combined") }
    }

    func run() throws {
        // The writer lock is held from reading the index to writing it back.
        let target = FileSystem.resolvedWriteTarget(index)
        let lock = FileSystem.isDirectory(target) ? try DirectoryLock.acquire(target, waiting: writer.waiting) : nil
        defer { lock?.release() }
        var opened = try IndexStore.open(at: index)
        let existing = try UserIDs.load(from: opened)
        if existing != nil && !add && !force {
            throw CommandFailure("\(index) already has user IDs; pass --add to give IDs to new users or --force to rebuild them")
        }
        let histories = try SequenceFile.read(at: sequences, itemCount: opened.itemCount)
        var inputs = [try InputFingerprint(role: "sequences", path: sequences, rows: histories.count, columns: nil)]
        let (itemVectors, itemFingerprint) = try loadItemVectors(opened)
        if let itemFingerprint { inputs.append(itemFingerprint) }

        let selected = add ? histories.filter { $0.user >= (existing?.section.users ?? 0) } : histories
        var text: Matrix?
        if let userEmbeddings {
            let all = try NpyFile.readMatrix(at: userEmbeddings)
            guard all.rows == histories.count else {
                throw InputError(userEmbeddings, "has \(all.rows) rows but \(sequences) has \(histories.count) users; row u must be user u")
            }
            inputs.append(try InputFingerprint(role: "user-embeddings", path: userEmbeddings, rows: all.rows, columns: all.cols))
            let positions = Dictionary(uniqueKeysWithValues: histories.enumerated().map { ($1.user, $0) })
            text = all.gatheringRows(selected.sorted { $0.user < $1.user }.map { positions[$0.user] ?? 0 })
        }

        let users: UserIDs
        let rows: [CatalogUser]
        if add {
            if selected.isEmpty {
                Console.out("every user in \(sequences) already has an ID; nothing to add")
                return
            }
            (users, rows) = try UserIDBuilder.add(index: &opened, sequences: selected, itemVectors: itemVectors,
                                                  textEmbeddings: text, inputs: inputs)
        } else {
            let sizes = try codebookSize.resolved(levels: levels, defaultLevels: 3)
            var configuration = UserIDConfiguration(
                codebookSizes: sizes, collisionPolicy: CollisionPolicy(name: collisions) ?? .suffix,
                seed: seed, recencyHalfLife: recencyHalfLife, historyWeight: historyWeight, heldOutPerUser: heldOut)
            configuration.kmeans = .init(clusters: sizes[0])
            (users, rows) = try UserIDBuilder.build(index: &opened, sequences: histories, itemVectors: itemVectors,
                                                    itemVectorsFingerprint: itemFingerprint, textEmbeddings: text,
                                                    inputs: inputs, configuration: configuration,
                                                    progress: Console.progress(quiet: quiet))
        }
        let idLength = users.ids.levels
        let replace = !add
        try IndexStore.write(opened, catalog: .edited(path: index + "/" + IndexStore.catalogFile) { catalog in
            if replace { try catalog.createUsersTable(idLength: idLength, replace: true) }
            try catalog.insertUsers(rows)
        }, to: index, overwrite: true, waiting: writer.waiting)
        if replace, existing != nil, let model = try? StoredModel.summary(of: opened), model.configuration.userTokens {
            Console.err("warning: the model in \(index) was trained with user tokens on the previous user IDs, which no longer match; "
                        + "retrain it (semid train \(index) --user-tokens …) before recommending with it")
        }
        let report = users.report(groupLimit: 0)
        Console.out("\(add ? "added" : "gave") \(rows.count) users IDs in \(index): \(users.section.users) users, "
                    + "ID length \(idLength), raw collision rate \(Format.percent(report.raw.collisionRate)), "
                    + "final \(Format.percent(report.final.collisionRate))")
    }

    /// The item vectors for user vectors: `--item-embeddings`, or the index's decoded codes.
    func loadItemVectors(_ opened: SemanticIndex) throws -> (Matrix, InputFingerprint?) {
        if let itemEmbeddings {
            let m = try NpyFile.readMatrix(at: itemEmbeddings)
            guard m.rows == opened.itemCount else {
                throw InputError(itemEmbeddings, "has \(m.rows) rows but the index has \(opened.itemCount) items")
            }
            return (m, try InputFingerprint(role: "item-embeddings", path: itemEmbeddings, rows: m.rows, columns: m.cols))
        }
        do {
            return (try opened.quantizer.reconstruct(opened.rawCodes), nil)
        } catch {
            throw CommandFailure("\(index) has \(opened.manifest.parameters.method) IDs that cannot be decoded to vectors; give --item-embeddings")
        }
    }
}
