import Foundation
import Semid

/// One line about the trained model of an index, for `semid inspect`.
enum ModelDescription {
    /// The line for a stored model's summary (or its unreadable section).
    static func line(for model: Result<ModelSummary, Error>) -> String {
        guard case .success(let s) = model else { return "model      (unreadable model section)" }
        let c = s.configuration
        var text = "model      \(c.head.rawValue) head, d = \(c.dimension), \(c.layers) layer\(c.layers == 1 ? "" : "s") × \(c.heads) head\(c.heads == 1 ? "" : "s")"
        text += c.contentDimension > 0 ? ", content \(c.contentDimension)-d" : ""
        if c.userTokens {
            text += ", user tokens (\(c.userTokenPlacement.rawValue), \(c.userCodeSizes.count) ID positions, \(s.training.userIDSource.rawValue) in training)"
        }
        text += "; trained \(s.epochs.count) epochs" + (s.trainingSeconds.map { " in \(Format.seconds($0))" } ?? "")
            + ", kept epoch \(s.bestEpoch)"
        if let v = s.validation {
            text += String(format: "; valid recall@10 %.4f ndcg@10 %.4f", v.recall10, v.ndcg10)
        }
        return text
    }
}
