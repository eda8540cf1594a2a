import Foundation
import SemidIndex
import SemidMath
import SemidModel
import SemidStorage

/// `semid report`: one self-contained HTML page of plots about up to ``maximumIndexes`` indexes.
///
/// The page has no scripts and loads nothing (a Content-Security-Policy forbids every fetch):
/// CSS and SVG are inline, fonts are the system's. Everything plotted is aggregated first (code
/// usage is `levels × K`, histograms have fixed bins, series are decimated), so its size does not
/// grow with the number of items.
public enum HTMLReport {
    /// Most indexes on one page (colours and dash patterns stay distinct up to this many).
    public static let maximumIndexes = 4

    /// The embeddings a build was made from, to recompute per-item errors of indexes that do not store them.
    public struct Embeddings: Sendable {
        /// The file.
        public var path: String
        /// Its fingerprint (matched against the indexes' build inputs).
        public var fingerprint: InputFingerprint
        /// The vectors, `[n, d]`.
        public var matrix: Matrix

        /// Reads and fingerprints a `.npy` file.
        public init(path: String) throws {
            let matrix = try NpyFile.readMatrix(at: path)
            self.path = path
            self.matrix = matrix
            self.fingerprint = try InputFingerprint(role: "embeddings", path: path, rows: matrix.rows, columns: matrix.cols)
        }
    }

    /// Opens the indexes at `paths` (each fully verified, catalog included) and computes their figures.
    ///
    /// - Parameters:
    ///   - embeddings: the build's embeddings, used for indexes that store no per-item errors and
    ///     were built from exactly this file (same XXH64) without later additions; it is an error
    ///     when it fits none of the indexes that need it.
    ///   - groupLimit: the largest colliding groups listed per index.
    public static func open(_ paths: [String], embeddings: Embeddings? = nil, groupLimit: Int = 10,
                            progress: ProgressHandler? = nil) throws -> [ReportedIndex] {
        guard !paths.isEmpty else { throw IndexError.inconsistentInput("no index to report on") }
        guard paths.count <= maximumIndexes else {
            throw IndexError.inconsistentInput("a report compares at most \(maximumIndexes) indexes (got \(paths.count))")
        }
        let names = uniqueNames(paths)
        var reported: [ReportedIndex] = []
        var embeddingsUsed = false, embeddingsNeeded = false
        for (k, path) in paths.enumerated() {
            progress?(ProgressEvent(stage: "reading \(path)", step: k, total: paths.count))
            let index = try IndexStore.open(at: path)
            try IndexStore.verifyCatalog(at: path, manifest: index.manifest)
            var recomputed: (errors: [Float], source: String)?
            if let embeddings, try ReconstructionErrors.stored(in: index) == nil {
                embeddingsNeeded = true
                if builtFrom(embeddings.fingerprint, index: index) {
                    recomputed = (try ReconstructionErrors.compute(for: index, embeddings: embeddings.matrix),
                                  "recomputed from \((embeddings.path as NSString).lastPathComponent)")
                    embeddingsUsed = true
                }
            }
            reported.append(try ReportedIndex(index: index, name: names[k], groupLimit: groupLimit, recomputedErrors: recomputed))
        }
        if let embeddings, embeddingsNeeded, !embeddingsUsed {
            let builds = reported.compactMap { r in
                r.manifest.batches.first?.inputs.first { $0.role == "embeddings" }.map { "\(r.name) was built from \($0.file) (xxh64 \($0.xxh64), \($0.rows) rows)" }
            }
            throw IndexError.inconsistentInput("\(embeddings.path) (xxh64 \(embeddings.fingerprint.xxh64), \(embeddings.fingerprint.rows) rows) is not the embeddings file of any index that lacks per-item errors"
                + (builds.isEmpty ? "" : ": " + builds.joined(separator: "; ")))
        }
        progress?(ProgressEvent(stage: "reading indexes", step: paths.count, total: paths.count, finished: true))
        return reported
    }

    /// Whether `index` was built from the file with `fingerprint` and has had no items added since.
    static func builtFrom(_ fingerprint: InputFingerprint, index: SemanticIndex) -> Bool {
        guard index.manifest.batches.count == 1, let build = index.manifest.batches.first,
              let input = build.inputs.first(where: { $0.role == "embeddings" }) else { return false }
        return input.xxh64 == fingerprint.xxh64 && input.bytes == fingerprint.bytes && input.rows == index.itemCount
    }

