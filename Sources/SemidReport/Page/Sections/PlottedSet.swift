/// A set of IDs (an index's items or users) with the name and colour slot it is drawn with.
struct PlottedSet {
    /// The index's name.
    var name: String
    /// The index's palette slot (its position on the command line).
    var slot: Int
    /// The figures.
    var figures: CodeSetFigures
    /// Whether the levels' residuals are measured in a learned latent space (RQ-VAE).
    var latentResiduals = false
    /// Whether readings name the index (when the page shows more than one).
    var labelled = false

    /// Members (items or users).
    var count: Int { figures.report.items }
    /// Prefix of figure titles: `"User IDs: "` for users, nothing for items.
    var titlePrefix: String { figures.noun == "user" ? "User IDs: " : "" }
    /// The plural noun, e.g. `"items"`.
    var nouns: String { figures.noun + "s" }
}

/// Joins per-index phrases for a reading: `"a: 1; b: 2"`.
func perIndex(_ sets: [PlottedSet], _ phrase: (PlottedSet) -> String) -> String {
    sets.map { $0.labelled ? "\($0.name) \(phrase($0))" : phrase($0) }.joined(separator: "; ")
}
