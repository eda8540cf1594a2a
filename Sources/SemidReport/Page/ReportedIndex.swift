import Foundation
import SemidIndex
import SemidMath
import SemidModel
import SemidQuantization
import SemidStorage

/// One index as the report sees it: its manifest and the figures of its items, its user IDs, its
/// RQ-VAE training and its trained model.
public struct ReportedIndex: Sendable {
    /// The label used in legends and tables (the directory name, made unique by the caller).
    public var name: String
    /// The directory the index was read from.
    public var path: String
    /// The manifest.
    public var manifest: IndexManifest
    /// The items' figures.
    public var items: CodeSetFigures
    /// The user IDs' figures, when `semid users` has run.
    public var users: CodeSetFigures?
    /// The RQ-VAE training report (method `rq-vae`).
    public var rqvae: RQVAE.Report?
    /// The trained next-item model's summary, when `semid train` has run.
    public var model: ModelSummary?

    /// Whether the IDs were assigned (random, sequential) rather than quantized.
    public var isAssigned: Bool { QuantizationMethod(rawValue: manifest.parameters.method)?.isAssigned ?? false }

    /// Computes the figures of `index` (read from disk, so that titles come from its catalog).
    ///
    /// - Parameters:
    ///   - groupLimit: how many of the largest colliding groups to list.
    ///   - recomputedErrors: per-item squared errors computed from the build's embeddings, used
    ///     when the index stores none, with a description of where they came from.
    public init(index: SemanticIndex, name: String, groupLimit: Int = 10,
                recomputedErrors: (errors: [Float], source: String)? = nil) throws {
        self.name = name
        self.path = index.path ?? name
        self.manifest = index.manifest
        let catalog = index.path != nil ? try index.catalog() : nil
        let titles: ([Int]) throws -> [Int: String] = { try catalog?.titles(of: $0) ?? [:] }
        let report = try index.report(groupLimit: groupLimit)
        let assigned = QuantizationMethod(rawValue: index.manifest.parameters.method)?.isAssigned ?? false
        var errors: ErrorFigures?
        var missing: String?
        let variance = index.manifest.batches.first?.reconstruction.totalVariance ?? 0
        if assigned {
            missing = "\(index.manifest.parameters.method) IDs are assigned, not quantized from vectors: there is no reconstruction error."
        } else if let stored = try ReconstructionErrors.stored(in: index) {
            errors = try ErrorFigures(squaredErrors: stored, totalVariance: variance, finalIDs: index.ids,
                                      source: "stored in the index", titles: titles)
        } else if let recomputedErrors {
            errors = try ErrorFigures(squaredErrors: recomputedErrors.errors, totalVariance: variance, finalIDs: index.ids,
                                      source: recomputedErrors.source, titles: titles)
        } else {
            missing = "This index was written before semid stored per-item errors (array \(ReconstructionErrors.itemArray)); "
                + "give the build's embeddings with --embeddings FILE, or rebuild it, to see their distribution."
        }
        self.items = CodeSetFigures(noun: "item", report: report, rawCodes: index.rawCodes,
                                    codebookSizes: index.manifest.parameters.codebookSizes, errors: errors,
                                    errorsMissing: missing, collisions: index.manifest.statistics.collisions)

        if let users = try UserIDs.load(from: index) {
            let userReport = users.report(groupLimit: groupLimit)
            let userVariance = users.section.batches.first?.reconstruction.totalVariance ?? 0
            let stored = try ReconstructionErrors.stored(in: index, array: ReconstructionErrors.userArray, rows: users.section.users)
            let userErrors = stored.map {
                ErrorFigures(squaredErrors: $0, totalVariance: userVariance, finalIDs: users.ids, source: "stored in the index") { _ in [:] }
            }
            self.users = CodeSetFigures(
                noun: "user", report: userReport, rawCodes: users.rawCodes, codebookSizes: users.section.configuration.codebookSizes,
                errors: userErrors,
                errorsMissing: "These user IDs were made before semid stored per-user errors (array \(ReconstructionErrors.userArray)); run semid users again to see them.",
                collisions: users.section.collisions)
        }
        if let json = index.manifest.statistics.rqvae {
            self.rqvae = try json.decode(RQVAE.Report.self, source: self.path + "/manifest.json: statistics.rqvae")
        }
        if StoredModel.hasModel(index) {
            self.model = try StoredModel.summary(of: index)
        }
    }
}
