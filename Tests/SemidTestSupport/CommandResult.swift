import Foundation

/// The outcome of one child process run to completion (the `semid` binary, `python3`).
public struct CommandResult: CustomStringConvertible, Sendable {
    /// The exit status (only meaningful when ``exited`` is true).
    public var status: Int32
    /// False when the process was killed by a signal (a crash) or by a timeout.
    public var exited: Bool
    /// Everything written to stdout.
    public var stdout: String
    /// Everything written to stderr.
    public var stderr: String

    /// A result from its parts.
    public init(status: Int32, exited: Bool, stdout: String, stderr: String) {
        self.status = status
        self.exited = exited
        self.stdout = stdout
        self.stderr = stderr
    }

    /// The lines of stderr, ignoring one trailing newline.
    public var stderrLines: [String] {
        var text = stderr
        if text.hasSuffix("\n") { text.removeLast() }
        return text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// The status, then stdout and stderr, for test failure messages.
    public var description: String {
        "status \(status)\(exited ? "" : " (killed by a signal)")\n--- stdout:\n\(stdout)\n--- stderr:\n\(stderr)"
    }

    /// Runs `executable arguments…` to completion with stdin from `/dev/null` and captures its
    /// exit status, stdout and stderr.
    ///
    /// Output goes to temporary files rather than pipes, so a chatty child can never block on a
    /// full pipe. The environment is inherited unchanged (in particular `OPENBLAS_CORETYPE`: the
    /// binary may re-execute itself to pick a BLAS kernel, and tests leave that alone); `environment`
    /// adds or replaces variables for this child only.
    public static func run(_ executable: String, _ arguments: [String],
                           environment: [String: String] = [:]) throws -> CommandResult {
        let scratch = try TemporaryDirectory()
        let outPath = scratch.file("stdout"), errPath = scratch.file("stderr")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return CommandResult(
            status: process.terminationStatus,
            exited: process.terminationReason == .exit,
            stdout: String(decoding: try Data(contentsOf: URL(fileURLWithPath: outPath)), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: errPath)), as: UTF8.self))
    }
}
