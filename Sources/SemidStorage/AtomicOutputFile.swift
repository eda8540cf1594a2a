#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces a file atomically: the bytes go to a new temporary file in the same directory,
/// which is flushed to disk and then renamed over the destination.
///
/// Readers of the destination see either the old file or the complete new one, never a partial
/// write. If anything fails the temporary file is removed and the destination is left alone.
enum AtomicOutputFile {
    /// Writes the byte ranges that `produce` hands to its `emit` callback, in order, to `path`.
    ///
    /// - Parameters:
    ///   - path: The destination, as the user gave it; used in error messages.
    ///   - produce: Calls `emit` once per contiguous piece of the file's content.
    static func write(
        to path: String,
        _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        let (directory, name) = splitPath(path)
        var temporaryPath = ""
        var fd: Int32 = -1
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            temporaryPath = directory + "." + name + ".tmp-" + suffix
            fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        if fd < 0 {
            throw InputError(path, "cannot create a temporary file next to it: \(InputFile.systemErrorMessage())")
        }
        var committed = false
        defer {
            if !committed { unlink(temporaryPath) }
        }
        do {
            try produce { bytes in try writeAll(bytes, to: fd, path: path) }
            if fsync(fd) != 0 {
                throw InputError(path, "cannot flush to disk: \(InputFile.systemErrorMessage())")
            }
        } catch {
            close(fd)
            throw error
        }
        if close(fd) != 0 {
            throw InputError(path, "cannot close after writing: \(InputFile.systemErrorMessage())")
        }
        if rename(temporaryPath, path) != 0 {
            throw InputError(path, "cannot rename the temporary file into place: \(InputFile.systemErrorMessage())")
        }
        committed = true
        // Make the rename itself durable; failure here does not undo the write, so it is ignored.
        let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Writes every byte of `bytes` to `fd`, retrying short writes.
    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32, path: String) throws {
        guard var next = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = posixWrite(fd, next, Swift.min(remaining, 1 << 30))
            if written < 0 {
                if errno == EINTR { continue }
                throw InputError(path, "cannot write: \(InputFile.systemErrorMessage())")
            }
            next += written
            remaining -= written
        }
    }

    /// `("dir/", "name")` for `"dir/name"`, `("", "name")` for `"name"`.
    private static func splitPath(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[...slash]), String(path[path.index(after: slash)...]))
    }
}

/// POSIX `write(2)`; named so it does not collide with `AtomicOutputFile.write`.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
