import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// File operations that never leave a half-written file or index behind.
public enum FileSystem {
    /// Whether something exists at `path`.
    public static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    /// Whether `path` is a directory.
    public static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// The whole content of the regular file `path` (a FIFO or device is refused, not waited on).
    public static func read(_ path: String) throws -> [UInt8] {
        try InputFile(path: path).readAll()
    }

    /// Size and lowercase hex SHA-256 of the regular file `path`, read in 4 MiB pieces.
    public static func sha256(ofFileAt path: String) throws -> (bytes: Int, sha256: String) {
        let file = try InputFile(path: path)
        var hash = SHA256()
        try file.forEachChunk { hash.update($0) }
        return (file.size, hash.finalizeHex())
    }

    /// Copies the regular file `source` to a new file `destination` (replacing any) in 4 MiB
    /// pieces; returns the size and SHA-256 of what was copied.
    @discardableResult
    public static func copyFile(_ source: String, to destination: String) throws -> (bytes: Int, sha256: String) {
        let file = try InputFile(path: source)
        let fd = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StorageError.fileSystem(path: destination, message: "cannot create: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var hash = SHA256()
        try file.forEachChunk { piece in
            hash.update(piece)
            try writeAll(piece, to: fd, path: destination)
        }
        return (file.size, hash.finalizeHex())
    }

    /// Writes `bytes` to `path` through a temporary file in the same directory, flushed to disk,
    /// then renamed over `path`: readers see either the old or the new content, and a failed write
    /// (a full disk) leaves neither a partial file nor the temporary one.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        try AtomicOutputFile.write(to: path) { emit in try bytes.withUnsafeBytes(emit) }
    }

    /// Writes `bytes` to a new file at `path` (replacing any), optionally `fsync`ing it.
    public static func write(_ bytes: [UInt8], to path: String, sync: Bool) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StorageError.fileSystem(path: path, message: "cannot create: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        try bytes.withUnsafeBytes { try writeAll($0, to: fd, path: path) }
        if sync && fsync(fd) != 0 {
            throw StorageError.fileSystem(path: path, message: "fsync failed: \(String(cString: strerror(errno)))")
        }
    }

