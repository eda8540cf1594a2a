import SemidModel
import SemidQuantization

/// Per-epoch curves from the manifest: RQ-VAE training, and the trained next-item model.
enum TrainingSection {
    /// RQ-VAE figures for every index that has an RQ-VAE report.
    static func rqvae(_ indexes: [(name: String, slot: Int, report: RQVAE.Report)]) -> [String] {
        var parts: [String] = []
        for (name, _, report) in indexes {
            parts.append(rqvaeLosses(name, report).html)
            parts.append(rqvaeCollisions(name, report).html)
            parts.append(rqvaeUtilisation(name, report).html)
        }
        return parts
    }

    /// How a per-epoch (or per-evaluation) curve ends, judged by its best value: whether the last
    /// tenth of `values` (at least the last one) holds a better value than everything before it by
    /// more than 1% (`improving`: training longer would likely help), is worse than the best before
    /// it by more than 5% (`worsening`), or neither (`flat`). Best values, not the last step, so
    /// noise between two evaluations is not called a trend; fewer than 5 values are `flat`.
    enum Ending: Equatable { case improving, flat, worsening }

    static func ending(_ values: [Double], lowerIsBetter: Bool) -> Ending {
        let finite = values.filter(\.isFinite)
        guard finite.count >= 5 else { return .flat }
        let tail = max(1, finite.count / 10)
        let sign = lowerIsBetter ? 1.0 : -1.0   // compare `sign × value`, lower is better
        guard let before = finite.dropLast(tail).map({ sign * $0 }).min(),
              let end = finite.suffix(tail).map({ sign * $0 }).min() else { return .flat }
        let scale = max(abs(before), 1e-12)
        if end < before - 0.01 * scale { return .improving }
        if end > before + 0.05 * scale { return .worsening }
        return .flat
    }

    /// The epoch axis, from 0 to the last epoch.
    static func epochAxis(_ last: Int) -> Axis { Axis("epoch", lower: 0, upper: Double(max(1, last))) }

    static func keptRule(_ epoch: Int, _ label: String = "kept epoch") -> XYChart.Layer {
        .verticalRule(x: Double(epoch), label: "\(label) \(epoch)", slot: nil)
    }

    static func rqvaeLosses(_ name: String, _ r: RQVAE.Report) -> Figure {
        let h = r.history
        var chart = XYChart(x: epochAxis(r.epochsRun), y: Axis("loss", unit: "mean squared, per value", kind: .logarithmic))
        chart.label = "RQ-VAE training losses per epoch"
        chart.layers = [
            .series(Series("reconstruction", points: h.map { Point(Double($0.epoch), $0.reconstruction) }, colorSlot: 0)),
            .series(Series("codebook", points: h.map { Point(Double($0.epoch), $0.codebook) }, colorSlot: 1)),
            .series(Series("commitment (× β)", points: h.map { Point(Double($0.epoch), $0.commitment) }, colorSlot: 2)),
            keptRule(r.selectedEpoch),
        ]
        let recon = h.map(\.reconstruction)
        let trend = ending(recon, lowerIsBetter: true) == .improving ? "still falling at the last epoch, so more --epochs would lower the error further"
            : "flat by the end, so more epochs would not help"
        return Figure(id: "rqvae-losses-\(name)", title: "RQ-VAE losses per epoch: \(name)", svg: chart.render(),
                      reading: "Reconstruction loss went from \(NumberFormat.significant(recon.first ?? 0, 3)) to \(NumberFormat.significant(recon.last ?? 0, 3)) over \(r.epochsRun) epochs and is \(trend); epoch \(r.selectedEpoch) was kept.")
    }

    static func rqvaeCollisions(_ name: String, _ r: RQVAE.Report) -> Figure {
        let h = r.history
        var chart = XYChart(x: epochAxis(r.epochsRun), y: Axis("raw collision rate", unit: "% of items", kind: .logarithmic, format: .percent))
        chart.label = "RQ-VAE raw collision rate per epoch"
        let evaluated = h.compactMap { e in e.evaluation.map { Point(Double(e.epoch), $0.collisionRate) } }
        chart.layers = [
            .series(Series("during the epoch (estimate)", points: h.map { Point(Double($0.epoch), $0.trainingCollisionRate) }, colorSlot: 0)),
            .series(Series("exact, all items", points: evaluated, style: .lineWithMarkers, colorSlot: 5, dashSlot: 0)),
            keptRule(r.selectedEpoch),
        ]
        let kept = h.first { $0.epoch == r.selectedEpoch }?.evaluation?.collisionRate ?? r.final.collisionRate
        let best = evaluated.min { $0.y < $1.y }
        let rates = evaluated.map(\.y)
        let end = ending(rates, lowerIsBetter: true)
        let trend = end == .improving ? "The exact rate was still falling at the last evaluations: more --epochs would likely cut collisions further."
            : end == .worsening ? "The exact rate rose towards the end (a sharper reconstruction crowds items into fewer IDs); the checkpoint rule weighs it against reconstruction."
            : "The exact rate is flat by the end: more epochs would not change collisions much."
        return Figure(id: "rqvae-collisions-\(name)", title: "RQ-VAE collision rate per epoch: \(name)", svg: chart.render(),
                      reading: "The kept epoch \(r.selectedEpoch) has \(NumberFormat.percent(kept, 2)) raw collisions (final pass: \(NumberFormat.percent(r.final.collisionRate, 2)))"
                        + (best.map { ", the lowest evaluated was \(NumberFormat.percent($0.y, 2)) at epoch \(Int($0.x))" } ?? "")
                        + ". " + trend)
    }

