import Foundation
import CBLAS

/// What the linked OpenBLAS is doing: which CPU kernel it chose and how many threads it uses.
///
/// Debian 12's OpenBLAS 0.3.21 does not recognise some recent Xeon models and falls back to its
/// generic *Prescott* kernel, several times slower than the AVX-512 (*SkylakeX*) or AVX2
/// (*Haswell*) kernels. The kernel can only be chosen through `OPENBLAS_CORETYPE` **before** the
/// library loads, so the `semid` executable re-executes itself once with that variable set (see
/// ``recommendedCoreType``), and never when the user already set it.
public enum BLASRuntime {
    /// The name of the kernel OpenBLAS selected, e.g. `"SkylakeX"`, `"Haswell"`, `"Prescott"`.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The number of threads OpenBLAS uses for one call.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Sets the number of threads OpenBLAS uses for one call (1 when semid parallelises outside BLAS).
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// Generic kernels OpenBLAS falls back to when it does not recognise the CPU.
    public static let genericCoreNames: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine", "Northwood", "Banias"]

    /// Whether the selected kernel is a generic fallback.
    public static var isGenericFallback: Bool { genericCoreNames.contains(coreName) }

    /// The `OPENBLAS_CORETYPE` value that matches this CPU's vector units, or `nil` when none is
    /// known to be better than what was chosen: `"SkylakeX"` with AVX-512F, `"Haswell"` with AVX2+FMA.
    public static var recommendedCoreType: String? {
        let flags = CPUFeatures.current
        if flags.contains("avx512f") && flags.contains("avx512vl") && flags.contains("avx512bw") && flags.contains("avx512dq") {
            return "SkylakeX"
        }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    /// The library version, e.g. `"OpenBLAS 0.3.21"` (the first two words of its configuration string).
    public static var version: String {
        String(cString: openblas_get_config()).split(separator: " ").prefix(2).joined(separator: " ")
    }

    /// One line describing the BLAS in use, for `--version` and benchmark headers.
    public static var summary: String {
        "\(version), core \(coreName), \(threadCount) thread\(threadCount == 1 ? "" : "s")"
    }
}

/// CPU feature flags as the Linux kernel reports them in `/proc/cpuinfo`.
public enum CPUFeatures {
    /// The flag names of the first processor (e.g. `"avx2"`, `"avx512f"`); empty if unreadable.
    public static let current: Set<String> = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }()
}

extension BLASRuntime {
    /// The thread count OpenBLAS chose when it loaded (before semid changed it).
    public static let defaultThreadCount: Int = Int(openblas_get_num_threads())

    /// Runs `body` with OpenBLAS limited to `count` threads, then restores the previous count.
    /// Use `1` around loops that already run BLAS calls on several threads.
    public static func withThreadCount<R>(_ count: Int, _ body: () throws -> R) rethrows -> R {
        let previous = threadCount
        if previous != count { setThreadCount(count) }
        defer { if previous != count { setThreadCount(previous) } }
        return try body()
    }
}