    private static func writeAll(_ raw: UnsafeRawBufferPointer, to fd: Int32, path: String) throws {
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, Swift.min(raw.count - offset, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageError.fileSystem(path: path, message: "write failed: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// `fsync` on a file or directory, so a rename into it survives a crash.
    public static func sync(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    /// Removes `path` recursively if it exists (and releases the lock of a staging directory
    /// made by ``makeStagingDirectory(for:)``).
    public static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
        StagingLocks.shared.release(path)
    }

    /// The path a write to `path` should go to: `path` itself, or, when it is a symbolic link
    /// (possibly to another link), the file or directory it finally points to, so replacing an
    /// index through a link updates the link's target and keeps the link.
    public static func resolvedWriteTarget(_ path: String) -> String {
        var current = path
        for _ in 0..<40 {
            var info = stat()
            guard lstat(current, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(current, &buffer, buffer.count - 1)
            guard n > 0 else { return current }
            let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = target.hasPrefix("/") ? target : ((current as NSString).deletingLastPathComponent as NSString).appendingPathComponent(target)
        }
        return current
    }

    /// `path` made absolute with every symbolic link resolved (`realpath`), or `path` itself when
    /// it does not exist; two paths of one existing file give the same result.
    public static func canonicalPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    // MARK: Staging directories

    /// Creates a fresh hidden staging directory next to `destination` (same file system, so it can
    /// be renamed into place), locked by this process until it is committed or removed.
    /// Staging directories for the same destination left behind by writers that were killed are
    /// removed first.
    public static func makeStagingDirectory(for destination: String) throws -> String {
        let (base, name) = parentAndName(destination)
        guard isDirectory(base) else {
            throw StorageError.fileSystem(path: base, message: "output directory does not exist")
        }
        removeAbandonedStagingDirectories(in: base, name: name)
        let staging = "\(base)/.\(name).staging-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(staging, 0o755) == 0 else {
            throw StorageError.fileSystem(path: destination, message: "cannot create a staging directory next to it: \(String(cString: strerror(errno)))")
        }
        do {
            StagingLocks.shared.insert(staging, try DirectoryLock.acquireNew(staging))
        } catch {
            rmdir(staging)
            throw error
        }
        return staging
    }

    /// Removes the staging directories of `destination` (`.NAME.staging-PID-*` next to it) whose
    /// writer is gone: its process does not exist and nothing holds the directory's lock (the
    /// lock also protects writers in other PID namespaces). Best effort: entries that cannot be
    /// removed (no permission) are left. Readers call this too, so a killed writer's leftovers
    /// disappear at the next use of the index, not only at the next write.
    public static func removeAbandonedStagingDirectories(for destination: String) {
        let (base, name) = parentAndName(resolvedWriteTarget(destination))
        removeAbandonedStagingDirectories(in: base, name: name)
    }

    static func removeAbandonedStagingDirectories(in directory: String, name: String) {
        let prefix = ".\(name).staging-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let pidText = rest.split(separator: "-").first, let pid = Int32(pidText), pid != getpid() else { continue }
            // kill(pid, 0) fails with ESRCH when no such process exists.
            guard kill(pid, 0) != 0 && errno == ESRCH else { continue }
            let path = directory + "/" + entry
            let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            if FileLock.lock(fd, exclusive: true, wait: false) {
                try? FileManager.default.removeItem(atPath: path)
            }
            close(fd)
        }
    }

    /// `(parent directory, last component)` of `path` (`"."` for a bare name).
    private static func parentAndName(_ path: String) -> (String, String) {
        let parent = (path as NSString).deletingLastPathComponent
        return (parent.isEmpty ? "." : parent, (path as NSString).lastPathComponent)
    }

    // MARK: Committing

    /// Moves the complete directory `staging` to `destination`.
    ///
    /// - A new `destination` is created by an atomic rename that fails if something appeared at
    ///   `destination` meanwhile (Linux `renameat2` with `RENAME_NOREPLACE`).
    /// - An existing `destination` is replaced in one atomic step (`renameat2` with
    ///   `RENAME_EXCHANGE`, then the old content is deleted); where that call is unavailable the old
    ///   directory is first renamed aside, so at every instant one complete version exists on disk.
    /// - With `keyFile` (an index's `manifest.json`), the swap happens while holding an exclusive
    ///   lock on the current version's key file: it waits for readers that hold a
    ///   ``DirectoryPin`` on it, so no reader ever mixes two versions.
    public static func commitDirectory(_ staging: String, to destination: String, keyFile: String? = nil) throws {
        defer { StagingLocks.shared.release(staging) }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? [] {
            sync(staging + "/" + entry)
        }
        sync(staging)
        if !exists(destination) {
            if let rename2 = renameAt2, rename2(AT_FDCWD, staging, AT_FDCWD, destination, 1 /* RENAME_NOREPLACE */) == 0 {
                // Done.
            } else if renameAt2 != nil && errno == EEXIST {
                throw StorageError.fileSystem(path: destination, message: "was created by another process while this one was writing it; nothing was replaced")
            } else if rename(staging, destination) != 0 {
                throw StorageError.fileSystem(path: destination, message: "cannot move the new index into place: \(String(cString: strerror(errno)))")
            }
        } else {
            // Readers pin the version they read by a shared lock on its key file.
            var pin: Int32 = -1
            if let keyFile {
                pin = open(destination + "/" + keyFile, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
                if pin >= 0 { _ = FileLock.lock(pin, exclusive: true, wait: true) }
            }
            defer { if pin >= 0 { close(pin) } }
            if let rename2 = renameAt2, rename2(AT_FDCWD, staging, AT_FDCWD, destination, 2 /* RENAME_EXCHANGE */) == 0 {
                removeDirectory(staging) // now holds the old content
            } else {
                let aside = staging + ".previous"
                if rename(destination, aside) != 0 {
                    throw StorageError.fileSystem(path: destination, message: "cannot move the old index aside: \(String(cString: strerror(errno)))")
                }
                if rename(staging, destination) != 0 {
                    let message = String(cString: strerror(errno))
                    _ = rename(aside, destination)
                    throw StorageError.fileSystem(path: destination, message: "cannot move the new index into place: \(message)")
                }
                removeDirectory(aside)
            }
        }
        let parent = (destination as NSString).deletingLastPathComponent
        sync(parent.isEmpty ? "." : parent)
    }

    /// Removes a directory tree without touching the staging-lock registry.
    private static func removeDirectory(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    /// glibc's `renameat2`, looked up at run time (Swift's Glibc module does not import it).
    private static let renameAt2: RenameAt2? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()

    /// The locks of the staging directories this process is filling, by path.
    private final class StagingLocks: @unchecked Sendable {
        static let shared = StagingLocks()
        private let mutex = NSLock()
        private var locks: [String: DirectoryLock] = [:]

        func insert(_ path: String, _ lock: DirectoryLock) {
            mutex.lock(); defer { mutex.unlock() }
            locks[path] = lock
        }

        func release(_ path: String) {
            mutex.lock()
            let lock = locks.removeValue(forKey: path)
            mutex.unlock()
            lock?.release()
        }
    }
}
