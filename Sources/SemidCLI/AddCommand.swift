import ArgumentParser
import Foundation
import SemidDecoding
import SemidIndex
import SemidStorage

/// `semid add`: new items get IDs from the frozen quantizer; no existing ID changes.
struct AddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add items to an index without changing any existing ID.",
        discussion: """
            New items are encoded with the index's frozen quantizer and take the next free suffix
            (suffix policy) or the nearest free last-level code (sinkhorn policy). The index is
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
        let matrix = try NpyFile.readMatrix(at: embeddings)
        var inputs = [try InputFingerprint(role: "embeddings", path: embeddings, rows: matrix.rows, columns: matrix.cols)]
        var records: [ItemRecord]?
        if let items {
            let read = try ItemCatalogFile.read(at: items)
            records = read
            inputs.append(try InputFingerprint(role: "items", path: items, rows: read.count, columns: nil))
        }
        let before = try IndexStore.readManifest(at: index).items
        let updated = try IndexAdder.add(
            to: index, embeddings: matrix, items: records, inputs: inputs,
            refreshDerivedArrays: { index in
                do { try CodeTrie.attach(to: &index) } catch DecodingError.duplicateID {}
            },
            progress: Console.progress(quiet: quiet), waiting: writer.waiting)
        let report = try updated.report(groupLimit: 0)
        Console.out("added \(updated.itemCount - before) items to \(index): \(updated.itemCount) items, "
                    + "\(report.final.distinctIds) distinct IDs, final collision rate \(Format.percent(report.final.collisionRate))")
    }
}
