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
        let result = try Pipeline.verify(VerifyRequest(index: index, embeddings: embeddings.map { .file($0) }))
        let verification = result.verification
        let parameters = result.index.manifest.parameters
        if json {
            Console.out(try JSONOutput.render(verification, keys: .asDeclared))
        } else {
            for file in result.files {
                Console.out(file.batch.map { "\(file.file): the input of batch \($0) (same XXH64)" }
                            ?? "\(file.file): not an input recorded in the manifest (different bytes)")
            }
            Console.out("re-encoded \(verification.items) items with the stored \(parameters.method) quantizer "
                        + "(fixed-order kernels: \(FixedOrder.path), BLAS \(BLASRuntime.coreName)): "
                        + "\(verification.reproduced) reproduce their stored raw codes")
            if verification.inconsistentFinalIDs > 0 {
                Console.out("\(verification.inconsistentFinalIDs) final IDs do not follow from their raw codes under the \(parameters.collisionPolicy.name) policy")
            }
            for m in verification.mismatches {
                Console.out("  item \(m.item): stored \(m.stored.map(String.init).joined(separator: "-")), "
                            + "encoded \(m.encoded.map(String.init).joined(separator: "-"))")
            }
        }
        if !verification.passed {
            throw CommandFailure(
                "\(verification.items - verification.reproduced) of \(verification.items) items re-encode to other raw codes and \(verification.inconsistentFinalIDs) final IDs are inconsistent: these embeddings are not the ones \(index) was built from, or the index was modified")
        }
    }
}
