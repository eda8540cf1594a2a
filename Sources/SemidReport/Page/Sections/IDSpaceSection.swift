/// How much of the ID space each level opens up: distinct prefixes per level (fan-out) and the
/// share of variance left after each level.
enum IDSpaceSection {
    /// The fan-out and residual figures for `sets`.
    static func figures(_ sets: [PlottedSet], prefix: String) -> [String] {
        guard !sets.isEmpty else { return [] }
        var parts = [fanOut(sets, prefix: prefix).html]
        let withResiduals = sets.filter { $0.figures.report.perLevel.contains { $0.relativeResidual != nil } }
        if !withResiduals.isEmpty { parts.append(residuals(withResiduals, prefix: prefix).html) }
        return parts
    }

    static func fanOut(_ sets: [PlottedSet], prefix: String) -> Figure {
        let noun = sets[0].nouns
        var chart = XYChart(x: Axis("prefix length", unit: "codes", lower: 1), y: Axis("distinct prefixes", unit: "IDs", kind: .logarithmic))
        chart.label = "Distinct ID prefixes per prefix length"
        var phrases: [String] = []
        for set in sets {
            let r = set.figures.report
            var points = r.perLevel.map { Point(Double($0.level), Double($0.distinctPrefixes)) }
            if r.idLength > r.levels { points.append(Point(Double(r.idLength), Double(r.final.distinctIds))) }
            chart.layers.append(.series(Series(set.name, points: points, style: .lineWithMarkers, colorSlot: set.slot)))
            let n = Double(max(1, r.items))
            let raw = Double(r.perLevel.last?.distinctPrefixes ?? 0) / n
            var phrase = "\(r.levels) raw codes tell \(NumberFormat.percent(raw)) of \(noun) apart"
            if r.levels >= 2 {
                let before = Double(r.perLevel[r.levels - 2].distinctPrefixes) / n
                phrase += " (\(NumberFormat.percent(before)) with \(r.levels - 1))"
            }
            if r.idLength > r.levels { phrase += ", the suffix code the rest" }
            phrases.append(set.clause(phrase))
        }
        if let n = sets.first?.count, sets.allSatisfy({ $0.count == n }) {
            chart.layers.append(.horizontalRule(y: Double(n), label: "all \(NumberFormat.integer(n)) \(noun)"))
        }
        chart.x.upper = Double(sets.map { $0.figures.report.idLength }.max() ?? 1)
        chart.x.ticks = max(1, min(8, Int(chart.x.upper ?? 1)))
        return Figure(id: "\(prefix)fan-out", title: (sets.first?.titlePrefix ?? "") + "Distinct prefixes per level (fan-out)", svg: chart.render(),
                      reading: phrases.joined(separator: "; ") + ". Where a curve has flattened, another level adds ID length without telling more \(noun) apart; where it is far below the line, more levels or codes are needed.")
    }

    static func residuals(_ sets: [PlottedSet], prefix: String) -> Figure {
        var chart = XYChart(x: Axis("levels applied", lower: 0),
                            y: Axis("variance left", unit: "% of total", lower: 0, format: .percent))
        chart.label = "Share of variance left after each level"
        var phrases: [String] = []
        for set in sets {
            let values = set.figures.report.perLevel.compactMap(\.relativeResidual)
            let points = [Point(0, 1)] + values.enumerated().map { Point(Double($0 + 1), $1) }
            chart.layers.append(.series(Series(set.name + (set.latentResiduals ? " (latent space)" : ""), points: points,
                                               style: .lineWithMarkers, colorSlot: set.slot)))
            let last = values.last ?? 1
            let gain = values.count >= 2 ? values[values.count - 2] - last : 1 - last
            phrases.append(set.clause("\(NumberFormat.percent(last, last < 0.01 ? 2 : 1)) of the variance is left after \(values.count) levels, the last removing \(NumberFormat.fixed(gain * 100, gain < 0.01 ? 2 : 1)) points"))
        }
        chart.x.upper = Double(sets.map { $0.figures.report.levels }.max() ?? 1)
        chart.x.ticks = max(1, min(8, Int(chart.x.upper ?? 1)))
        let latent = sets.contains { $0.latentResiduals } ? " RQ-VAE residuals are in its latent space, so compare their shape, not their height, with RQ-KMeans." : ""
        return Figure(id: "\(prefix)residual", title: (sets.first?.titlePrefix ?? "") + "Variance left after each level", svg: chart.render(),
                      reading: phrases.joined(separator: "; ") + ". When the last level removes little, a further level buys little precision." + latent)
    }
}
