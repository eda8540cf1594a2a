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
    var format: ExportRequest.Format

    @Option(help: "Output file (a directory for --format trie).")
    var out: String

    @Option(help: "Token template for trie and hf-tokens: {letter} (a, b, …), {position} (0, 1, …), {code}.")
    var tokenTemplate: String = TokenTemplate.lcrec.text

    @Flag(help: "Replace --out if it exists.")
    var force = false

    func validate() throws {
        do { _ = try TokenTemplate(tokenTemplate) } catch { throw ValidationError("--token-template: \(error)") }
    }

    func run() throws {
        var request = ExportRequest(index: index, format: format, output: out)
        request.tokenTemplate = try TokenTemplate(tokenTemplate)
        request.overwrite = force
        let result = try Pipeline.export(request)
        switch request.format {
        case .trie, .hfTokens:
            Console.out("wrote the \(format.rawValue) export of \(result.items) IDs of length \(result.idLength) to \(out)")
        case .lcrec, .tsv, .npy:
            Console.out("wrote \(result.items) IDs of length \(result.idLength) to \(out)")
        }
    }
}
