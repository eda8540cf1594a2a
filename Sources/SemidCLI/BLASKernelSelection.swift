import Foundation
import Semid

/// Makes sure the `semid` process uses the OpenBLAS kernel that matches the CPU.
///
/// OpenBLAS reads `OPENBLAS_CORETYPE` only when it loads, before `main`. When it fell back to a
/// generic kernel on a CPU that has AVX2 or AVX-512, and the user has not set `OPENBLAS_CORETYPE`
/// themselves, semid re-executes itself once with the variable set. The child removes the
/// variable again (so programs it starts see the user's environment) and remembers what happened
/// for `--version`. Set `SEMID_NO_BLAS_REEXEC=1` to turn this off.
public enum BLASKernelSelection {
    static let markerVariable = "SEMID_BLAS_AUTODETECTED"

    /// What happened, for `--version` and benchmark headers.
    public nonisolated(unsafe) private(set) static var note = ""

    /// Re-executes the process with a better kernel if needed; returns normally otherwise.
    public static func reexecIfNeeded(arguments: [String] = CommandLine.arguments) {
        let env = ProcessInfo.processInfo.environment
        if let autodetected = env[markerVariable] {
            // We are the re-executed child.
            unsetenv(markerVariable)
            unsetenv("OPENBLAS_CORETYPE")
            note = "selected by semid: OpenBLAS auto-detection chose the generic \(autodetected) kernel on this CPU"
            return
        }
        if let userChoice = env["OPENBLAS_CORETYPE"] {
            note = "OPENBLAS_CORETYPE=\(userChoice) set by the user"
            return
        }
        guard BLASRuntime.isGenericFallback, let better = BLASRuntime.recommendedCoreType else {
            note = "auto-detected"
            return
        }
        if env["SEMID_NO_BLAS_REEXEC"] == "1" {
            note = "generic fallback kept because SEMID_NO_BLAS_REEXEC=1; run with OPENBLAS_CORETYPE=\(better) for a several times faster kernel"
            return
        }
        setenv("OPENBLAS_CORETYPE", better, 1)
        setenv(markerVariable, BLASRuntime.coreName, 1)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        // exec failed: carry on with the slow kernel and say so.
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(markerVariable)
        note = "generic fallback: re-executing with OPENBLAS_CORETYPE=\(better) failed; set it yourself for a faster kernel"
    }
}
