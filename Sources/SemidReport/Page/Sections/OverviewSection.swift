import SemidIndex
import SemidQuantization

/// The figures of every index in one table (one column per index, the best value of each
/// comparable row in bold) and, when comparing, the headline rates side by side.
enum OverviewSection {
    /// Which way a row is better, for marking the best index.
    enum Better { case lower, higher, none }

    /// One row of the table: a label, one cell per index, and (for comparable rows) the value compared.
    struct Row {
        var label: String
        var cells: [String]
        var values: [Double?] = []
        var better: Better = .none
    }

    static func make(_ indexes: [ReportedIndex]) -> Section {
        let rows = tableRows(indexes)
        var header = ["figure"]
        header += indexes.enumerated().map { HTML.indexLabel($1.name, slot: $0) }
        let cells = rows.map { row -> [String] in
            var best: Double?
            let finite = row.values.compactMap { $0 }.filter(\.isFinite)
            if indexes.count > 1, finite.count > 1, Set(finite).count > 1 {
                best = row.better == .lower ? finite.min() : row.better == .higher ? finite.max() : nil
            }
            return [Markup.escape(row.label)] + row.cells.enumerated().map { i, cell in
                if let best, i < row.values.count, row.values[i] == best { return "<b>\(cell)</b>" }
                return cell
            }
        }
        var parts = [Card(title: indexes.count > 1 ? "Figures side by side" : "Figures",
                          html: HTML.table(header: header, rows: cells, numeric: Set(1...indexes.count), classes: "figures")
                            + (indexes.count > 1 ? "<p class=\"muted\">Bold: the best value of a row where lower (collisions, error, dead codes) or higher (balance, validation metrics) is better.</p>" : ""),
                          wide: indexes.count > 2).rendered]
        if indexes.count > 1 { parts.append(headline(indexes).html) }
        let absent = absentParts(indexes)
        if !absent.isEmpty { parts.append(Card.note("Not in these indexes", absent).rendered) }
        return Section(id: "overview", title: "Overview",
                       intro: indexes.count > 1 ? "What each index is and its headline health figures, side by side." : "What the index is and its headline health figures.",
                       parts: parts)
    }

    static func tableRows(_ indexes: [ReportedIndex]) -> [Row] {
        func row(_ label: String, _ better: Better = .none, _ f: (ReportedIndex) -> (String, Double?)) -> Row {
            let pairs = indexes.map(f)
            return Row(label: label, cells: pairs.map { Markup.escape($0.0) }, values: pairs.map(\.1), better: better)
        }
        var rows: [Row] = []
        rows.append(row("items") { (NumberFormat.integer($0.manifest.items), nil) })
        rows.append(row("method") { i in
            (i.manifest.parameters.method + (i.manifest.parameters.source.map { ", \($0.rawValue) vectors" } ?? ""), nil)
        })
        rows.append(row("levels × codes") { (CodebookSizes.shape($0.manifest.parameters.codebookSizes), nil) })
        rows.append(row("ID length") { i in
            let r = i.items.report
            return ("\(r.idLength)" + (r.suffixSize.map { " (suffix level of \($0) codes)" } ?? ""), nil)
        })
        rows.append(row("collision policy") { i in
            let p = i.manifest.parameters.collisionPolicy
            if case .sinkhorn(let s) = p { return ("sinkhorn (ε \(s.epsilon), \(s.rounds) rounds max)", nil) }
            return (p.name, nil)
        })
        rows.append(row("seed") { ("\($0.manifest.parameters.seed)", nil) })
        rows.append(row("raw distinct IDs", .higher) { i in
            (NumberFormat.integer(i.items.report.raw.distinctIds), Double(i.items.report.raw.distinctIds) / Double(max(1, i.items.report.items)))
        })
        rows.append(row("raw collision rate", .lower) { (NumberFormat.percent($0.items.report.raw.collisionRate, 2), $0.items.report.raw.collisionRate) })
        rows.append(row("items sharing a raw ID", .lower) { i in
            (NumberFormat.percent(i.items.report.raw.fractionInCollisions, 2), i.items.report.raw.fractionInCollisions)
        })
        rows.append(row("largest raw group", .lower) { ("\($0.items.report.raw.maxGroup)", Double($0.items.report.raw.maxGroup)) })
        rows.append(row("final collision rate", .lower) { (NumberFormat.percent($0.items.report.final.collisionRate, 2), $0.items.report.final.collisionRate) })
        rows.append(row("relative reconstruction MSE", .lower) { i in
            i.isAssigned ? ("n/a (assigned IDs)", nil) : (NumberFormat.fixed(i.items.report.reconstruction.relativeMse, 4), i.items.report.reconstruction.relativeMse)
        })
        rows.append(row("median / 99th pct item error") { i in
            guard let e = i.items.errors else { return ("–", nil) }
            return ("\(NumberFormat.fixed(e.quantile(0.5), 3)) / \(NumberFormat.fixed(e.quantile(0.99), 3))", nil)
        })
        rows.append(row("dead codes, all levels", .lower) { i in
            let d = i.items.report.perLevel.reduce(0) { $0 + $1.deadCodes }
            return ("\(d)", Double(d))
        })
        rows.append(row("lowest perplexity ÷ K", .higher) { i in
            let p = i.items.report.perLevel.map { $0.perplexity / Double(max(1, $0.codebookSize)) }.min() ?? 0
            return (NumberFormat.percent(p), p)
        })
        if indexes.contains(where: { $0.items.report.itemsAdded > 0 }) {
            rows.append(row("items added after the build") { ("\(NumberFormat.integer($0.items.report.itemsAdded)) in \($0.items.report.addBatches) batches", nil) })
        }
        if indexes.contains(where: { $0.rqvae != nil }) {
            rows.append(row("RQ-VAE training") { i in
                guard let r = i.rqvae else { return ("–", nil) }
                return ("\(r.epochsRun) epochs, kept \(r.selectedEpoch), \(r.precision)", nil)
            })
        }
        if indexes.contains(where: { $0.model != nil }) {
            rows.append(row("model: best epoch") { i in (i.model.map { "\($0.bestEpoch) of \($0.epochs.count)" } ?? "–", nil) })
            rows.append(row("model: validation NDCG@10", .higher) { i in
                guard let v = i.model?.validation else { return ("–", nil) }
                return (NumberFormat.fixed(v.ndcg10, 4), v.ndcg10)
            })
            rows.append(row("model: validation Recall@10", .higher) { i in
                guard let v = i.model?.validation else { return ("–", nil) }
                return (NumberFormat.fixed(v.recall10, 4), v.recall10)
            })
        }
        if indexes.contains(where: { $0.users != nil }) {
            rows.append(row("user IDs") { i in
                guard let u = i.users?.report else { return ("–", nil) }
                return ("\(NumberFormat.integer(u.items)) users, \(CodebookSizes.shape(u.codebookSizes)), raw collisions \(NumberFormat.percent(u.raw.collisionRate, 2))", nil)
            })
        }
        return rows
    }

