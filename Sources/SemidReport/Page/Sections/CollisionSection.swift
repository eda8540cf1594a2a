import Foundation
import SemidIndex

/// Which items share raw codes: the group size distribution, the largest groups with titles, and
/// the rounds of the sinkhorn policy.
enum CollisionSection {
    /// The group-size histogram, the largest groups (with `listGroups`) and sinkhorn rounds for `sets`.
    static func figures(_ sets: [PlottedSet], prefix: String, listGroups: Bool) -> [String] {
        guard !sets.isEmpty else { return [] }
        var parts = [groupSizes(sets, prefix: prefix).html]
        let iterative = sets.filter { !$0.figures.rounds.isEmpty }
        if !iterative.isEmpty { parts.append(sinkhornRounds(iterative, prefix: prefix).html) }
        if listGroups {
            for (k, set) in sets.enumerated() {
                var card = largestGroups(set)
                card.newRow = k == 0 && sets.count > 1
                parts.append(card.rendered)
            }
        }
        return parts
    }

    /// Largest group size drawn on a linear axis; beyond it the size axis is logarithmic.
    static let linearSizes = 40

    /// One stem per group size and index (dodged sideways when comparing): the share of members
    /// in raw-ID groups of that size, on a log axis. Exact, never binned: an index has at most
    /// about √(2n) distinct group sizes.
    static func groupSizes(_ sets: [PlottedSet], prefix: String) -> Figure {
        let noun = sets[0].nouns
        let largest = sets.map { $0.figures.report.raw.maxGroup }.max() ?? 1
        let logarithmic = largest > linearSizes
        var chart = XYChart(x: Axis("group size (\(noun) sharing one raw ID)", kind: logarithmic ? .logarithmic : .linear,
                                    lower: logarithmic ? 0.8 : 0, upper: logarithmic ? nil : Double(largest) + 1,
                                    ticks: logarithmic ? 5 : min(10, max(2, largest))),
                            y: Axis("share of all \(noun)", unit: "%", kind: .logarithmic, format: .percent))
        chart.label = "Share of \(noun) by the size of their raw-ID group"
        var phrases: [String] = []
        for (k, set) in sets.enumerated() {
            let n = Double(max(1, set.count))
            // Sideways offset of this index's stems: a fraction of a size step (linear) or of a decade (log).
            let offset = sets.count > 1 ? (Double(k) - Double(sets.count - 1) / 2) * min(0.22, 0.8 / Double(sets.count)) : 0
            let points = set.figures.groupSizes.keys.sorted().map { size -> Point in
                let groups = set.figures.groupSizes[size] ?? 0
                let members = size * groups
                let x = logarithmic ? Double(size) * Foundation.pow(10, offset * 0.12) : Double(size) + offset
                let label = (set.labelled ? set.name + ": " : "") + "\(NumberFormat.integer(groups)) group\(groups == 1 ? "" : "s") of \(size) = "
                    + "\(NumberFormat.integer(members)) \(noun) (\(NumberFormat.percent(Double(members) / n, 2)))"
                return Point(x, Double(members) / n, label: label)
            }
            chart.layers.append(.series(Series(set.name, points: points, style: .stems, colorSlot: set.slot)))
            let r = set.figures.report
            var phrase = "\(NumberFormat.percent(r.raw.fractionInCollisions)) of \(noun) share a raw ID, in \(NumberFormat.integer(r.raw.collidingGroups)) groups of up to \(r.raw.maxGroup)"
            switch r.collisionPolicy {
            case "suffix": phrase += " (so the suffix level needs \(r.suffixSize ?? r.raw.maxGroup) codes)"
            case "sinkhorn": phrase += " (sinkhorn moved \(NumberFormat.integer(set.figures.itemsMoved)) to free codes)"
            case "none": phrase += r.raw.collidingGroups > 0 ? " (policy none: these share their final ID too)" : ""
            default: break
            }
            phrases.append(set.clause(phrase))
        }
        return Figure(id: "\(prefix)group-sizes", title: (sets.first?.titlePrefix ?? "") + "Raw-ID group sizes", svg: chart.render(),
                      reading: phrases.joined(separator: "; ") + ". Fewer and smaller groups mean fewer arbitrary tie-breaking codes for the model to learn.")
    }

