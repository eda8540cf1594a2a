import Foundation
import SemidQuantization

/// Per level: how evenly the codes are used (sorted usage curves, utilisation, perplexity, dead
/// codes, a usage map per index).
enum CodeUsageSection {
    /// The figures for `sets` (items or users), ids prefixed by `prefix`; `perLevelCurves` adds the
    /// sorted usage curve of every level.
    static func figures(_ sets: [PlottedSet], prefix: String, perLevelCurves: Bool) -> [String] {
        guard !sets.isEmpty else { return [] }
        var parts: [String] = []
        let levels = sets.map { $0.figures.usage.count }.max() ?? 0
        if perLevelCurves {
            for l in 0..<levels {
                parts.append(sortedUsage(sets.filter { l < $0.figures.usage.count }, level: l, prefix: prefix).html)
            }
        }
        parts.append(utilisation(sets, levels: levels, prefix: prefix).html)
        parts.append(perplexity(sets, levels: levels, prefix: prefix).html)
        for set in sets { parts.append(usageMap(set, prefix: prefix).html) }
        return parts
    }

    static func sortedUsage(_ sets: [PlottedSet], level l: Int, prefix: String) -> Figure {
        let noun = sets.first?.nouns ?? "items"
        // Indexes with the same K and count share absolute axes; otherwise ranks are shares of K and
        // counts multiples of the uniform share, so that the shapes compare.
        let k0 = sets.first?.figures.usage[l].count ?? 0, n0 = sets.first?.count ?? 0
        let absolute = sets.allSatisfy { $0.figures.usage[l].count == k0 && $0.count == n0 }
        var chart = absolute
            ? XYChart(x: Axis("code rank, busiest first", lower: 1, upper: Double(max(2, k0))),
                      y: Axis("\(noun) per code", kind: .logarithmic))
            : XYChart(x: Axis("code rank ÷ K, busiest first", unit: "% of codes", lower: 0, upper: 1, format: .percent),
                      y: Axis("\(noun) per code", unit: "× uniform share n/K", kind: .logarithmic))
        chart.label = "Sorted code usage at level \(l + 1)"
        var phrases: [String] = []
        for set in sets {
            let k = set.figures.usage[l].count
            let share = Double(set.count) / Double(max(1, k))
            let used = set.figures.usage[l].filter { $0 > 0 }.sorted(by: >)
            let points = used.enumerated().map { r, count in
                absolute ? Point(Double(r + 1), Double(count)) : Point((Double(r) + 0.5) / Double(max(1, k)), Double(count) / max(share, 1e-12))
            }
            chart.layers.append(.series(Series(set.name, points: points, colorSlot: set.slot)))
            let ratio = (used.first.map(Double.init) ?? 0) / max(share, 1e-12)
            phrases.append(set.clause("\(used.count) of \(k) codes used, the busiest holding \(NumberFormat.significant(ratio, 2))× the uniform share"))
        }
        let uniform = absolute ? Double(n0) / Double(max(1, k0)) : 1
        chart.layers.append(.horizontalRule(y: uniform, label: absolute ? "uniform: \(NumberFormat.significant(uniform, 3)) per code" : "uniform"))
        return Figure(id: "\(prefix)usage-level-\(l + 1)", title: (sets.first?.titlePrefix ?? "") + "Level \(l + 1): \(noun) per code, sorted", svg: chart.render(),
                      reading: phrases.joined(separator: "; ") + ". A flat curve across all codes is what you want; a steep head means a few codes carry most \(noun), a curve that stops early means dead codes.")
    }

    static func utilisation(_ sets: [PlottedSet], levels: Int, prefix: String) -> Figure {
        var chart = BarChart(categories: (1...max(1, levels)).map(String.init),
                             groups: sets.map { set in BarChart.Group(set.name, slot: set.slot, values: (0..<levels).map { l in
                                 l < set.figures.report.perLevel.count ? set.figures.report.perLevel[l].utilization : nil }) },
                             categoryTitle: "level", y: Axis("codes used", unit: "% of K", lower: 0, upper: 1, format: .percent))
        chart.label = "Share of codes used per level"
        let dead = perIndex(sets) { set in
            let d = set.figures.report.perLevel.map(\.deadCodes)
            let total = d.reduce(0, +)
            return total == 0 ? "no dead codes" : "\(total) dead code\(total == 1 ? "" : "s") (per level " + d.map(String.init).joined(separator: " / ") + ")"
        }
        return Figure(id: "\(prefix)utilisation", title: (sets.first?.titlePrefix ?? "") + "Codes used per level (utilisation)", svg: chart.render(),
                      reading: dead + ". Dead codes are ID space no \(sets.first?.figures.noun ?? "item") can reach: many of them call for a smaller --codebook-size or re-seeding.")
    }

    static func perplexity(_ sets: [PlottedSet], levels: Int, prefix: String) -> Figure {
        var chart = BarChart(categories: (1...max(1, levels)).map(String.init),
                             groups: sets.map { set in BarChart.Group(set.name, slot: set.slot, values: (0..<levels).map { l in
                                 l < set.figures.report.perLevel.count
                                     ? set.figures.report.perLevel[l].perplexity / Double(max(1, set.figures.report.perLevel[l].codebookSize)) : nil }) },
                             categoryTitle: "level", y: Axis("perplexity ÷ K", unit: "% of an even spread", lower: 0, upper: 1, format: .percent))
        chart.label = "Code perplexity per level as a share of the codebook size"
        let phrase = perIndex(sets) { set in
            let p = set.figures.report.perLevel.map(\.perplexity)
            let k = CodebookSizes.description(set.figures.report.codebookSizes)
            return "levels behave like \(NumberFormat.integer(Int((p.min() ?? 0).rounded())))–\(NumberFormat.integer(Int((p.max() ?? 0).rounded()))) evenly used codes of \(k)"
        }
        return Figure(id: "\(prefix)perplexity", title: (sets.first?.titlePrefix ?? "") + "Code balance per level (perplexity ÷ K)", svg: chart.render(),
                      reading: phrase + " (perplexity: the number of evenly used codes with the same spread). Well below 100% a level acts like a smaller codebook, and its \(sets.first?.nouns ?? "items") crowd into fewer IDs.")
    }

    static func usageMap(_ set: PlottedSet, prefix: String) -> Figure {
        let usage = set.figures.usage
        var map = HeatMap(rowLabels: usage.indices.map { "level \($0 + 1)" }, values: usage.map { $0.map(Double.init) },
                          columnTitle: "code", valueTitle: "\(set.nouns) per code", zeroLabel: "dead code (none)")
        map.label = "Usage of every code at every level, \(set.name)"
        var busiest = (level: 0, code: 0, count: 0)
        for (l, row) in usage.enumerated() {
            for (c, n) in row.enumerated() where n > busiest.count { busiest = (l, c, n) }
        }
        let dead = usage.reduce(0) { $0 + $1.filter { $0 == 0 }.count }
        return Figure(id: "\(prefix)usage-map-\(set.slot)", title: set.titlePrefix + "Code usage map: \(set.name)", svg: map.render(),
                      reading: "One cell per code (hover for its count): \(dead) dead code\(dead == 1 ? "" : "s") (pale cells); the busiest is code \(busiest.code) of level \(busiest.level + 1) with \(NumberFormat.integer(busiest.count)) \(set.nouns). Use it to find the exact codes to look up in the catalog.")
    }
}
