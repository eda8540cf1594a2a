import ArgumentParser
import Foundation
import Semid

/// `semid compare`: the indexing-scheme comparison (issue: collaborative + hybrid IDs).
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Build several ID schemes on the same data, train the same model on each, and compare them.",
        discussion: """
            Schemes: random, sequential (baselines), content-rq-kmeans, content-rq-vae, collaborative \
            and hybrid. Every scheme gets the same model and the same training budget; the table \
            reports the raw collision rate, test Recall@10 / NDCG@10 (full ranking by generation, \
            beam 20, mean over --seeds), and build and training time. By default the model sees an \
            item only through its ID tokens (--representation ids), as in the indexing study, so the \
            differences come from the IDs; --representation full adds free item vectors. \
            Indexes are kept in --out for inspection.
            """)

    @Option(help: "Item content embeddings (.npy).")
    var embeddings: String

    @Option(help: "Item catalog (JSONL or LC-Rec *.item.json).")
    var items: String?

    @Option(help: "User histories (TSV or LC-Rec *.inter.json).")
    var sequences: String

    @Option(help: "Comma-separated schemes (default: all six).")
    var schemes: String = "random,sequential,content-rq-kmeans,content-rq-vae,collaborative,hybrid"

    @Option(help: "User-ID tokens: off, on or both.")
    var userTokens: UserTokenRuns = .both

    @Option(help: "Comma-separated training seeds; results are averaged.")
    var seeds: String = "1,2"

    @Option(help: "Quantizer levels of every scheme (default 3, or the number of --codebook-size values).")
    var levels: Int?

    @Option(help: "Codes per level, one value or one per level separated by commas (random IDs use it too; sequential IDs pick their own base).")
    var codebookSize = CodebookSizeList([256])

    @Option(help: "Full-space Lloyd iterations of every k-means (item schemes and user IDs).")
    var kmeansIterations = KMeans.Configuration(clusters: 2).iterations

    @Option(help: "RQ-VAE epochs for the content-rq-vae scheme.")
    var rqvaeEpochs = RQVAE.Configuration(levels: 1, codebookSize: 2).epochs

    @Option(help: "Item representation in the model: ids (code tokens only) or full (plus free item vectors).")
    var representation: Representation = .ids

    @Option(help: "Maximum training epochs per run, the same budget for every scheme (fewer than `semid train`'s \(TrainingOptions.training.epochs): the comparison trains one model per scheme, seed and user-token setting).")
    var epochs = SchemeComparison.Configuration.defaultEpochs

    @Option(help: "Early-stopping patience, epochs without a better validation NDCG@10 (shorter than `semid train`'s \(TrainingOptions.training.patience), with the shorter budget).")
    var patience = SchemeComparison.Configuration.defaultPatience

    @OptionGroup var options: TrainingOptions






    @Option(help: "User-ID levels for the runs with user tokens (default \(UserIDConfiguration().levels), or the number of --user-codebook-size values).")
    var userLevels: Int?

    @Option(help: "User-ID codes per level, one value or one per level separated by commas.")
    var userCodebookSize = CodebookSizeList([UserIDConfiguration().codebookSizes[0]])

    /// Item codebook sizes per level.
    func codebookSizes() throws -> [Int] { try codebookSize.resolved(levels: levels, defaultLevels: 3) }
    /// User codebook sizes per level.
    func userCodebookSizes() throws -> [Int] {
        try userCodebookSize.resolved(levels: userLevels, defaultLevels: UserIDConfiguration().levels,
                                      flag: "--user-codebook-size", levelsFlag: "--user-levels")
    }

    @Option(help: "User-ID positions the model reads: all (including the suffix position) or a number (default: --user-levels, the quantizer's codes without the suffix).")
    var userTokenLevels: String?

    @Option(help: "Probability of replacing a training sequence's user vector by zeros (as in `semid train`).")
    var userTokenDropout: Float = 0.1

    @Option(help: "User IDs seen in training: causal (encoded from the items before each trained position) or stored (the final IDs, which describe the targets).")
    var userIdTraining: TrainingConfiguration.UserIDTraining = .causal

    @Option(help: "Beam width of the test evaluation.")
    var beam = EvaluationSettings().beamWidth

    @Option(help: "Directory for the indexes.")
    var out: String = "out/compare"

    @Flag(help: "Print the table as JSON.")
    var json = false

    /// `--user-tokens`: which runs of every scheme read user tokens.
    enum UserTokenRuns: String, CaseIterable, ExpressibleByArgument {
        case off, on, both
        /// The runs' user-token settings, in order.
        var runs: [Bool] { self == .both ? [false, true] : [self == .on] }
    }

    /// `--representation`: how the model represents an item.
    enum Representation: String, CaseIterable, ExpressibleByArgument {
        /// Its ID's code tokens only.
        case ids
        /// Code tokens plus a free item vector.
        case full
    }

    var schemeList: [String] { schemes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    var seedList: [UInt64]? {
        let parts = seeds.split(separator: ",")
        let values = parts.compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        return values.count == parts.count && !values.isEmpty ? values : nil
    }

    func validate() throws {
        let known = Set(SchemeComparison.Scheme.standard(levels: 1, codebookSize: 2, seed: 0, rqvaeEpochs: 1).map { $0.name.replacingOccurrences(of: " ", with: "-") })
        for s in schemeList where !known.contains(s) {
            throw ValidationError("unknown scheme \(s) in --schemes (known: \(known.sorted().joined(separator: ", ")))")
        }
        if seedList == nil { throw ValidationError("--seeds must be comma-separated integers (got \(seeds))") }
        if epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if patience < 0 { throw ValidationError("--patience must be 0 or more") }
        _ = try codebookSizes()
        if rqvaeEpochs < 1 { throw ValidationError("--rqvae-epochs must be at least 1") }
        let userLevels = try userCodebookSizes().count
        if let l = userTokenLevels, l != "all", (Int(l) ?? 0) < 1 || (Int(l) ?? 0) > userLevels + 1 {
            throw ValidationError("--user-token-levels must be all or 1…\(userLevels + 1) (got \(l))")
        }
        if !(0..<1).contains(userTokenDropout) { throw ValidationError("--user-token-dropout must be in [0, 1) (got \(userTokenDropout))") }
        if beam < 1 { throw ValidationError("--beam must be at least 1 (got \(beam))") }
        if kmeansIterations < 1 { throw ValidationError("--kmeans-iterations must be at least 1 (got \(kmeansIterations))") }
        if userIdTraining == .causal, let l = userTokenLevels,
           l == "all" || (Int(l) ?? 0) > userLevels {
            throw ValidationError("--user-token-levels \(l): causal user IDs have only the quantizer's \(userLevels) positions (no collision suffix); use 1…\(userLevels) or --user-id-training stored")
        }
    }

    func run() throws {
        let wanted = Set(schemeList)
        var selected = SchemeComparison.Scheme.standard(codebookSizes: try codebookSizes(), seed: 7, rqvaeEpochs: rqvaeEpochs)
            .filter { wanted.contains($0.name.replacingOccurrences(of: " ", with: "-")) }
        for i in selected.indices { selected[i].build.kmeans.iterations = kmeansIterations }
        var model = ModelConfiguration()
        model.itemEmbeddings = representation == .full
        model.codeEmbeddings = true
        model.userTokenDropout = userTokenDropout
        var training = TrainingConfiguration()
        training.epochs = epochs
        training.patience = patience
        options.apply(to: &model, &training)
        model.feedForward = 4 * options.dim
        training.userIDSource = userIdTraining
        let userSizes = try userCodebookSizes()
        var users = UserIDConfiguration(codebookSizes: userSizes, collisionPolicy: .suffix, seed: 7)
        users.kmeans.iterations = kmeansIterations
        let configuration = SchemeComparison.Configuration(
            schemes: selected, seeds: seedList ?? [1], userTokens: userTokens.runs,
            model: model, training: training,
            users: users,
            userTokenLevels: userTokenLevels == "all" ? nil : Int(userTokenLevels ?? "") ?? userSizes.count,
            beam: beam)
        var request = ComparisonRequest(embeddings: .file(embeddings), items: items.map { .file($0) },
                                        sequences: .file(sequences), configuration: configuration, directory: out)
        request.log = { Console.err($0) }
        let rows = try Pipeline.compare(request)
        if json {
            Console.out(try JSONOutput.render(rows))
            return
        }
        var settings = "model representation: \(representation.rawValue)"
        if configuration.userTokens.contains(true) {
            settings += "; user tokens read \(configuration.userTokenLevels.map { "\($0) ID position\($0 == 1 ? "" : "s")" } ?? "all ID positions"), dropout \(userTokenDropout), \(userIdTraining.rawValue) user IDs in training"
        }
        Console.out(Self.render(rows, seeds: configuration.seeds.count, beam: beam, settings: settings))
    }

    /// The comparison table, with the best scheme's gain over the best content-only scheme.
    static func render(_ rows: [SchemeComparison.Row], seeds: Int, beam: Int, settings: String) -> String {
        var table = TextTable(["scheme", "user tokens", "raw collisions", "ID length", "R@10", "N@10", "invalid", "build s", "train s"])
        for r in rows {
            table.add([r.scheme, r.userTokens ? "yes" : "no", Format.percent(r.rawCollisionRate), "\(r.idLength)",
                       Format.fixed(r.meanRecall10), Format.fixed(r.meanNdcg10), "\(r.invalid)",
                       String(format: "%.1f", r.buildSeconds), String(format: "%.0f", r.trainSeconds)])
        }
        var lines = ["test split, full ranking by generation, beam \(beam), mean of \(seeds) seed\(seeds == 1 ? "" : "s"); \(settings)",
                     table.render()]
        let best = rows.max { $0.meanNdcg10 < $1.meanNdcg10 }
        let bestContent = rows.filter(\.contentOnly).max { $0.meanNdcg10 < $1.meanNdcg10 }
        if let best, let bestContent, bestContent.meanNdcg10 > 0, bestContent.meanRecall10 > 0 {
            lines.append(String(format: "best: %@%@, N@10 %+.1f%%, R@10 %+.1f%% relative to the best content-only scheme (%@%@)",
                                best.scheme, best.userTokens ? " + user tokens" : "",
                                100 * (best.meanNdcg10 / bestContent.meanNdcg10 - 1), 100 * (best.meanRecall10 / bestContent.meanRecall10 - 1),
                                bestContent.scheme, bestContent.userTokens ? " + user tokens" : ""))
        }
        return lines.joined(separator: "\n")
    }
}
