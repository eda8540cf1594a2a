import Dispatch
import Foundation

/// Data-parallel loops over both cores (or however many the machine has).
///
/// Work is split into contiguous chunks so that each worker writes a disjoint range; the result
/// never depends on the number of workers, which keeps outputs deterministic.
public enum Parallel {
    /// The number of workers used by ``forEachChunk(count:minimumChunk:_:)``: the value of the
    /// environment variable `SEMID_NUM_THREADS` when it is a positive integer, otherwise the
    /// number of active processors. No result of semid depends on it (tests run with 1, 2 and 4).
    public static let workerCount: Int = {
        if let text = ProcessInfo.processInfo.environment["SEMID_NUM_THREADS"], let value = Int(text), value > 0 {
            return min(value, 1024)
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Calls `body(range)` on disjoint ranges covering `0..<count`, concurrently when `count` is at
    /// least `2 * minimumChunk`. Each call must only write state owned by its range.
    public static func forEachChunk(count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let workers = min(workerCount, max(1, count / max(1, minimumChunk)))
        if workers <= 1 {
            body(0..<count)
            return
        }
        let chunks = workers * 4 <= count ? workers * 4 : workers
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let lo = count * chunk / chunks
                let hi = count * (chunk + 1) / chunks
                if lo < hi { box.value(lo..<hi) }
            }
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count` across the workers.
    public static func forEach(count: Int, _ body: (Int) -> Void) {
        forEachChunk(count: count) { range in for i in range { body(i) } }
    }
}

/// An unchecked wrapper that lets a closure running on several threads write to one buffer when
/// each thread writes a disjoint range. Used only with ``Parallel``.
public struct SharedMutablePointer<T>: @unchecked Sendable {
    /// The wrapped pointer.
    public let pointer: UnsafeMutablePointer<T>
    /// Wraps `pointer`.
    public init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// Carries a non-`Sendable` value into a concurrent loop whose iterations touch disjoint state.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
