import ArgumentParser
import Semid

/// `semid add`: new items get IDs from the frozen quantizer; no existing ID changes.
struct AddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add items to an index without changing any existing ID.",
        discussion: """
            New items are encoded with the index's frozen quantizer and take the next free suffix \
            (suffix policy) or the nearest free last-level code (sinkhorn policy). The index is \
            rewritten atomically: if anything fails, the old index is left as it was.
            """)

    @Argument(help: "The index directory.")
    var index: String

    @Option(help: "Embeddings of the new items (.npy, same dimension as the index); row j is item n+j.")
    var embeddings: String

    @Option(help: "Catalog of the new items (JSONL or LC-Rec *.item.json) with ids n…n+m−1.")
    var items: String?

    @Flag(help: "No progress output.")
    var quiet = false

    @OptionGroup var writer: WriterOptions

    func run() throws {
        var request = AddRequest(index: index, embeddings: .file(embeddings), items: items.map { .file($0) })
        request.progress = Console.progress(quiet: quiet)
        request.waiting = writer.waiting
        let result = try Pipeline.add(request)
        Console.out("added \(result.added) items to \(index): \(result.index.itemCount) items, "
                    + "\(result.report.final.distinctIds) distinct IDs, final collision rate \(Format.percent(result.report.final.collisionRate))")
    }
}
