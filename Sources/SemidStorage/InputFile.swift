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

    /// Opens `path` for reading; it must be a regular file.
    ///
    /// The file is opened without blocking, so a FIFO (named pipe) or a device in place of an
    /// input is refused at once instead of hanging: inputs are read more than once (parsed, then
    /// fingerprinted), which a pipe cannot do.
    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            if errno == ENOENT { throw InputError(path, "file not found") }
            throw InputError(path, "cannot open for reading: \(InputFile.systemErrorMessage())")
        }
        var info = stat()
        if fstat(fd, &info) != 0 {
            let message = InputFile.systemErrorMessage()
            close(fd)
            throw InputError(path, "cannot read file information: \(message)")
        }
        if let kind = InputFile.irregularKind(info.st_mode) {
            close(fd)
            throw InputError(path, "is \(kind), not a regular file; semid reads inputs more than once, so write it to a file first")
        }
        // Regular files ignore O_NONBLOCK, but clear it anyway so reads behave as documented.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        self.descriptor = fd
        self.size = Int(info.st_size)
    }

    /// What a file of mode `mode` is when it is not a regular file (`"a directory"`, `"a FIFO
    /// (named pipe)"`, …), or `nil` for a regular file.
    static func irregularKind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return "not a regular file"
        }
    }

    /// Reads the first `size` bytes of the open file `fd` into one array; `path` names it in errors.
    static func readAll(descriptor fd: Int32, size: Int, path: String) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            try read(descriptor: fd, into: UnsafeMutableRawBufferPointer(buffer), at: 0, path: path)
            initialized = size
        }
    }

    deinit {
        close(descriptor)
    }

    /// Reads exactly `buffer.count` bytes starting at byte `offset` of the file.
    ///
    /// Throws if the file ends first (it may have shrunk since it was opened) or a read fails.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        try InputFile.read(descriptor: descriptor, into: buffer, at: offset, path: path)
    }

    /// Reads exactly `buffer.count` bytes from byte `offset` of the open file `fd`.
    static func read(descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int, path: String) throws {
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

    /// Hands the file's content (its first ``size`` bytes) to `body` in order, in pieces of at most
    /// `chunkSize` bytes, reusing one buffer.
    func forEachChunk(of chunkSize: Int = 4 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(1, Swift.min(chunkSize, size)), alignment: 16)
        defer { buffer.deallocate() }
        var offset = 0
        while offset < size {
            let n = Swift.min(buffer.count, size - offset)
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
            try read(into: piece, at: offset)
            try body(UnsafeRawBufferPointer(piece))
            offset += n
        }
    }

    /// The text for the current `errno`.
    static func systemErrorMessage() -> String {
        String(cString: strerror(errno))
    }
}
