#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One version of a directory that is replaced as a whole (an index), held still for reading.
///
/// Every version has its own key file (an index's `manifest.json`, written last). A reader holds
/// a shared `flock` on the key file of the version at `path` while it reads; a writer swaps in a
/// new version only while holding an exclusive `flock` on the current key file (see
/// ``FileSystem/commitDirectory(_:to:keyFile:)``). So while a pin is held, `path` names the pinned
/// version, and every file read through `path` belongs to it: a reader never mixes two versions,
/// and never sees a file of one version deleted under it.
///
/// Readers wait only for the swap itself (a rename); writers wait for readers that are in the
/// middle of reading, never for readers that have finished.
public struct DirectoryPin: ~Copyable {
    /// The key file's descriptor (holding the shared lock).
    private let descriptor: Int32
    /// The key file's content, read from the pinned version.
    public let keyFileContent: [UInt8]

    /// Pins the current version of the directory at `path`, whose key file is `keyFile` (a name
    /// inside it), and reads the key file.
    ///
    /// - Throws: ``InputError`` when the key file does not exist or cannot be read (`path` is not
    ///   such a directory); ``ConcurrentAccessError/unstable(path:)`` if the directory is replaced
    ///   100 times in a row while pinning.
    public init(_ path: String, keyFile: String) throws {
        let file = path + "/" + keyFile
        for _ in 0..<100 {
            let fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else {
                throw InputError(file, errno == ENOENT ? "file not found" : "cannot open for reading: \(String(cString: strerror(errno)))")
            }
            _ = FileLock.lock(fd, exclusive: false, wait: true)
            // The version is still current if `path` still leads to this very key file.
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_nlink > 0, FileIdentity(path: file) == FileIdentity(info) else {
                close(fd)
                continue
            }
            guard (info.st_mode & S_IFMT) == S_IFREG else {
                close(fd)
                throw InputError(file, "is not a regular file")
            }
            do {
                keyFileContent = try InputFile.readAll(descriptor: fd, size: Int(info.st_size), path: file)
            } catch {
                close(fd)
                throw error
            }
            descriptor = fd
            return
        }
        throw ConcurrentAccessError.unstable(path: path)
    }

    /// Releases the pin: writers may swap in a new version.
    deinit { close(descriptor) }

    /// Runs `body` with the key file's content while the current version of `path` is pinned
    /// (see ``init(_:keyFile:)``); the pin is released when `body` returns or throws.
    public static func withPinned<R>(_ path: String, keyFile: String, _ body: ([UInt8]) throws -> R) throws -> R {
        let pin = try DirectoryPin(path, keyFile: keyFile)
        defer { pin.keepAlive() }
        return try body(pin.keyFileContent)
    }

    /// A use of the pin at the end of its scope, so it is not released early.
    private func keepAlive() {}
}
