import ArgumentParser
import Foundation
import Semid

/// The `semid` command: semantic IDs for generative retrieval.
public struct SemidCommand: ParsableCommand {
    /// The command name, help text, version and subcommands.
    public static let configuration = CommandConfiguration(
        commandName: "semid",
        abstract: "Semantic IDs for generative retrieval: build, inspect and export item indices; train a next-item model and generate with it.",
        discussion: """
            Typical use:
              semid build --embeddings emb.npy --items items.jsonl --levels 3 --codebook-size 256 \\
                          --collisions suffix --seed 7 --out beauty.semid
              semid inspect beauty.semid [--json]
              semid report beauty.semid [--compare other.semid] --out report.html
              semid export beauty.semid --format lcrec --out beauty.index.json
              semid train beauty.semid --sequences seq.tsv [--embeddings emb.npy]
              semid recommend beauty.semid --history "3 11 12" --top 10
              semid eval beauty.semid --sequences seq.tsv --split test
            """,
        version: SemidCommand.versionText,
        subcommands: [BuildCommand.self, AddCommand.self, UsersCommand.self, InspectCommand.self, VerifyCommand.self, ReportCommand.self, ExportCommand.self,
                      TrainCommand.self, RecommendCommand.self, EvalCommand.self, CompareCommand.self, BenchCommand.self])

    /// See `ParsableCommand.init()`.
    public init() {}

    /// `semid --version`: the version, the BLAS kernel and thread count, and why that kernel.
    static var versionText: String {
        """
        semid \(SemidVersion.current)
        BLAS: \(BLASRuntime.summary) (\(BLASKernelSelection.note))
        fixed-order kernels (IDs): \(FixedOrder.path); results are the same on every CPU
        RQ-VAE training products: \(BF16Matmul.isAvailable ? "bfloat16 on AMX" : "fp32 sgemm (no AMX-BF16 on this CPU)")
        zstd \(Zstd.libraryVersion)
        """
    }

    /// Parses the arguments, runs the command, and exits: 0 on success, 1 for bad input or a failed
    /// operation, 2 for a command-line usage error.
    public static func runAndExit(_ arguments: [String]? = nil) -> Never {
        BLASKernelSelection.reexecIfNeeded()
        do {
            var command = try parseAsRoot(NegativeNumberArguments.joined(arguments ?? Array(CommandLine.arguments.dropFirst())))
            try command.run()
            Foundation.exit(0)
        } catch {
            if ErrorMessages.isUsageError(error) {
                let help = helpCommand(arguments ?? Array(CommandLine.arguments.dropFirst()))
                Console.err("semid: error: \(oneLine(ErrorMessages.message(for: error))) (see '\(help)')")
                Foundation.exit(2)
            }
            if error is CleanExit || error is ValidationError || error is ExitCode || isArgumentParserError(error) {
                let code = exitCode(for: error)
                if code == .success {
                    Console.out(fullMessage(for: error))
                    Foundation.exit(0)
                }
                // One line, like every other error: ArgumentParser's full message adds usage lines.
                let help = helpCommand(arguments ?? Array(CommandLine.arguments.dropFirst()))
                Console.err("semid: error: \(oneLine(message(for: error))) (see '\(help)')")
                Foundation.exit(2)
            }
            // Every semid error type describes itself in one line naming the file and the problem.
            fail(ErrorMessages.message(for: error))
        }
    }

    /// `text` on one line: its non-empty lines, trimmed, joined by "; ".
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
    }

    /// `semid SUBCOMMAND --help` for the subcommand named in `arguments`, else `semid --help`.
    static func helpCommand(_ arguments: [String]) -> String {
        let names = configuration.subcommands.compactMap { $0.configuration.commandName }
        if let sub = arguments.first(where: { !$0.hasPrefix("-") }), names.contains(sub) {
            return "semid \(sub) --help"
        }
        return "semid --help"
    }

    static func isArgumentParserError(_ error: Error) -> Bool {
        String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }

    static func fail(_ message: String) -> Never {
        Console.err("semid: error: \(oneLine(message))")
        Foundation.exit(1)
    }
}

/// A failure with a message for the user (exit status 1).
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { self.description = message }
}
