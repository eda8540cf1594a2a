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

    /// Largest group size drawn on a linear axis, one stem per size; beyond it the size axis is
    /// logarithmic, sizes up to ``exactSizes`` keep a stem each and larger ones are binned (10 bins
    /// a decade), so a million items with thousands of distinct sizes still draw a few dozen stems.
    static let linearSizes = 40
    /// Sizes drawn exactly on a logarithmic size axis.
    static let exactSizes = 10

    /// One stem per group size (or size bin) and index, dodged sideways when comparing: the share
    /// of members in raw-ID groups of that size (a bin: its share divided by the sizes it spans),
    /// on a log axis.
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
            var members: [Int: Int] = [:]
            for (size, groups) in set.figures.groupSizes { members[size] = size * groups }
            let exactUpTo = logarithmic ? exactSizes : largest
            let byMembers = Histogram.ofIntegers(members, exactUpTo: exactUpTo)
            let byGroups = Histogram.ofIntegers(set.figures.groupSizes, exactUpTo: exactUpTo)
            var points: [Point] = []
            for (i, count) in byMembers.counts.enumerated() where count > 0 {
                let first = Int((byMembers.edges[i] + 0.5).rounded()), last = Int((byMembers.edges[i + 1] - 0.5).rounded())
                let centre = first == last ? Double(first) : (Double(first) * Double(last)).squareRoot()
                let x = logarithmic ? centre * Foundation.pow(10, offset * 0.12) : centre + offset
                let groups = byGroups.counts[i]
                let sizes = first == last ? "of \(first)" : "of \(first)–\(last)"
                let label = (set.labelled ? set.name + ": " : "") + "\(NumberFormat.integer(groups)) group\(groups == 1 ? "" : "s") \(sizes): "
                    + "\(NumberFormat.integer(count)) \(noun) (\(NumberFormat.percent(Double(count) / n, 2)))"
                // A bin's height is its mean share per size, so that bins and single sizes line up.
                points.append(Point(x, Double(count) / n / Double(last - first + 1), label: label))
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
                      reading: phrases.joined(separator: "; ") + "."
                        + (logarithmic ? " Sizes above \(exactSizes) are binned (10 bins a decade, each at its mean share per size)." : "")
                        + " Fewer and smaller groups mean fewer arbitrary tie-breaking codes for the model to learn.")
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
