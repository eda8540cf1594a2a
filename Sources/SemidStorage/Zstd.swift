import CZstd

/// Compression and decompression of single standard zstd frames (readable by the `zstd` tool).
public enum Zstd {
    /// The default compression level for shards: fast, and small enough for codes and weights.
    public static let defaultLevel: Int32 = 3

    /// One zstd frame holding `bytes`, with the content size and a content checksum in the frame header.
    public static func compress(_ bytes: [UInt8], level: Int32 = defaultLevel) throws -> [UInt8] {
        guard let context = ZSTD_createCCtx() else { throw StorageError.compression("cannot allocate a zstd context") }
        defer { ZSTD_freeCCtx(context) }
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1)
        let bound = ZSTD_compressBound(bytes.count)
        var out = [UInt8](repeating: 0, count: bound)
        let written = out.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in
                ZSTD_compress2(context, dst.baseAddress, bound, src.baseAddress, bytes.count)
            }
        }
        if ZSTD_isError(written) != 0 {
            throw StorageError.compression(String(cString: ZSTD_getErrorName(written)))
        }
        out.removeSubrange(written...)
        return out
    }

    /// The content of a buffer that must be exactly one zstd frame; `source` names it in errors.
    ///
    /// The frame must declare its content size, and that size must be `expectedSize` when given
    /// (what the caller knows the content must be) and at most `maximumSize`; both are checked
    /// before the output is allocated. The frame's own content checksum is verified by zstd.
    public static func decompress(_ frame: [UInt8], source: String, expectedSize: Int? = nil,
                                  maximumSize: Int = 1 << 34) throws -> [UInt8] {
        let size = frame.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, frame.count) }
        if size == ZSTD_CONTENTSIZE_ERROR {
            throw InputError(source, "not a zstd frame (bad magic number or header)")
        }
        if size == ZSTD_CONTENTSIZE_UNKNOWN {
            throw InputError(source, "zstd frame does not declare its content size")
        }
        if let expectedSize, size != UInt64(expectedSize) {
            throw InputError(source, "zstd frame declares \(size) bytes of content, the manifest's shape needs \(expectedSize)")
        }
        if size > UInt64(maximumSize) {
            throw InputError(source, "zstd frame declares \(size) bytes of content, more than the \(maximumSize) allowed")
        }
        // No zstd block regenerates more than 128 KiB from fewer than 4 bytes (an RLE block), so a
        // frame cannot hold more than 32768 times its size: a larger declared size is a lie, refused
        // before the output is allocated.
        if size / 32_768 > UInt64(frame.count) {
            throw InputError(source, "zstd frame of \(frame.count) bytes declares \(size) bytes of content, more than any frame of that size can hold")
        }
        let frameSize = frame.withUnsafeBytes { ZSTD_findFrameCompressedSize($0.baseAddress, frame.count) }
        if ZSTD_isError(frameSize) != 0 {
            throw InputError(source, "truncated or corrupted zstd frame (\(String(cString: ZSTD_getErrorName(frameSize))))")
        }
        if frameSize != frame.count {
            throw InputError(source, "\(frame.count - frameSize) unexpected bytes after the zstd frame")
        }
        var out = [UInt8](repeating: 0, count: Int(size))
        let got = out.withUnsafeMutableBytes { dst in
            frame.withUnsafeBytes { src in ZSTD_decompress(dst.baseAddress, Int(size), src.baseAddress, frame.count) }
        }
        if ZSTD_isError(got) != 0 {
            throw InputError(source, "corrupted zstd frame (\(String(cString: ZSTD_getErrorName(got))))")
        }
        if got != Int(size) {
            throw InputError(source, "zstd frame decoded to \(got) bytes, expected \(size)")
        }
        return out
    }

    /// The version of the linked libzstd, e.g. `"1.5.4"`.
    public static var libraryVersion: String { String(cString: ZSTD_versionString()) }
}
