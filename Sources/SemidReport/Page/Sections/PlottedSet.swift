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

extension PlottedSet {
    /// A reading's clause about this set: `"name: clause"` when the page shows several indexes,
    /// otherwise the clause with a capital first letter (it starts the sentence).
    func clause(_ text: String) -> String {
        labelled ? "\(name): \(text)" : text.prefix(1).uppercased() + text.dropFirst()
    }
}

/// Joins the sets' clauses for a reading: `"a: 1; b: 2"` (or `"1"` for a single unlabelled set).
func perIndex(_ sets: [PlottedSet], _ phrase: (PlottedSet) -> String) -> String {
    sets.map { $0.clause(phrase($0)) }.joined(separator: "; ")
}
