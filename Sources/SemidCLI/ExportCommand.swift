import ArgumentParser
import Semid

/// `semid export`: final IDs for LLM pipelines and analysis.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export the final semantic IDs (LC-Rec index.json, TSV, int32 .npy), the decoding trie (.npy CSR arrays) or the ID tokens for a tokenizer.")

    @Argument(help: "The index directory.")
    var index: String

    @Option(help: "lcrec (LC-Rec *.index.json), tsv (item, source_id, codes…), npy (int32 [items, id_length]), trie (a directory of .npy CSR arrays + trie.json, readable with NumPy alone) or hf-tokens (JSON list of the ID tokens in the order to add them to a tokenizer).")
    var format: String

    @Option(help: "Output file (a directory for --format trie).")
    var out: String

    @Option(help: "Token template for trie and hf-tokens: {letter} (a, b, …), {position} (0, 1, …), {code}.")
    var tokenTemplate: String = TokenTemplate.lcrec.text

    @Flag(help: "Replace --out if it exists.")
    var force = false

    func validate() throws {
        if ExportFormat(rawValue: format) == nil && ConstraintExport.Format(rawValue: format) == nil {
            let names = ExportFormat.allCases.map(\.rawValue) + ConstraintExport.Format.allCases.map(\.rawValue)
            throw ValidationError("--format must be one of \(names.joined(separator: ", ")) (got \(format))")
        }
        do { _ = try TokenTemplate(tokenTemplate) } catch { throw ValidationError("--token-template: \(error)") }
    }

    func run() throws {
        if FileSystem.exists(out) && !force {
            throw CommandFailure("\(out) already exists; pass --force to replace it")
        }
        let opened = try IndexStore.open(at: index)
        if let constraint = ConstraintExport.Format(rawValue: format) {
            try ConstraintExport.write(opened, format: constraint, template: try TokenTemplate(tokenTemplate), to: out, overwrite: force)
            Console.out("wrote the \(format) export of \(opened.itemCount) IDs of length \(opened.ids.levels) to \(out)")
            return
        }
        let catalog = try opened.catalog().allItems()
        try IndexExport.write(ids: opened.ids, catalog: catalog, format: ExportFormat(rawValue: format) ?? .npy, to: out)
        Console.out("wrote \(opened.itemCount) IDs of length \(opened.ids.levels) to \(out)")
    }
}
