import ArgumentParser
import SemidIndex
import SemidStorage

/// `semid export`: final IDs for LLM pipelines and analysis.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export the final semantic IDs (LC-Rec index.json, TSV or int32 .npy).")

    @Argument(help: "The index directory.")
    var index: String

    @Option(help: "lcrec (LC-Rec *.index.json), tsv (item, source_id, codes…) or npy (int32 [items, id_length]).")
    var format: String

    @Option(help: "Output file.")
    var out: String

    @Flag(help: "Replace --out if it exists.")
    var force = false

    func validate() throws {
        if ExportFormat(rawValue: format) == nil {
            throw ValidationError("--format must be one of \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", ")) (got \(format))")
        }
    }

    func run() throws {
        if FileSystem.exists(out) && !force {
            throw CommandFailure("\(out) already exists; pass --force to replace it")
        }
        let opened = try IndexStore.open(at: index)
        let catalog = try opened.catalog().allItems()
        try IndexExport.write(ids: opened.ids, catalog: catalog, format: ExportFormat(rawValue: format) ?? .npy, to: out)
        Console.out("wrote \(opened.itemCount) IDs of length \(opened.ids.levels) to \(out)")
    }
}
