import Foundation
import SemidMath
import SemidTestSupport
import Testing

// Helpers for tests that run the real `semid` binary as a subprocess.

/// Paths that depend on where the package and its build products are.
enum TestPaths {
    /// The bundled Amazon Beauty dataset's embeddings and catalog, or `nil` when they are not
    /// present in this checkout (tests that need them are then skipped).
    static let beauty: (embeddings: String, items: String)? = {
        guard let embeddings = PackagePaths.beautyFile("embeddings.npy"),
              let items = PackagePaths.beautyFile("items.jsonl") else { return nil }
        return (embeddings, items)
    }()

    /// The `semid` executable built next to the test runner.
    ///
    /// Under `swift test` on Linux, `CommandLine.arguments[0]` is the test runner
    /// (`.build/<triple>/<config>/semidPackageTests.xctest`, an executable) and `semid` is built into
    /// the same directory, so the runner's directory (via `/proc/self/exe`, then `arguments[0]`) is
    /// tried first. Falls back to `<package root>/.build/debug/semid` (e.g. on macOS, where the tests
    /// run inside `xctest`).
    static let semidBinary: String = {
        var candidates: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("semid"))
        }
        if let first = CommandLine.arguments.first {
            let runner = URL(fileURLWithPath: first, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            candidates.append(runner.deletingLastPathComponent().appendingPathComponent("semid"))
        }
        candidates.append(PackagePaths.root.appendingPathComponent(".build/debug/semid"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.standardizedFileURL.path) {
            return candidate.standardizedFileURL.path
        }
        return candidates.last?.path ?? "semid"
    }()
}

/// Runs the `semid` binary.
enum Semid {
    /// Runs `semid arguments…` to completion and captures its exit status, stdout and stderr.
    ///
    /// Output goes to temporary files rather than pipes, so a chatty child can never block on a
    /// full pipe. The environment is inherited unchanged (in particular `OPENBLAS_CORETYPE`: the
    /// binary may re-execute itself to pick a BLAS kernel, and tests leave that alone); `environment`
    /// adds or replaces variables for this child only.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try CommandResult.run(TestPaths.semidBinary, arguments, environment: environment)
    }

    /// Runs `semid arguments…` and records an issue unless it exits with status 0.
    @discardableResult
    static func succeed(_ arguments: [String], environment: [String: String] = [:],
                        sourceLocation: SourceLocation = #_sourceLocation) throws -> CommandResult {
        let result = try run(arguments, environment: environment)
        #expect(result.exited && result.status == 0, "semid \(arguments.joined(separator: " ")) failed: \(result)",
                sourceLocation: sourceLocation)
        return result
    }

    /// Checks a failed run: a normal exit with status `status` (1 or 2), nothing on stdout, and
    /// exactly one line on stderr (a trailing newline aside) that contains every phrase of `mentions`.
    static func expectFailure(_ result: CommandResult, status: Int32, mentions: [String],
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.exited, "semid crashed: \(result)", sourceLocation: sourceLocation)
        #expect([1, 2].contains(result.status), sourceLocation: sourceLocation)
        #expect(result.status == status, "\(result)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, "\(result)", sourceLocation: sourceLocation)
        #expect(result.stderrLines.count == 1, "stderr must be one line: \(result)", sourceLocation: sourceLocation)
        for phrase in mentions {
            #expect(result.stderr.contains(phrase), "stderr lacks \"\(phrase)\": \(result)", sourceLocation: sourceLocation)
        }
    }
}

/// Small synthetic inputs, fast enough for debug builds.
enum Fixture {
    /// Rows of the standard synthetic embedding matrix.
    static let rows = 300
    /// Columns of the standard synthetic embedding matrix.
    static let cols = 16

    /// `rows × cols` float32 values: 12 Gaussian clusters with noise 0.3, from a fixed seed.
    static let embeddings: [Float] = SyntheticData.clusteredValues(rows: rows, cols: cols, clusters: 12, noise: 0.3, seed: 42)

    /// The standard embeddings as a `<f4` `.npy` file `[rows, cols]`.
    static var embeddingsFile: [UInt8] { NpyBytes.float32(embeddings, rows: rows, cols: cols) }

    /// A JSONL item catalog with one line per id in `ids`: `{"item": id, "source_id": "S<id>", "title": "Item <id>"}`.
    static func items(_ ids: [Int]) -> [UInt8] {
        Array(ids.map { "{\"item\": \($0), \"source_id\": \"S\($0)\", \"title\": \"Item \($0)\"}\n" }.joined().utf8)
    }

    /// The standard catalog: items `0..<rows`.
    static var itemsFile: [UInt8] { items(Array(0..<rows)) }

    /// Build flags for a fast synthetic index (3 levels × 8 codes).
    static let smallBuild = ["--levels", "3", "--codebook-size", "8", "--quiet"]
}

/// Parses JSON text into Foundation objects (throws when it is not valid JSON).
func parseJSON(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}
