import Foundation

/// `python3` with NumPy, when this machine has it: the reference implementation some tests
/// compare against (`.npy` round trips, `numpy.linalg`).
public enum PythonNumPy {
    /// True when `python3 -c "import numpy"` succeeds.
    public static let isAvailable: Bool = (try? run("import numpy")) != nil

    /// Runs `script` with `python3 -c`, passing `arguments` as `sys.argv[1...]`; returns stdout and
    /// throws ``PythonFailure`` (with stderr) when the exit status is not 0.
    @discardableResult
    public static func run(_ script: String, arguments: [String] = []) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        // Both streams go to files, not pipes, so neither can fill up and block the other.
        let scratch = try TemporaryDirectory()
        let outPath = scratch.file("stdout"), errPath = scratch.file("stderr")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        let output = String(decoding: try Data(contentsOf: URL(fileURLWithPath: outPath)), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            let message = String(decoding: try Data(contentsOf: URL(fileURLWithPath: errPath)), as: UTF8.self)
            throw PythonFailure(status: process.terminationStatus, message: message)
        }
        return output
    }

    /// `python3` exited with a non-zero status.
    public struct PythonFailure: Error, CustomStringConvertible {
        /// The exit status.
        public var status: Int32
        /// What the script wrote to stderr.
        public var message: String
        public var description: String { "python3 failed with status \(status): \(message)" }
    }
}
