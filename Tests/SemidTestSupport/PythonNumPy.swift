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
        let result = try CommandResult.run("/usr/bin/env", ["python3", "-c", script] + arguments)
        guard result.exited && result.status == 0 else {
            throw PythonFailure(status: result.status, message: result.stderr)
        }
        return result.stdout
    }

    /// `python3` exited with a non-zero status.
    public struct PythonFailure: Error, CustomStringConvertible {
        /// The exit status.
        public var status: Int32
        /// What the script wrote to stderr.
        public var message: String
        /// The status and stderr, for test failure messages.
        public var description: String { "python3 failed with status \(status): \(message)" }
    }
}
