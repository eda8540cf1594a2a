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
    var split: LeaveOneOutSplit.Part = .test

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
        let ks = try parsedCutoffs()
        if beam < ks.max()! { throw ValidationError("--beam \(beam) is smaller than the largest cut-off \(ks.max()!); use --beam \(ks.max()!) or more") }
        if let m = maxHistory, m < 1 { throw ValidationError("--max-history must be at least 1 (got \(m))") }
    }

    func run() throws {
        var request = EvaluationRequest(index: try Pipeline.open(index), sequences: .file(sequences))
        request.split = split
        request.settings = EvaluationSettings(cutoffs: try parsedCutoffs(), beamWidth: beam, excludeHistory: excludeHistory)
        request.maxHistory = maxHistory
        request.popularityBaseline = !noBaseline
        request.exactRanking = compareExact
        request.unknownUsers = unknownUsers
        let report = try Pipeline.evaluate(request)
        let configuration = request.index.model.configuration
        let model = report.model
        if json {
            var object: [String: JSONValue] = [
                "split": .string(split.rawValue), "beam": .number(Double(beam)), "exclude_history": .bool(excludeHistory),
                "blas": .string(BLASRuntime.summary), "model": Self.json(model), "head": .string(configuration.head.rawValue),
                "user_tokens": .string(configuration.userTokens ? (unknownUsers ? "unknown" : "ids") : "none"),
            ]
            if let baseline = report.popularity { object["popularity"] = Self.json(baseline) }
            if let exact = report.exactRanking { object["model_exact_ranking"] = Self.json(exact) }
            Console.out(try JSONOutput.render(JSONValue.object(object), keys: .asDeclared))
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
        let userNote = !configuration.userTokens ? "" : (unknownUsers ? ", unknown-user token" : ", user tokens")
        table.add(row("model (\(configuration.head.rawValue) head\(userNote))", model))
        if let exact = report.exactRanking { table.add(row("model, exact ranking (no beam)", exact)) }
        if let baseline = report.popularity { table.add(row("popularity", baseline)) }
        Console.out("\(split.rawValue) split, full ranking by generation, beam \(beam)\(excludeHistory ? ", history excluded" : "")")
        Console.out(table.render())
    }

    /// An evaluation's metrics as JSON: `users` and `invalid` as integers, the rest as numbers, and `seconds`.
    static func json(_ r: EvaluationResult) -> JSONValue {
        var out: [String: JSONValue] = ["seconds": .number(r.seconds)]
        for (name, value) in r.metrics.values { out[name] = .number(value) }
        return .object(out)
    }
}