    static func rqvaeUtilisation(_ name: String, _ r: RQVAE.Report) -> Figure {
        let h = r.history
        let levels = h.map(\.trainingUtilization.count).max() ?? 0
        var chart = XYChart(x: epochAxis(r.epochsRun), y: Axis("codes used", unit: "% of K", upper: 1, format: .percent))
        chart.label = "RQ-VAE codebook utilisation per level and epoch"
        for l in 0..<levels {
            chart.layers.append(.series(Series("level \(l + 1)", points: h.compactMap { e in
                l < e.trainingUtilization.count ? Point(Double(e.epoch), e.trainingUtilization[l]) : nil }, colorSlot: l)))
        }
        chart.layers.append(keptRule(r.selectedEpoch))
        let lowest = (0..<levels).map { l in h.compactMap { l < $0.trainingUtilization.count ? $0.trainingUtilization[l] : nil }.last ?? 0 }.min() ?? 0
        let resets = r.deadCodeResets.map(String.init).joined(separator: " / ")
        return Figure(id: "rqvae-utilisation-\(name)", title: "RQ-VAE codes used per epoch: \(name)", svg: chart.render(),
                      reading: (lowest >= 0.9995 ? "Every level ends using all its codes" : "The emptiest level ends using \(NumberFormat.percent(lowest, 1)) of its codes")
                        + "; dead codes re-seeded during training, per level: \(resets). A level that stays low has collapsed: more re-seeding or a smaller --codebook-size.")
    }

    /// Model figures: a loss chart per model and one validation chart overlaying all models.
    static func models(_ indexes: [(name: String, slot: Int, summary: ModelSummary)], labelled: Bool) -> [String] {
        guard !indexes.isEmpty else { return [] }
        var parts: [String] = []
        for (name, slot, s) in indexes {
            var chart = XYChart(x: epochAxis(s.epochs.last?.epoch ?? 1), y: Axis("training loss", unit: "nats per target"))
            chart.label = "Next-item model training loss per epoch"
            if s.epochs.contains(where: { $0.itemLoss > 0 }) {
                chart.layers.append(.series(Series("items head", points: s.epochs.map { Point(Double($0.epoch), $0.itemLoss) }, colorSlot: slot)))
            }
            if s.epochs.contains(where: { $0.codeLoss > 0 }) {
                chart.layers.append(.series(Series("code head (all levels)", points: s.epochs.map { Point(Double($0.epoch), $0.codeLoss) },
                                                   colorSlot: slot + 1)))
            }
            chart.layers.append(keptRule(s.bestEpoch, "best epoch"))
            let losses = s.epochs.map { $0.itemLoss + $0.codeLoss }
            // Manifests written since timings left the index have no training time.
            let minutes = s.trainingSeconds.map { " (\(NumberFormat.significant($0 / 60, 2)) min)" } ?? ""
            parts.append(Figure(id: "model-loss-\(name)", title: "Model training loss per epoch: \(name)", svg: chart.render(),
                                reading: "Training loss went from \(NumberFormat.significant(losses.first ?? 0, 3)) to \(NumberFormat.significant(losses.last ?? 0, 3)) in \(s.epochs.count) epochs\(minutes), stopped by \(stopReason(s.stopReason)); weights of epoch \(s.bestEpoch) were kept.").html)
        }
        var chart = XYChart(x: epochAxis(indexes.map { $0.summary.epochs.last?.epoch ?? 1 }.max() ?? 1), y: Axis("validation metric", unit: "mean over validation users", includeZero: true))
        chart.label = "Validation NDCG@10 and Recall@10 per epoch"
        var phrases: [String] = []
        for (name, slot, s) in indexes {
            let prefix = indexes.count > 1 ? name + " " : ""
            let owner = labelled && indexes.count == 1 ? " (\(name))" : ""
            let validated = s.epochs.filter { $0.validNdcg10 != nil }
            chart.layers.append(.series(Series(prefix + "NDCG@10", points: validated.map { Point(Double($0.epoch), $0.validNdcg10 ?? 0) },
                                               colorSlot: slot, dashSlot: 0)))
            chart.layers.append(.series(Series(prefix + "Recall@10", points: validated.compactMap { e in e.validRecall10.map { Point(Double(e.epoch), $0) } },
                                               colorSlot: slot, dashSlot: 1)))
            chart.layers.append(.verticalRule(x: Double(s.bestEpoch), label: "best \(s.bestEpoch)", slot: indexes.count > 1 ? slot : nil))
            let ndcg = validated.compactMap(\.validNdcg10)
            let trend = ending(ndcg, lowerIsBetter: false) == .improving ? " and still rising at the end (train longer)" : ""
            phrases.append(prefix + "NDCG@10\(owner) peaks at \(NumberFormat.fixed(s.validation?.ndcg10 ?? ndcg.max() ?? 0, 4)) in epoch \(s.bestEpoch)\(trend)")
        }
        parts.append(Figure(id: "model-validation", title: "Validation metrics per epoch", svg: chart.render(),
                            reading: phrases.joined(separator: "; ") + ". Compare the peaks to choose between ID schemes trained the same way; a curve still rising when training stopped means the budget, not the IDs, limits the result.").html)
        return parts
    }

    static func stopReason(_ reason: String) -> String {
        switch reason {
        case "early-stopping": return "early stopping (no validation gain for --patience epochs)"
        case "time-limit": return "the --time-limit"
        case "epochs": return "the --epochs limit"
        default: return reason
        }
    }
}
