import ArgumentParser
import Foundation
import Semid

/// `semid eval`: full-ranking metrics by generation, with a popularity baseline.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate the index's model by generation on a leave-one-out split, with a popularity baseline.",
        discussion: """
            For each user the model generates the top max(K) items by trie-constrained beam search (full ranking: every item can be returned); Recall@K and NDCG@K are computed on those results. `invalid` counts returned IDs that are not items of the index (always 0). The popularity baseline ranks items by their count in the data visible before the split's targets and is decoded by the same search.
            """)

    @Argument(help: "The index directory (with a model from `semid train`).")
    var index: String

    @Option(help: "User sequences: TSV or LC-Rec *.inter.json (the file the model was trained on).")
    var sequences: String

    @Option(help: "test (last item) or valid (second-last).")
    var split = "test"

    @Option(help: "Cut-offs, comma-separated.")
    var k = "5,10"

    @Option(help: "Beam width (at least the largest cut-off).")
    var beam = 20

    @Flag(help: "Never return an item of the user's history.")
    var excludeHistory = false

    @Option(help: "History length (default: the model's).")
    var maxHistory: Int?

    @Flag(help: "Skip the popularity baseline.")
    var noBaseline = false

    @Flag(help: "Also rank all items exactly by the items head's scores (no beam search), to measure what the beam loses.")
    var compareExact = false

    @Flag(help: "With a model that reads user tokens: give every user the unknown-user token instead of their ID (measures that fallback).")
    var unknownUsers = false

    @Flag(help: "Print JSON.")
    var json = false

    func parsedCutoffs() throws -> [Int] {
        let parts = k.split(separator: ",")
        let values = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, values.count == parts.count else {
            throw ValidationError("--k must be comma-separated positive integers, e.g. 5,10 (got \(k))")
        }
        guard values.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--k values must be at least 1 (got \(k))") }
        return values
    }

    func validate() throws {
        if LeaveOneOutSplit.Part(rawValue: split) == nil { throw ValidationError("--split must be test or valid (got \(split))") }
        let ks = try parsedCutoffs()
        if beam < ks.max()! { throw ValidationError("--beam \(beam) is smaller than the largest cut-off \(ks.max()!); use --beam \(ks.max()!) or more") }
        if let m = maxHistory, m < 1 { throw ValidationError("--max-history must be at least 1 (got \(m))") }
    }

    func run() throws {
        let ks = try parsedCutoffs()
        let part = LeaveOneOutSplit.Part(rawValue: split) ?? .test
        let opened = try TrainedIndex.open(index)
        let n = opened.model.itemCount
        let splitData = try ModelTraining.readSplit(sequences, itemCount: n, maxHistory: maxHistory ?? opened.model.configuration.maxHistory)
        let cases = splitData.cases(part)
        guard !cases.isEmpty else { throw CommandFailure("\(sequences): no user has enough items for the \(split) split") }
        let settings = EvaluationSettings(cutoffs: ks, beamWidth: beam, excludeHistory: excludeHistory)
        let model = try opened.evaluate(cases, settings: settings, unknownUsers: unknownUsers)
        let baseline = noBaseline ? nil : try GenerativeEvaluation.popularity(
            cases, counts: splitData.itemCounts(before: part, itemCount: n), trie: opened.trie, settings: settings)
        var exact: EvaluationResult?
        if compareExact && opened.model.configuration.hasItemHead {
            let t0 = Date()
            let m = try ModelTrainer.exactRanking(opened.model, cases: cases, cutoffs: ks, excludeHistory: excludeHistory,
                                                  users: unknownUsers ? nil : opened.users)
            exact = EvaluationResult(metrics: m, seconds: Date().timeIntervalSince(t0))
        }
        if json {
            var object: [String: Any] = [
                "split": split, "beam": beam, "exclude_history": excludeHistory, "blas": BLASRuntime.summary,
                "model": Self.dictionary(model), "head": opened.model.configuration.head.rawValue,
                "user_tokens": opened.model.configuration.userTokens ? (unknownUsers ? "unknown" : "ids") : "none",
            ]
            if let baseline { object["popularity"] = Self.dictionary(baseline) }
            if let exact { object["model_exact_ranking"] = Self.dictionary(exact) }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            Console.out(String(decoding: data, as: UTF8.self))
            return
        }
        var header = ["", "users"]
        for k in model.metrics.cutoffs { header += ["recall@\(k)", "ndcg@\(k)"] }
        header += ["invalid", "time"]
        var table = TextTable(header)
        func row(_ name: String, _ r: EvaluationResult) -> [String] {
            var cells = [name, "\(r.metrics.users)"]
            for k in r.metrics.cutoffs { cells += [Format.fixed(r.metrics.recall(at: k)), Format.fixed(r.metrics.ndcg(at: k))] }
            return cells + ["\(r.metrics.invalid)", Format.seconds(r.seconds)]
        }
        let userNote = !opened.model.configuration.userTokens ? "" : (unknownUsers ? ", unknown-user token" : ", user tokens")
        table.add(row("model (\(opened.model.configuration.head.rawValue) head\(userNote))", model))
        if let exact { table.add(row("model, exact ranking (no beam)", exact)) }
        if let baseline { table.add(row("popularity", baseline)) }
        Console.out("\(split) split, full ranking by generation, beam \(beam)\(excludeHistory ? ", history excluded" : "")")
        Console.out(table.render())
    }

    static func dictionary(_ r: EvaluationResult) -> [String: Any] {
        var out: [String: Any] = ["seconds": r.seconds]
        for (name, value) in r.metrics.values {
            out[name] = (name == "users" || name == "invalid") ? Int(value) as Any : value as Any
        }
        return out
    }
}