    static func sinkhornRounds(_ sets: [PlottedSet], prefix: String) -> Figure {
        let sinkhornRounds = sets.map { $0.figures.rounds.filter { $0.finish != true }.count }.max() ?? 0
        let anyFinish = sets.contains { $0.figures.rounds.contains { $0.finish == true } }
        let categories = (1...max(1, sinkhornRounds)).map(String.init) + (anyFinish ? ["finish"] : [])
        var chart = BarChart(categories: categories,
                             groups: sets.map { set in
                                 let rounds = set.figures.rounds.filter { $0.finish != true }
                                 let finish = set.figures.rounds.first { $0.finish == true }
                                 var values: [Double?] = (0..<sinkhornRounds).map { i in i < rounds.count ? Double(rounds[i].itemsMoved) : nil }
                                 if anyFinish { values.append(finish.map { Double($0.itemsMoved) }) }
                                 return BarChart.Group(set.name, slot: set.slot, values: values)
                             },
                             categoryTitle: "Sinkhorn round (then the deterministic finish)", y: Axis("\(sets[0].nouns) moved", includeZero: true))
        chart.label = "\(sets[0].nouns) moved per sinkhorn round"
        let phrase = perIndex(sets) { set in
            let rounds = set.figures.rounds.filter { $0.finish != true }
            var text = "sinkhorn rounds moved " + rounds.map { NumberFormat.integer($0.itemsMoved) }.joined(separator: ", ")
                + " of \(NumberFormat.integer(rounds.first?.collidingItems ?? 0)) colliding \(set.nouns)"
            if let finish = set.figures.rounds.first(where: { $0.finish == true }) {
                text += ", the finish \(NumberFormat.integer(finish.itemsMoved)) of the \(NumberFormat.integer(finish.collidingItems)) left"
            }
            return text
        }
        return Figure(id: "\(prefix)sinkhorn-rounds", title: (sets.first?.titlePrefix ?? "") + "Sinkhorn: \(sets[0].nouns) moved per round", svg: chart.render(),
                      reading: phrase + ". Rounds stop once one shrinks the colliding set by < 1%; when the finish does most of the work, the Sinkhorn settings hardly matter and IDs move to the nearest free code.")
    }

    /// Groups shown open; the rest of the listed groups are folded into a `<details>` element.
    static let openGroups = 3
    /// Members shown per group.
    static let membersShown = 6

    static func largestGroups(_ set: PlottedSet) -> Card {
        let groups = set.figures.report.largestGroups
        guard !groups.isEmpty else {
            return Card.note("Largest colliding groups: \(set.name)", "No two \(set.nouns) share their raw codes.")
        }
        func table(_ groups: ArraySlice<CollisionReport.Group>) -> String {
            var rows: [[String]] = []
            for group in groups {
                let shown = group.items.prefix(membersShown)
                for (i, member) in shown.enumerated() {
                    let rawCell = i == 0 ? "<b>\(HTML.id(group.rawId))</b><br><span class=\"muted\">\(group.items.count) \(set.nouns)</span>" : ""
                    rows.append([rawCell, "\(member.item)", HTML.id(member.finalId), HTML.title(member.title)])
                }
                if group.items.count > shown.count {
                    rows.append(["", "", "", "<span class=\"muted\">… \(group.items.count - shown.count) more</span>"])
                }
            }
            return HTML.table(header: ["raw ID", set.figures.noun, "final ID", "title"], rows: rows, numeric: [1], classes: "groups")
        }
        var html = "<p class=\"reading\">\(Markup.escape(set.clause("the \(groups.count) largest groups of \(set.nouns) sharing all \(set.figures.report.levels) raw codes"))). Near-duplicates (variants of one product) are harmless; unrelated titles mean the codebooks cannot separate them.</p>"
        html += table(groups.prefix(openGroups))
        if groups.count > openGroups {
            html += "<details><summary>\(groups.count - openGroups) more groups</summary>" + table(groups.dropFirst(openGroups)) + "</details>"
        }
        return Card(title: "Largest colliding groups: \(set.name)", html: html)
    }
}
