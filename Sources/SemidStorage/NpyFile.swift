import SemidMath

/// Reads and writes NumPy `.npy` files holding 2-D arrays.
///
/// Reading accepts format versions 1.0, 2.0 and 3.0, C-order (row-major) data only, and
/// exactly two dimensions `[rows, cols]`. Every problem with a file's content is reported as an
/// ``InputError`` that names the file; nothing in a file can crash the program.
///
/// A file is read with one allocation for the result: `<f4` data is read straight into the
/// matrix's storage, other dtypes are converted in fixed-size chunks (``NpyRowSource`` does the
/// reading, for a whole file here and by rows or chunks for the streaming build).
public enum NpyFile {
    /// The float dtypes ``readMatrix(at:)`` accepts, for error messages.
    static let acceptedFloatTypes = "'<f4' (float32), '<f2' (float16), '<f8' (float64)"
    /// The integer dtypes ``readInt32Matrix(at:)`` accepts, for error messages.
    static let acceptedIntegerTypes = "'<i4' (int32), '<i8' (int64)"

    // MARK: Reading

    /// Reads a 2-D float array as a `[rows, cols]` row-major ``Matrix``.
    ///
    /// Accepted dtypes are little-endian `<f4`, `<f2` and `<f8` (the byte-order characters `|`
    /// and `=` are read as little-endian too); half and double values are converted to `Float`.
    ///
    /// - Parameter path: The `.npy` file; error messages repeat it as given.
    /// - Returns: A matrix with at least one row and one column whose values are all finite.
    /// - Throws: ``InputError`` for an empty or truncated file, bad magic, an unparseable header,
    ///   `fortran_order: True`, a dtype other than the accepted ones (big-endian included), a
    ///   rank other than 2, zero rows or columns, data shorter or longer than the shape, and for the
    ///   first NaN or infinite value (naming its 0-based row and column). A finite `<f8` value too
    ///   large for `Float` is reported the same way.
    public static func readMatrix(at path: String) throws -> Matrix {
        let source = try NpyRowSource(paths: [path])
        return try source.rows(0..<source.rows)
    }

    /// Reads a 2-D integer array (`<i4` or `<i8`) as row-major `Int32` values.
    ///
    /// Used for semantic-ID codes and for round-trip checks of ``write(int32:rows:cols:to:)``.
    /// Zero rows are allowed here (an empty code table is a valid export).
    ///
    /// - Parameter path: The `.npy` file; error messages repeat it as given.
    /// - Returns: `rows`, `cols` and the `rows * cols` values, row after row.
    /// - Throws: ``InputError`` for the same header and length problems as ``readMatrix(at:)``, a
    ///   dtype other than `<i4`/`<i8`, and for the first `<i8` value outside the `Int32` range.
    public static func readInt32Matrix(at path: String) throws -> (rows: Int, cols: Int, values: [Int32]) {
        let file = try InputFile(path: path)
        let header = try NpyHeader.read(from: file)
        let dataType = header.dataType
        guard dataType.kind == "i", let itemSize = dataType.itemSize, itemSize == 4 || itemSize == 8 else {
            throw InputError(path, "dtype \(dataType.summary) is not supported for an integer matrix; accepted dtypes: \(acceptedIntegerTypes)")
        }
        guard dataType.isLittleEndian else {
            throw InputError(path, "dtype \(dataType.summary) is not supported, only little-endian data can be read; accepted dtypes: \(acceptedIntegerTypes)")
        }
        let (rows, cols) = try matrixShape(of: header, path: path)
        try checkDataLength(of: header, itemSize: itemSize, fileSize: file.size, path: path)

        let count = rows * cols
        let values = try [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            if itemSize == 4 {
                try file.read(into: UnsafeMutableRawBufferPointer(buffer), at: header.dataOffset)
                #if _endian(big)
                for i in 0..<count { buffer[i] = Int32(littleEndian: buffer[i]) }
                #endif
            } else {
                try readConverting(file, at: header.dataOffset, itemSize: 8, into: buffer) { raw, out, first in
                    for i in 0..<out.count {
                        let value = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                        guard let narrowed = Int32(exactly: value) else {
                            let index = first + i
                            throw InputError(path, field: "row \(index / Swift.max(cols, 1))", "value at column \(index % Swift.max(cols, 1)) is \(value), outside the Int32 range")
                        }
                        out[i] = narrowed
                    }
                }
            }
            initialized = count
        }
        return (rows, cols, values)
    }

    // MARK: Writing

    /// Writes `matrix` as a little-endian float32 (`<f4`) `.npy` file, format version 1.0, shape
    /// `[matrix.rows, matrix.cols]`.
    ///
    /// The header is padded so the data starts at a multiple of 64 bytes and ends in a newline,
    /// as NumPy writes it. The file is replaced atomically (temporary file + rename).
    public static func write(_ matrix: Matrix, to path: String) throws {
        let header = NpyHeader.encode(descr: "<f4", shape: [matrix.rows, matrix.cols])
        try AtomicOutputFile.write(to: path) { emit in
            try header.withUnsafeBytes(emit)
            #if _endian(big)
            let littleEndian = matrix.values.map { $0.bitPattern.littleEndian }
            try littleEndian.withUnsafeBytes(emit)
            #else
            try matrix.values.withUnsafeBytes(emit)
            #endif
        }
    }

