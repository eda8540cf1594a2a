import ArgumentParser
import Foundation
import Semid

/// `semid inspect`: collision and codebook-health figures of an index.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show collisions, per-level code usage and reconstruction error of an index.")

    @Argument(help: "The index directory.")
    var index: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: "How many of the largest colliding groups to list.")
    var groups: Int = 10

    func validate() throws {
        if groups < 0 { throw ValidationError("--groups must be 0 or more") }
    }

    func run() throws {
        let inspection = try Pipeline.inspect(index, groups: groups)
        if json {
            var object = try JSONValue(encoding: inspection.report)
            if let users = inspection.users, case .object(var fields) = object {
                fields["users"] = try JSONValue(encoding: users.report(groupLimit: 0))
                object = .object(fields)
            }
            Console.out(try JSONOutput.render(object, keys: .asDeclared))
        } else {
            Console.out(Self.render(inspection.report, manifest: inspection.index.manifest))
            if let users = inspection.users { Console.out("\n" + Self.renderUsers(users)) }
            if let model = inspection.model { Console.out("\n" + ModelDescription.line(for: model)) }
        }
    }

    /// `"3 levels × 256 codes"`, or `"3 levels of 1024/256/256 codes"` when the sizes differ.
    static func shape(_ r: CollisionReport) -> String {
        if let k = r.codebookSize { return "\(r.levels) levels × \(k) codes" }
        return "\(r.levels) levels of \(CodebookSizes.shape(r.codebookSizes)) codes"
    }

    /// The human-readable report.
    static func render(_ r: CollisionReport, manifest: IndexManifest) -> String {
        var lines: [String] = []
        let p = manifest.parameters
        let source = p.source.map { ", \($0.rawValue) vectors" } ?? ""
        lines.append("index      \(r.items) items, \(r.method) \(shape(r)), d = \(p.dimension)\(source), seed \(p.seed)")
        lines.append("IDs        length \(r.idLength), policy \(r.collisionPolicy)" + (r.suffixSize.map { ", suffix level size \($0)" } ?? ""))
        if r.itemsAdded > 0 { lines.append("added      \(r.itemsAdded) items in \(r.addBatches) batch\(r.addBatches == 1 ? "" : "es") after the build") }
        lines.append("raw        \(r.raw.distinctIds) distinct IDs, collision rate \(Format.percent(r.raw.collisionRate)), "
                     + "\(r.raw.itemsInCollisions) items (\(Format.percent(r.raw.fractionInCollisions))) in \(r.raw.collidingGroups) colliding groups, largest \(r.raw.maxGroup)")
        lines.append("final      \(r.final.distinctIds) distinct IDs, collision rate \(Format.percent(r.final.collisionRate)), largest group \(r.final.maxGroup)")
        var recon = "recon.     relative MSE \(Format.fixed(r.reconstruction.relativeMse)) (MSE \(String(format: "%.5g", r.reconstruction.mse)), total variance \(String(format: "%.5g", r.reconstruction.totalVariance)))"
        if let added = r.reconstruction.addedRelativeMse { recon += "; added items \(Format.fixed(added))" }
        let assigned = QuantizationMethod(rawValue: r.method)?.isAssigned ?? false
        lines.append(assigned ? "recon.     n/a: \(r.method) IDs are assigned, not quantized from vectors" : recon)
        if let json = manifest.statistics.rqvae, let t = try? json.decode(RQVAE.Report.self, source: "statistics.rqvae") {
            lines.append("training   rq-vae \(t.epochsRun) epochs (\(t.steps) steps, \(t.precision)\(t.stoppedEarly ? ", stopped by --patience" : "")), "
                         + "kept epoch \(t.selectedEpoch), \(t.deadCodeResets.reduce(0, +)) dead codes re-seeded; rule: \(t.selectionRule)")
        }
        lines.append("")
        var table = TextTable(["level", "codes", "used", "utilization", "perplexity", "dead", "prefixes", "rel. residual"])
        for l in r.perLevel {
            table.add(["\(l.level)", "\(l.codebookSize)", "\(l.usedCodes)", Format.fixed(l.utilization, 3), String(format: "%.1f", l.perplexity),
                       "\(l.deadCodes)", "\(l.distinctPrefixes)", l.relativeResidual.map { Format.fixed($0) } ?? "-"])
        }
        lines.append(table.render())
        if !r.largestGroups.isEmpty {
            lines.append("")
            lines.append("largest colliding groups (raw ID → items):")
            for g in r.largestGroups {
                lines.append("  \(g.rawId.map(String.init).joined(separator: "-"))  (\(g.items.count) items)")
                for m in g.items.prefix(8) {
                    let title = m.title.map { $0.count > 70 ? String($0.prefix(67)) + "..." : $0 } ?? "(no title)"
                    lines.append("    \(m.item)  \(m.finalId.map(String.init).joined(separator: "-"))  \(title)")
                }
                if g.items.count > 8 { lines.append("    … \(g.items.count - 8) more") }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The human-readable user-ID section.
    static func renderUsers(_ users: UserIDs) -> String {
        let r = users.report(groupLimit: 0)
        let c = users.section.configuration
        var lines = ["users      \(r.items) users, rq-kmeans \(shape(r)), d = \(users.section.dimension)"
                     + (users.section.usesTextEmbeddings ? " (history + text)" : " (history)") + ", seed \(c.seed)"]
        lines.append("user IDs   length \(r.idLength), policy \(r.collisionPolicy)" + (r.suffixSize.map { ", suffix level size \($0)" } ?? ""))
        if r.itemsAdded > 0 { lines.append("added      \(r.itemsAdded) users after the first build") }
        lines.append("raw        \(r.raw.distinctIds) distinct IDs, collision rate \(Format.percent(r.raw.collisionRate)), largest group \(r.raw.maxGroup)")
        lines.append("final      \(r.final.distinctIds) distinct IDs, collision rate \(Format.percent(r.final.collisionRate))")
        lines.append("recon.     relative MSE \(Format.fixed(r.reconstruction.relativeMse))")
        var table = TextTable(["level", "codes", "used", "utilization", "perplexity", "dead", "prefixes"])
        for l in r.perLevel {
            table.add(["\(l.level)", "\(l.codebookSize)", "\(l.usedCodes)", Format.fixed(l.utilization, 3), String(format: "%.1f", l.perplexity),
                       "\(l.deadCodes)", "\(l.distinctPrefixes)"])
        }
        lines.append(table.render())
        return lines.joined(separator: "\n")
    }
}
