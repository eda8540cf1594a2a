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

    /// The whole content of `path`.
    public static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            if !exists(path) { throw InputError(path, "file not found") }
            throw InputError(path, "cannot be read")
        }
        return [UInt8](data)
    }

    /// Writes `bytes` to `path` through a temporary file in the same directory, flushed to disk,
    /// then renamed over `path`: readers see either the old or the new content.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try write(bytes, to: temporary, sync: true)
        if rename(temporary, path) != 0 {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw StorageError.fileSystem(path: path, message: "cannot rename into place: \(message)")
        }
    }

    /// Writes `bytes` to a new file at `path` (replacing any), optionally `fsync`ing it.
    public static func write(_ bytes: [UInt8], to path: String, sync: Bool) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StorageError.fileSystem(path: path, message: "cannot create: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var offset = 0
        try bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StorageError.fileSystem(path: path, message: "write failed: \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
        if sync && fsync(fd) != 0 {
            throw StorageError.fileSystem(path: path, message: "fsync failed: \(String(cString: strerror(errno)))")
        }
    }

    /// `fsync` on a file or directory, so a rename into it survives a crash.
    public static func sync(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    /// Removes `path` recursively if it exists.
    public static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Creates a fresh hidden staging directory next to `destination` (same file system, so it can
    /// be renamed into place). Staging directories for the same destination left behind by
    /// processes that no longer run (a killed build) are removed first.
    public static func makeStagingDirectory(for destination: String) throws -> String {
        let parent = (destination as NSString).deletingLastPathComponent
        let name = (destination as NSString).lastPathComponent
        let base = parent.isEmpty ? "." : parent
        guard isDirectory(base) else {
            throw StorageError.fileSystem(path: base, message: "output directory does not exist")
        }
        removeAbandonedStagingDirectories(in: base, name: name)
        let staging = "\(base)/.\(name).staging-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
        } catch {
            throw StorageError.fileSystem(path: staging, message: "cannot create staging directory: \(error.localizedDescription)")
        }
        return staging
    }

    /// Removes `.NAME.staging-PID-*` directories in `directory` whose process `PID` is gone.
    static func removeAbandonedStagingDirectories(in directory: String, name: String) {
        let prefix = ".\(name).staging-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let pidText = rest.split(separator: "-").first, let pid = Int32(pidText), pid != getpid() else { continue }
            // kill(pid, 0) fails with ESRCH when no such process exists.
            if kill(pid, 0) != 0 && errno == ESRCH { remove(directory + "/" + entry) }
        }
    }

    /// Moves the complete directory `staging` to `destination`.
    ///
    /// If `destination` exists it is replaced in one atomic step (Linux `renameat2` with
    /// `RENAME_EXCHANGE`, then the old content is deleted); where that call is unavailable the old
    /// directory is first renamed aside, so at every instant one complete index exists on disk.
    public static func commitDirectory(_ staging: String, to destination: String) throws {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? [] {
            sync(staging + "/" + entry)
        }
        sync(staging)
        if !exists(destination) {
            if rename(staging, destination) != 0 {
                throw StorageError.fileSystem(path: destination, message: "cannot move the new index into place: \(String(cString: strerror(errno)))")
            }
        } else if let exchange = renameExchange, exchange(AT_FDCWD, staging, AT_FDCWD, destination, 2 /* RENAME_EXCHANGE */) == 0 {
            remove(staging) // now holds the old content
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
            remove(aside)
        }
        let parent = (destination as NSString).deletingLastPathComponent
        sync(parent.isEmpty ? "." : parent)
    }

    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    /// glibc's `renameat2`, looked up at run time (Swift's Glibc module does not import it).
    private static let renameExchange: RenameAt2? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()
}
