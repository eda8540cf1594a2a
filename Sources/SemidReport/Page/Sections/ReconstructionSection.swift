/// How well each item's codes reproduce its vector: the distribution of per-item errors and the
/// worst items.
enum ReconstructionSection {
    /// Bins of the error histogram.
    static let bins = 50

    /// The histogram (over the sets that have errors), notes for those without, and (with
    /// `listWorst`) the worst members of each set.
    static func figures(_ sets: [PlottedSet], prefix: String, listWorst: Bool) -> [String] {
        var parts: [String] = []
        let measured = sets.filter { $0.figures.errors != nil }
        if !measured.isEmpty { parts.append(histogram(measured, prefix: prefix).html) }
        for set in sets {
            if let missing = set.figures.errorsMissing {
                parts.append(Card.note("Per-\(set.figures.noun) errors: \(set.name)", missing).rendered)
            }
        }
        if listWorst {
            for (k, set) in measured.enumerated() {
                var card = worst(set)
                card.newRow = k == 0 && measured.count > 1
                parts.append(card.rendered)
            }
        }
        return parts
    }

    static func histogram(_ sets: [PlottedSet], prefix: String) -> Figure {
        let noun = sets[0].nouns
        // One range for all, so the shapes compare: up to the largest 99.5th percentile.
        let upper = max(1e-9, sets.compactMap { $0.figures.errors?.quantile(0.995) }.max() ?? 1)
        var chart = XYChart(x: Axis("squared error ‖x − x̂‖² of one \(sets[0].figures.noun)", unit: "× total variance", lower: 0, upper: upper * 1.0001),
                            y: Axis("share of \(noun)", unit: "%", includeZero: true, format: .percent))
        chart.label = "Distribution of per-\(sets[0].figures.noun) reconstruction error"
        var phrases: [String] = []
        var clamped = 0
        for set in sets {
            guard let e = set.figures.errors else { continue }
            let h = Histogram(values: e.sortedRelative, bins: bins, lower: 0, upper: upper)
            clamped += h.clampedAbove
            chart.layers.append(.histogram(h, name: set.name, slot: set.slot, asShare: true, unit: noun))
            chart.layers.append(.verticalRule(x: e.mean, label: "mean \(NumberFormat.fixed(e.mean, 3))", slot: set.slot))
            phrases.append(set.clause("median \(NumberFormat.fixed(e.quantile(0.5), 3)), 99th percentile \(NumberFormat.fixed(e.quantile(0.99), 3))"))
        }
        let tail = clamped > 0 ? " (the last bin also holds the \(NumberFormat.integer(clamped)) \(noun) beyond the plot)" : ""
        return Figure(id: "\(prefix)reconstruction-errors", title: (sets.first?.titlePrefix ?? "") + "Per-\(sets[0].figures.noun) reconstruction error", svg: chart.render(),
                      reading: phrases.joined(separator: "; ") + tail + ", in units of the data's variance. The right tail holds the \(noun) whose IDs say least about them: check them (listed below) before trusting their IDs.")
    }

    static func worst(_ set: PlottedSet) -> Card {
        guard let e = set.figures.errors else { return Card.note("Worst reconstructed: \(set.name)", "") }
        let rows = e.worst.map { m -> [String] in
            ["\(m.id)", HTML.id(m.finalID), NumberFormat.fixed(m.relativeError, 3), HTML.title(m.title)]
        }
        let table = HTML.table(header: [set.figures.noun, "final ID", "error ÷ variance", "title"], rows: rows, numeric: [0, 2], classes: "worst")
        return Card(title: "Worst reconstructed \(set.nouns): \(set.name)",
                    html: "<p class=\"reading\">Errors \(Markup.escape(e.source)); the median \(set.figures.noun) has \(NumberFormat.fixed(e.quantile(0.5), 3)). These are the \(set.nouns) the codebooks fit worst (often unusual for the catalog): their IDs say least about their content.</p>" + table)
    }
}
