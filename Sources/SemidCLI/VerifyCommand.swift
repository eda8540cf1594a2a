import ArgumentParser
import Foundation
import Semid

/// `semid verify`: re-encode the items with the index's frozen quantizer and compare with the
/// stored codes.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that an index's codes are reproduced here: re-encode the items with its frozen quantizer and compare.",
        discussion: """
            Encoding is exact, so an index built from the same embeddings re-encodes to its stored raw codes on any machine, whatever its CPU, BLAS kernel or thread count. Give the embeddings of every item in item order: the build's file, then the files of later adds (repeat --embeddings). Exits with status 1 when an item's codes differ or a final ID does not follow from its raw codes.
            """)

    @Argument(help: "The index directory.")
    var index: String

    @Option(help: "Item embeddings (.npy); repeat for the parts of later adds, in order.")
    var embeddings: [String]

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        if embeddings.isEmpty { throw ValidationError("give the item embeddings with --embeddings") }
    }

    func run() throws {
        let opened = try IndexStore.open(at: index)
        if let source = opened.manifest.parameters.source, source != .content {
            throw CommandFailure(
                "\(index) quantizes \(source.rawValue) vectors, which are computed from the interaction sequences at build time; verify re-encodes content embeddings only")
        }
        var vectors = Matrix(rows: 0, cols: 0)
        var files: [(file: String, recorded: Int?)] = []
        for path in embeddings {
            let part = try NpyFile.readMatrix(at: path)
            if vectors.rows > 0 && part.cols != vectors.cols {
                throw CommandFailure("\(path) has dimension \(part.cols) but \(embeddings[0]) has \(vectors.cols)")
            }
            vectors.appendRows(of: part)
            let print = try InputFingerprint(role: "embeddings", path: path, rows: part.rows, columns: part.cols)
            let batch = opened.manifest.batches.first { batch in
                batch.inputs.contains { $0.role == "embeddings" && $0.xxh64 == print.xxh64 && $0.bytes == print.bytes }
            }
            files.append((path, batch?.batch))
        }
        let result = try CodeVerification(index: opened, vectors: vectors)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            Console.out(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            for (file, batch) in files {
                Console.out(batch.map { "\(file): the input of batch \($0) (same XXH64)" }
                            ?? "\(file): not an input recorded in the manifest (different bytes)")
            }
            Console.out("re-encoded \(result.items) items with the stored \(opened.manifest.parameters.method) quantizer "
                        + "(fixed-order kernels: \(FixedOrder.path), BLAS \(BLASRuntime.coreName)): "
                        + "\(result.reproduced) reproduce their stored raw codes")
            if result.inconsistentFinalIDs > 0 {
                Console.out("\(result.inconsistentFinalIDs) final IDs do not follow from their raw codes under the \(opened.manifest.parameters.collisionPolicy.name) policy")
            }
            for m in result.mismatches {
                Console.out("  item \(m.item): stored \(m.stored.map(String.init).joined(separator: "-")), "
                            + "encoded \(m.encoded.map(String.init).joined(separator: "-"))")
            }
        }
        if !result.passed {
            throw CommandFailure(
                "\(result.items - result.reproduced) of \(result.items) items re-encode to other raw codes and \(result.inconsistentFinalIDs) final IDs are inconsistent: these embeddings are not the ones \(index) was built from, or the index was modified")
        }
    }
}
