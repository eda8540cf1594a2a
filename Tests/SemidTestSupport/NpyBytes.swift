/// Builds `.npy` files byte by byte, malformed ones included, and the little-endian payloads
/// they carry.
public enum NpyBytes {
    /// A complete file: the preamble for `version` (1: 2-byte header length, 2 and 3: 4-byte),
    /// the header dict `dictionary` padded as NumPy pads it (data at a multiple of 64 bytes,
    /// newline last), then `payload` as is.
    public static func file(version: UInt8 = 1, dictionary: String, payload: [UInt8]) -> [UInt8] {
        let dictionaryBytes = Array(dictionary.utf8)
        let lengthFieldSize = version == 1 ? 2 : 4
        let unpadded = 8 + lengthFieldSize + dictionaryBytes.count + 1
        let total = (unpadded + 63) / 64 * 64
        let headerLength = total - 8 - lengthFieldSize
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        for i in 0..<lengthFieldSize { bytes.append(UInt8(truncatingIfNeeded: headerLength >> (8 * i))) }
        bytes += dictionaryBytes
        bytes += [UInt8](repeating: 0x20, count: total - bytes.count - 1)
        bytes.append(0x0A)
        return bytes + payload
    }

    /// A complete file with the well-formed header
    /// `{'descr': descr, 'fortran_order': …, 'shape': shape, }`, then `payload` as is.
    public static func file(version: UInt8 = 1, descr: String = "<f4", fortranOrder: Bool = false, shape: [Int],
                            payload: [UInt8]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        let dictionary = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
        return file(version: version, dictionary: dictionary, payload: payload)
    }

    /// A `<f4` file `[rows, cols]` holding `values` (row-major, `rows · cols` of them).
    public static func float32(_ values: [Float], rows: Int, cols: Int) -> [UInt8] {
        file(shape: [rows, cols], payload: bytes(float32: values))
    }

    /// Little-endian bytes of `values` (4 each).
    public static func bytes(float32 values: [Float]) -> [UInt8] {
        values.flatMap { littleEndian($0.bitPattern) }
    }

    /// Little-endian bytes of `values` (8 each).
    public static func bytes(float64 values: [Double]) -> [UInt8] {
        values.flatMap { littleEndian($0.bitPattern) }
    }

    /// Little-endian bytes of IEEE half-precision bit patterns (2 each).
    public static func bytes(float16Bits values: [UInt16]) -> [UInt8] {
        values.flatMap { littleEndian($0) }
    }

    /// Little-endian bytes of `values` (4 each).
    public static func bytes(int32 values: [Int32]) -> [UInt8] {
        values.flatMap { littleEndian(UInt32(bitPattern: $0)) }
    }

    /// Little-endian bytes of `values` (8 each).
    public static func bytes(int64 values: [Int64]) -> [UInt8] {
        values.flatMap { littleEndian(UInt64(bitPattern: $0)) }
    }

    /// The `T.bitWidth / 8` little-endian bytes of `value`.
    public static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
