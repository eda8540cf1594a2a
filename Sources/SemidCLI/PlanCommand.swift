import ArgumentParser
import Foundation
import Semid

/// `semid plan`: which ID shape a catalog needs, estimated from a sample of its embeddings.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Estimate, from a sample, the raw collision rate and distinct prefixes per level of candidate ID shapes at the catalog's size, and recommend one.",
        discussion: """
            For each shape, RQ-KMeans is trained on a seeded sample of the embeddings (the training semid build uses) and the sample is encoded. The collision probability of two items at each prefix length, estimated without bias from the sample's pairs, is extrapolated to --items N with an occupancy (birthday) model: see docs/scale.md, "Capacity planning". The recommended shape is the one with the fewest levels, then the smallest vocabulary, whose estimated raw collision rate at N is at most --max-collision-rate; when none is, the one with the lowest rate. Only the sampled rows are read.
            """)

    @Option(help: "Item embeddings (.npy, [rows, d]); repeat, or separate with commas, for parts read in order.")
    var embeddings: [String]

    @Option(help: "Items N to extrapolate to (default: the embeddings' row count).")
    var items: Int?

    @Option(help: "Candidate shapes, comma-separated: LxK (3x256) or sizes per level separated by '/'.")
    var shapes = CapacityPlan.Shape.defaults.map(\.description).joined(separator: ",")

    @Option(help: "Rows sampled for training and measuring (capped at the row count).")
    var sample = CapacityPlan.Settings().sample

    @Option(help: "Seed of the sample and of training.")
    var seed: UInt64 = 0

    @Option(help: "The highest estimated raw collision rate at N a recommended shape may have (0…1).")
    var maxCollisionRate = CapacityPlan.Settings().maxCollisionRate

    @Flag(help: "Print the plan as JSON.")
    var json = false

    @Flag(help: "No progress output.")
    var quiet = false

    func run() throws {
        let paths = embeddings.flatMap { $0.split(separator: ",").map(String.init) }
        let settings = CapacityPlan.Settings(shapes: try CapacityPlan.Shape.parseList(shapes), items: items, sample: sample,
                                             seed: seed, maxCollisionRate: maxCollisionRate)
        let plan = try Pipeline.plan(PlanRequest(embeddings: paths, settings: settings, progress: Console.progress(quiet: quiet)))
        if json {
            Console.out(try JSONOutput.render(plan))
            return
        }
        Console.out("\(plan.rows) × \(plan.dimension) embeddings; sample \(plan.sample) rows (seed \(plan.seed)); estimates at N = \(plan.items) items")
        var table = TextTable(["shape", "vocab", "sample coll.", "est. coll. at N", "est. distinct IDs", "largest group", "utilisation", "residual MSE"])
        table.rightAligned = Set(1..<8)
        for (i, c) in plan.candidates.enumerated() {
            table.add([c.shape.description + (i == plan.recommended ? " *" : ""), "\(c.shape.vocabulary)",
                       Format.percent(c.sampleCollisionRate), Format.percent(c.estimatedCollisionRate),
                       String(format: "%.0f", c.levels.last?.estimatedDistinctPrefixes ?? 0),
                       "\(c.levels.last?.sampleLargestGroup ?? 0)",
                       c.levels.map { Format.fixed($0.utilisation, 2) }.joined(separator: "/"),
                       Format.fixed(c.residualMeanSquaredNorm)])
        }
        Console.out(table.render())
        Console.out("")
        var levels = TextTable(["shape", "level", "K", "sample prefixes", "largest group", "pair collision q", "est. prefixes at N"])
        levels.rightAligned = Set(1..<7)
        for c in plan.candidates {
            for (l, level) in c.levels.enumerated() {
                levels.add([c.shape.description, "\(l + 1)", "\(level.codebookSize)", "\(level.sampleDistinctPrefixes)",
                            "\(level.sampleLargestGroup)", String(format: "%.3g", level.collisionProbability) + (level.resolved ? "" : " (floor)"),
                            String(format: "%.0f", level.estimatedDistinctPrefixes)])
            }
        }
        Console.out(levels.render())
        let best = plan.candidates[plan.recommended]
        Console.out("")
        if best.meetsThreshold {
            Console.out("recommended: \(best.shape) (fewest levels, then smallest vocabulary, with an estimated raw collision rate ≤ \(Format.percent(plan.maxCollisionRate)) at N = \(plan.items))")
        } else {
            Console.out("recommended: \(best.shape) (no shape reaches \(Format.percent(plan.maxCollisionRate)) at N = \(plan.items); this one has the lowest estimated rate, \(Format.percent(best.estimatedCollisionRate)); try longer or larger shapes)")
        }
    }
}
