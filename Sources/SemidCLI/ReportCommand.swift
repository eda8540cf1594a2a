import ArgumentParser
import Foundation
import Semid

/// `semid report`: a self-contained HTML page of plots about one index, or up to four compared.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an offline HTML report with plots of an index's codebooks, collisions, errors and training.",
        discussion: """
            One HTML file with inline CSS and SVG: no scripts, no network, no external fonts, so it opens \
            anywhere and can be attached to a ticket. Its size does not grow with the number of items \
            (usage, histograms and curves are aggregated). With --compare, up to 3 more indexes are drawn \
            in the same plots, with a table of their figures side by side.
            """)

    @Argument(help: "The index directory.")
    var index: String

    @Option(parsing: .upToNextOption, help: "Other indexes to compare with (up to \(HTMLReport.maximumIndexes - 1)).")
    var compare: [String] = []

    @Option(help: "The HTML file to write.")
    var out: String

    @Option(help: "The build's embeddings (.npy), to recompute per-item errors of indexes written before semid stored them.")
    var embeddings: String?

    @Option(help: "How many of the largest colliding groups to list per index.")
    var groups: Int = 10

    @Flag(help: "Replace --out if it exists.")
    var force = false

    @Flag(help: "No progress line.")
    var quiet = false

    func validate() throws {
        if compare.count > HTMLReport.maximumIndexes - 1 {
            throw ValidationError("--compare takes at most \(HTMLReport.maximumIndexes - 1) indexes (got \(compare.count))")
        }
        if groups < 0 { throw ValidationError("--groups must be 0 or more") }
    }

    func run() throws {
        var request = ReportRequest(indexes: [index] + compare, output: out)
        request.embeddings = embeddings
        request.groups = groups
        request.overwrite = force
        request.progress = Console.progress(quiet: quiet)
        let result = try Pipeline.report(request)
        let size = Double(result.bytes)
        let text = size >= Double(1 << 20) ? String(format: "%.1f MB", size / Double(1 << 20)) : String(format: "%.0f kB", size / 1024)
        Console.out("wrote \(out) (\(text), \(result.indexes) index\(result.indexes == 1 ? "" : "es")) in \(Format.seconds(result.seconds))")
    }
}