    /// Writes `values` as a little-endian int32 (`<i4`) `.npy` file of shape `[rows, cols]`,
    /// format version 1.0, replacing the file atomically.
    ///
    /// - Precondition: `rows >= 0`, `cols >= 0` and `values.count == rows * cols` (a programming
    ///   error otherwise, not an input problem).
    public static func write(int32 values: [Int32], rows: Int, cols: Int, to path: String) throws {
        try write(int32: values, shape: [rows, cols], to: path)
    }

    /// Writes `values` as a little-endian int32 (`<i4`) `.npy` file of any `shape` (e.g. `[n]`),
    /// format version 1.0, replacing the file atomically.
    ///
    /// - Precondition: every dimension is `>= 0` and `values.count` is their product.
    public static func write(int32 values: [Int32], shape: [Int], to path: String) throws {
        precondition(shape.allSatisfy { $0 >= 0 } && values.count == shape.reduce(1, *),
                     "NpyFile.write: \(values.count) values do not match shape \(shape)")
        let header = NpyHeader.encode(descr: "<i4", shape: shape)
        try AtomicOutputFile.write(to: path) { emit in
            try header.withUnsafeBytes(emit)
            #if _endian(big)
            let littleEndian = values.map { $0.littleEndian }
            try littleEndian.withUnsafeBytes(emit)
            #else
            try values.withUnsafeBytes(emit)
            #endif
        }
    }

    // MARK: Helpers

    /// `(rows, cols)` after checking C order and rank 2.
    static func matrixShape(of header: NpyHeader, path: String) throws -> (rows: Int, cols: Int) {
        if header.fortranOrder {
            throw InputError(path, "fortran_order is True (column-major data); only C-order arrays are supported (save numpy.ascontiguousarray(array) instead)")
        }
        guard header.shape.count == 2 else {
            throw InputError(path, "expected a 2-D array [rows, cols], found shape \(header.shapeDescription) (\(header.shape.count)-D)")
        }
        return (header.shape[0], header.shape[1])
    }

    /// Checks that exactly `product(shape) × itemSize` bytes follow the header.
    static func checkDataLength(of header: NpyHeader, itemSize: Int, fileSize: Int, path: String) throws {
        guard let expected = header.dataByteCount(itemSize: itemSize) else {
            throw InputError(path, "shape \(header.shapeDescription) is too large to address")
        }
        let available = fileSize - header.dataOffset
        let claim = "header says \(header.shapeDescription) = \(expected) bytes of data, file has \(available)"
        if available < expected {
            throw InputError(path, "data is truncated: \(claim)")
        }
        if available > expected {
            throw InputError(path, "\(available - expected) extra bytes after the array data: \(claim)")
        }
    }

    /// Reads `destination.count` items of `itemSize` bytes from byte `offset` of `file` in
    /// chunks, handing each chunk to `convert` with the index of its first item.
    static func readConverting<Element>(
        _ file: borrowing InputFile, at offset: Int, itemSize: Int,
        into destination: UnsafeMutableBufferPointer<Element>,
        _ convert: (UnsafeRawBufferPointer, UnsafeMutableBufferPointer<Element>, Int) throws -> Void
    ) throws {
        let chunkItems = 1 << 16
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkItems * itemSize, alignment: 16)
        defer { scratch.deallocate() }
        var first = 0
        while first < destination.count {
            let n = Swift.min(chunkItems, destination.count - first)
            let bytes = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<(n * itemSize)])
            try file.read(into: bytes, at: offset + first * itemSize)
            try convert(UnsafeRawBufferPointer(bytes), UnsafeMutableBufferPointer(rebasing: destination[first..<(first + n)]), first)
            first += n
        }
    }

    /// The index of the first NaN or infinite value, or `nil`. Scans blocks with a vectorisable
    /// maximum of the magnitude bits and looks inside a block only when it holds one.
    static func firstNonFiniteIndex(_ values: UnsafeBufferPointer<Float>) -> Int? {
        values.withMemoryRebound(to: UInt32.self) { bits in
            let magnitudeMask: UInt32 = 0x7FFF_FFFF
            let infinityBits: UInt32 = 0x7F80_0000
            let blockSize = 4096
            var start = 0
            while start < bits.count {
                let end = Swift.min(start + blockSize, bits.count)
                var largest: UInt32 = 0
                for i in start..<end { largest = Swift.max(largest, bits[i] & magnitudeMask) }
                if largest >= infinityBits {
                    for i in start..<end where bits[i] & magnitudeMask >= infinityBits { return i }
                }
                start = end
            }
            return nil
        }
    }

    /// Converts IEEE 754 binary16 bits to `Float` exactly (every half value is a `Float`),
    /// including subnormals, signed zeros, infinities and NaN (payload kept).
    ///
    /// Written out rather than using `Float16`, which is unavailable on macOS x86_64.
    static func floatFromHalfBits(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        switch exponent {
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        case 0:
            // Zero or subnormal: mantissa × 2^-24, exact in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        default:
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }
}
