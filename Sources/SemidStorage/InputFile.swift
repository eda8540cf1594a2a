#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened read-only with POSIX calls, closed when the value goes away.
///
/// The readers use it to load a whole file with one allocation, or to read a `.npy` header and
/// then its data straight into the destination buffer. Every failure is an ``InputError`` that
/// names the path as the caller gave it.
struct InputFile: ~Copyable {
    /// The path as the caller gave it; used in error messages.
    let path: String
    /// The open file descriptor.
    private let descriptor: Int32
    /// Size of the file in bytes when it was opened (`st_size`).
    let size: Int

    /// Opens `path` for reading.
    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw InputError(path, "cannot open for reading: \(InputFile.systemErrorMessage())")
        }
        var info = stat()
        if fstat(fd, &info) != 0 {
            let message = InputFile.systemErrorMessage()
            close(fd)
            throw InputError(path, "cannot read file information: \(message)")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw InputError(path, "is a directory, expected a file")
        }
        self.descriptor = fd
        self.size = Int(info.st_size)
    }

    deinit {
        close(descriptor)
    }

    /// Reads exactly `buffer.count` bytes starting at byte `offset` of the file.
    ///
    /// Throws if the file ends first (it may have shrunk since it was opened) or a read fails.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        guard var next = buffer.baseAddress else { return }
        var remaining = buffer.count
        var position = offset
        while remaining > 0 {
            // Linux transfers at most 0x7ffff000 bytes per call; stay below that.
            let request = Swift.min(remaining, 1 << 30)
            let got = pread(descriptor, next, request, off_t(position))
            if got < 0 {
                if errno == EINTR { continue }
                throw InputError(path, "read failed at byte \(position): \(InputFile.systemErrorMessage())")
            }
            if got == 0 {
                throw InputError(path, "file ended at byte \(position) while reading \(buffer.count) bytes from byte \(offset); was it changed while semid was reading it?")
            }
            next += got
            remaining -= got
            position += got
        }
    }

    /// Reads the whole file (all ``size`` bytes) into one array.
    func readAll() throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            try read(into: UnsafeMutableRawBufferPointer(buffer), at: 0)
            initialized = size
        }
    }

    /// The text for the current `errno`.
    static func systemErrorMessage() -> String {
        String(cString: strerror(errno))
    }
}