    /// Directory names, made unique by prefixing parent directories where two coincide.
    static func uniqueNames(_ paths: [String]) -> [String] {
        func components(_ p: String) -> [String] { p.split(separator: "/").map(String.init).filter { $0 != "." } }
        var depth = paths.map { _ in 1 }
        for _ in 0..<8 {
            let names = paths.indices.map { components(paths[$0]).suffix(depth[$0]).joined(separator: "/") }
            var changed = false
            for i in paths.indices where names.filter({ $0 == names[i] }).count > 1 && depth[i] < components(paths[i]).count {
                depth[i] += 1
                changed = true
            }
            if !changed {
                return names.enumerated().map { i, n in
                    let duplicates = names.prefix(i).filter { $0 == n }.count
                    return (n.isEmpty ? "index" : n) + (duplicates > 0 ? " (\(duplicates + 1))" : "")
                }
            }
        }
        return paths.indices.map { "index \($0 + 1)" }
    }

    /// The complete HTML page for `indexes` (in the order given: the first is the main index).
    public static func render(_ indexes: [ReportedIndex]) -> String {
        let items = indexes.enumerated().map { slot, i in
            PlottedSet(name: i.name, slot: slot, figures: i.items, latentResiduals: i.rqvae != nil, labelled: indexes.count > 1)
        }
        var sections: [Section] = [OverviewSection.make(indexes)]
        let quantized = items.filter { !(indexes[$0.slot].isAssigned) }
        sections.append(Section(id: "usage", title: "Code usage per level",
                                intro: "Does every level spread the items over all its codes? Uneven or dead codes waste ID space and crowd items into shared IDs.",
                                parts: CodeUsageSection.figures(items, prefix: "", perLevelCurves: true)))
        sections.append(Section(id: "id-space", title: "ID space: fan-out and residuals",
                                intro: "How many items each prefix length tells apart, and how much of the vectors' variance each level still explains: where another level stops paying off.",
                                parts: IDSpaceSection.figures(quantized.isEmpty ? items : quantized, prefix: "")))
        sections.append(Section(id: "collisions", title: "Collisions",
                                intro: "Which items end up with the same raw codes, how many, and what the collision policy did about it.",
                                parts: CollisionSection.figures(items, prefix: "", listGroups: true)))
        sections.append(Section(id: "reconstruction", title: "Reconstruction error",
                                intro: "How well each item's codes reproduce the vector it was quantized from; the mean is the manifest's relative MSE.",
                                parts: ReconstructionSection.figures(items, prefix: "", listWorst: true)))
        let vae = indexes.enumerated().compactMap { slot, i in i.rqvae.map { (name: i.name, slot: slot, report: $0) } }
        if !vae.isEmpty {
            sections.append(Section(id: "rqvae", title: "RQ-VAE training",
                                    intro: "Per-epoch losses, collision rate and code use from the manifest: did training converge, collapse or stop too early?",
                                    parts: TrainingSection.rqvae(vae)))
        }
        let models = indexes.enumerated().compactMap { slot, i in i.model.map { (name: i.name, slot: slot, summary: $0) } }
        if !models.isEmpty {
            sections.append(Section(id: "model", title: "Trained next-item model",
                                    intro: "Per-epoch training loss and validation metrics of the model stored in the index (semid train).",
                                    parts: TrainingSection.models(models, labelled: indexes.count > 1)))
        }
        let users = indexes.enumerated().compactMap { slot, i in i.users.map { PlottedSet(name: i.name, slot: slot, figures: $0, labelled: indexes.count > 1) } }
        if !users.isEmpty {
            sections.append(Section(id: "users", title: "User IDs",
                                    intro: "The same health figures for the users' semantic IDs (semid users).",
                                    parts: CodeUsageSection.figures(users, prefix: "users-", perLevelCurves: false)
                                        + IDSpaceSection.figures(users, prefix: "users-")
                                        + CollisionSection.figures(users, prefix: "users-", listGroups: false)
                                        + ReconstructionSection.figures(users, prefix: "users-", listWorst: false)))
        }
        return document(indexes, sections: sections)
    }

    static func document(_ indexes: [ReportedIndex], sections: [Section]) -> String {
        let names = indexes.map(\.name).joined(separator: " vs ")
        var html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        html += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        html += "<meta name=\"generator\" content=\"semid \(SemidVersion.current)\">"
        html += "<title>semid report: \(Markup.escape(names))</title><style>\(PageStyle.css)</style></head><body>"
        html += "<header><h1>semid report: \(Markup.escape(names))</h1><div class=\"indexes\">"
        for (slot, i) in indexes.enumerated() {
            html += "<span>\(HTML.indexLabel(i.name, slot: slot)) <code>\(Markup.escape(i.path))</code></span>"
        }
        html += "</div><nav>" + sections.map { "<a href=\"#\($0.id)\">\(Markup.escape($0.title))</a>" }.joined() + "</nav></header><main>"
        html += sections.map(\.html).joined()
        html += "</main><footer>Written by semid \(SemidVersion.current) (semid report) from each index's manifest, shards and catalog; "
            + "hover a bar, cell or point for its exact value.</footer></body></html>\n"
        return html
    }
}
