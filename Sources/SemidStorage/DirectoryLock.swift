import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The writer lock of a directory: an exclusive `flock` on the directory itself, so one process
/// (and one thread) at a time writes an index.
///
/// - A writer takes the lock **before** it reads the index and keeps it until the new version
///   is in place, so it always works on the latest version and no write is lost.
/// - After locking, the directory is checked to still be the one at `path`: a writer that waited
///   while another one replaced the directory locks the replacement instead.
/// - Re-entrant on one thread: a thread that holds the lock of a directory gets it again at once.
///   Other threads and processes wait (or fail, per ``Waiting``).
/// - The kernel releases the lock when the holder exits or is killed, so a crashed writer never
///   leaves an index locked. Nothing is written to disk; locks are advisory (they bind semid
///   processes, not other programs).
public final class DirectoryLock: @unchecked Sendable {
    /// What to do when another writer holds the lock.
    public struct Waiting: Sendable {
        /// Wait for it (`true`) or fail with ``ConcurrentAccessError/locked(path:holder:)``.
        public var waits: Bool
        /// Called once, before waiting, with a one-line message naming the holder.
        public var notice: (@Sendable (String) -> Void)?

        /// Creates a policy.
        public init(waits: Bool, notice: (@Sendable (String) -> Void)? = nil) {
            self.waits = waits
            self.notice = notice
        }

        /// Wait silently.
        public static let wait = Waiting(waits: true)
        /// Fail at once.
        public static let fail = Waiting(waits: false)
    }

    /// The path the lock was taken for.
    public let path: String
    /// The locked directory.
    public let identity: FileIdentity
    private let key: Registry.Key
    private var released = false

    private init(path: String, key: Registry.Key) {
        self.path = path
        self.identity = key.identity
        self.key = key
    }

    deinit { release() }

    /// Locks the directory at `path` (which must exist).
    ///
    /// - Throws: ``ConcurrentAccessError/locked(path:holder:)`` when another writer holds it and
    ///   `waiting.waits` is false; ``ConcurrentAccessError/unstable(path:)`` if the directory is
    ///   replaced 100 times in a row while locking; ``StorageError/fileSystem(path:message:)`` when
    ///   it cannot be opened.
    public static func acquire(_ path: String, waiting: Waiting) throws -> DirectoryLock {
        var noticed = false
        for _ in 0..<100 {
            let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else {
                throw StorageError.fileSystem(path: path, message: "cannot open the directory to lock it: \(String(cString: strerror(errno)))")
            }
            guard let identity = FileIdentity(descriptor: fd) else {
                close(fd)
                throw StorageError.fileSystem(path: path, message: "cannot read file information: \(String(cString: strerror(errno)))")
            }
            let key = Registry.Key(identity: identity, thread: ObjectIdentifier(Thread.current))
            if Registry.shared.retain(key) {
                close(fd)
                return DirectoryLock(path: path, key: key)
            }
            if !FileLock.lock(fd, exclusive: true, wait: false) {
                guard waiting.waits else {
                    let holder = FileLock.holderDescription(of: identity)
                    close(fd)
                    throw ConcurrentAccessError.locked(path: path, holder: holder)
                }
                if !noticed, let notice = waiting.notice {
                    let holder = FileLock.holderDescription(of: identity).map { " (\($0))" } ?? ""
                    notice("waiting for another semid process to finish writing \(path)\(holder)")
                    noticed = true
                }
                _ = FileLock.lock(fd, exclusive: true, wait: true)
            }
            // The directory may have been replaced while this process waited.
            guard FileIdentity(path: path) == identity else {
                close(fd)
                continue
            }
            Registry.shared.insert(key, descriptor: fd)
            return DirectoryLock(path: path, key: key)
        }
        throw ConcurrentAccessError.unstable(path: path)
    }

    /// Runs `body` holding the lock of the directory at `path`.
    public static func withLock<R>(_ path: String, waiting: Waiting, _ body: () throws -> R) throws -> R {
        let lock = try acquire(path, waiting: waiting)
        defer { lock.release() }
        return try body()
    }

    /// Locks a directory this process has just created (a staging directory): fails rather than
    /// waits if anything else holds it.
    static func acquireNew(_ path: String) throws -> DirectoryLock {
        try acquire(path, waiting: .fail)
    }

    /// Whether the calling thread holds the lock of the directory `identity`.
    public static func isHeld(_ identity: FileIdentity) -> Bool {
        Registry.shared.contains(Registry.Key(identity: identity, thread: ObjectIdentifier(Thread.current)))
    }

    /// Releases the lock (once; later calls do nothing).
    public func release() {
        guard !released else { return }
        released = true
        Registry.shared.releaseOne(key)
    }

    /// The locks this process holds: one descriptor per directory and thread, with a count of
    /// the ``DirectoryLock`` values that share it.
    private final class Registry: @unchecked Sendable {
        struct Key: Hashable {
            var identity: FileIdentity
            var thread: ObjectIdentifier
        }
        static let shared = Registry()
        private let mutex = NSLock()
        private var held: [Key: (descriptor: Int32, count: Int)] = [:]

        /// Counts one more holder of `key` if this thread holds it already.
        func retain(_ key: Key) -> Bool {
            mutex.lock(); defer { mutex.unlock() }
            guard let entry = held[key] else { return false }
            held[key] = (entry.descriptor, entry.count + 1)
            return true
        }

        func insert(_ key: Key, descriptor: Int32) {
            mutex.lock(); defer { mutex.unlock() }
            held[key] = (descriptor, 1)
        }

        func contains(_ key: Key) -> Bool {
            mutex.lock(); defer { mutex.unlock() }
            return held[key] != nil
        }

        /// Drops one holder; the last one closes the descriptor, which releases the lock.
        func releaseOne(_ key: Key) {
            mutex.lock(); defer { mutex.unlock() }
            guard let entry = held[key] else { return }
            if entry.count > 1 {
                held[key] = (entry.descriptor, entry.count - 1)
            } else {
                held[key] = nil
                close(entry.descriptor)
            }
        }
    }
}