    static func headline(_ indexes: [ReportedIndex]) -> Figure {
        let metrics: [(String, (ReportedIndex) -> Double?)] = [
            ("raw collision rate", { $0.items.report.raw.collisionRate }),
            ("items sharing a raw ID", { $0.items.report.raw.fractionInCollisions }),
            ("relative MSE", { $0.isAssigned ? nil : $0.items.report.reconstruction.relativeMse }),
        ]
        var chart = BarChart(categories: metrics.map(\.0),
                             groups: indexes.enumerated().map { slot, i in BarChart.Group(i.name, slot: slot, values: metrics.map { $0.1(i) }) },
                             categoryTitle: "figure", y: Axis("value", unit: "% of items / of variance", lower: 0, format: .percent))
        chart.label = "Headline figures per index"
        func best(_ f: (ReportedIndex) -> Double?) -> ReportedIndex? {
            indexes.filter { f($0) != nil }.min { (f($0) ?? 0) < (f($1) ?? 0) }
        }
        var reading = ""
        if let c = best({ $0.items.report.raw.collisionRate }) {
            reading += "Fewest raw collisions: \(c.name) (\(NumberFormat.percent(c.items.report.raw.collisionRate, 2)))"
        }
        if let m = best({ $0.isAssigned ? nil : $0.items.report.reconstruction.relativeMse }) {
            reading += "; lowest reconstruction error: \(m.name) (\(NumberFormat.fixed(m.items.report.reconstruction.relativeMse, 3)))"
        }
        reading += ". Fewer collisions mean fewer arbitrary suffix codes; lower error means the IDs keep more of what the embeddings say; "
        reading += indexes.allSatisfy({ $0.model != nil })
            ? "the models' validation metrics (below) decide between them."
            : "to decide between them, train the same model on each (semid train) and compare validation metrics."
        return Figure(id: "headline", title: "Collisions and reconstruction at a glance", svg: chart.render(), reading: reading)
    }

    /// What the page does not show, and why (e.g. "no RQ-VAE training in a (rq-kmeans)").
    static func absentParts(_ indexes: [ReportedIndex]) -> String {
        var parts: [String] = []
        let noVAE = indexes.filter { $0.rqvae == nil }
        if !noVAE.isEmpty { parts.append("RQ-VAE training curves (" + noVAE.map { "\($0.name): \($0.manifest.parameters.method)" }.joined(separator: ", ") + ")") }
        let noModel = indexes.filter { $0.model == nil }
        if !noModel.isEmpty { parts.append("model training curves (no semid train in " + noModel.map(\.name).joined(separator: ", ") + ")") }
        let noUsers = indexes.filter { $0.users == nil }
        if !noUsers.isEmpty { parts.append("user-ID health (no semid users in " + noUsers.map(\.name).joined(separator: ", ") + ")") }
        let noRounds = indexes.filter { $0.items.rounds.isEmpty }
        if !noRounds.isEmpty { parts.append("sinkhorn rounds (" + noRounds.map { "\($0.name): \($0.manifest.parameters.collisionPolicy.name)" }.joined(separator: ", ") + ")") }
        return parts.isEmpty ? "" : "Not shown: " + parts.joined(separator: "; ") + "."
    }
}
