/// The header of a NumPy `.npy` file: format version, dtype, memory order and shape, and where
/// the array data starts.
///
/// Layout (NumPy's `numpy.lib.format`): the magic `\x93NUMPY`, one byte major and one byte minor
/// version, the header length (little-endian `UInt16` for version 1.0, `UInt32` for 2.0 and
/// 3.0), then that many bytes of a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (12101, 384), }` padded with spaces and a
/// final newline. Versions 1.0 and 2.0 encode the dict in latin-1, 3.0 in UTF-8. The data follows
/// immediately.
struct NpyHeader {
    /// Format major version: 1, 2 or 3.
    var majorVersion: UInt8
    /// Format minor version (0 for every version NumPy writes).
    var minorVersion: UInt8
    /// The dtype, from the `descr` key.
    var dataType: NpyDataType
    /// `True` when the data is stored column-major.
    var fortranOrder: Bool
    /// Array dimensions, outermost first (`[rows, cols]` for a matrix).
    var shape: [Int]
    /// Byte offset of the first data byte from the start of the file.
    var dataOffset: Int

    /// The six magic bytes that start every `.npy` file.
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// The shape as NumPy would print it in a list, e.g. `[12101, 384]`.
    var shapeDescription: String { NpyHeader.describe(shape: shape) }

    /// `[a, b]` for a shape.
    static func describe(shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    // MARK: Reading

    /// Reads and parses the header at the start of `file`.
    ///
    /// Throws ``InputError`` for an empty file, bad magic, an unsupported version, a header that
    /// runs past the end of the file, or a dict that cannot be parsed or lacks a required key.
    static func read(from file: borrowing InputFile) throws -> NpyHeader {
        let path = file.path
        if file.size == 0 {
            throw InputError(path, "file is empty; expected a .npy array")
        }
        let preambleLength = Swift.min(file.size, 12)
        var preamble = [UInt8](repeating: 0, count: preambleLength)
        try preamble.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }

        if preamble.count < magic.count || Array(preamble[0..<magic.count]) != magic {
            var problem = "not a .npy file: it does not start with the .npy magic \\x93NUMPY"
            if preamble.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
                problem += " (it looks like a zip archive, e.g. a .npz; extract the array and save it with numpy.save)"
            } else {
                problem += " (first bytes: \(hex(preamble.prefix(8))))"
            }
            throw InputError(path, problem)
        }
        guard preamble.count >= 8 else {
            throw InputError(path, "not a .npy file: it ends after the magic, before the version bytes")
        }
        let major = preamble[6]
        let minor = preamble[7]
        let lengthFieldSize: Int
        switch (major, minor) {
        case (1, 0): lengthFieldSize = 2
        case (2, 0), (3, 0): lengthFieldSize = 4
        default:
            throw InputError(path, "unsupported .npy format version \(major).\(minor); supported versions are 1.0, 2.0 and 3.0")
        }
        guard preamble.count >= 8 + lengthFieldSize else {
            throw InputError(path, "not a .npy file: it ends inside the header-length field (file is \(file.size) bytes)")
        }
        var headerLength = 0
        for i in 0..<lengthFieldSize {
            headerLength |= Int(preamble[8 + i]) << (8 * i)
        }
        let headerStart = 8 + lengthFieldSize
        let dataOffset = headerStart + headerLength
        guard dataOffset <= file.size else {
            throw InputError(path, "the header claims to be \(headerLength) bytes long but the file has only \(file.size - headerStart) bytes after the header-length field; the file is truncated or not a .npy file")
        }
        var headerBytes = [UInt8](repeating: 0, count: headerLength)
        try headerBytes.withUnsafeMutableBytes { try file.read(into: $0, at: headerStart) }

        let utf8 = major >= 3
        let dictionary: [(key: String, value: PythonLiteral)]
        do {
            var parser = PythonLiteralParser(bytes: headerBytes, utf8: utf8)
            dictionary = try parser.parseDictionary()
        } catch {
            throw InputError(path, field: "header", "cannot parse the header dictionary: \(error.reason) at byte \(error.offset) of \(quoteHeader(headerBytes, utf8: utf8))")
        }

        func value(_ key: String) throws -> PythonLiteral {
            guard let found = dictionary.last(where: { $0.key == key })?.value else {
                throw InputError(path, field: "header", "the header dictionary has no '\(key)' key: \(quoteHeader(headerBytes, utf8: utf8))")
            }
            return found
        }

        let dataType: NpyDataType
        switch try value("descr") {
        case .string(let descr):
            dataType = NpyDataType(descr: descr)
        case let other:
            throw InputError(path, field: "header", "'descr' is \(other.summary); only simple dtypes such as '<f4' are supported, not structured arrays")
        }
        let fortranOrder: Bool
        switch try value("fortran_order") {
        case .boolean(let flag): fortranOrder = flag
        case let other:
            throw InputError(path, field: "header", "'fortran_order' is \(other.summary), expected True or False")
        }
        var shape: [Int] = []
        switch try value("shape") {
        case .sequence(let items):
            for item in items {
                guard case .integer(let dimension) = item, dimension >= 0 else {
                    throw InputError(path, field: "header", "'shape' holds \(item.summary), expected non-negative integers")
                }
                shape.append(dimension)
            }
        case let other:
            throw InputError(path, field: "header", "'shape' is \(other.summary), expected a tuple of integers")
        }
        return NpyHeader(
            majorVersion: major, minorVersion: minor, dataType: dataType,
            fortranOrder: fortranOrder, shape: shape, dataOffset: dataOffset)
    }

    /// The number of data bytes the header describes (`product(shape) × itemSize`), or `nil` when
    /// that overflows `Int`.
    func dataByteCount(itemSize: Int) -> Int? {
        var total = itemSize
        for dimension in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            total = product
        }
        return total
    }

    // MARK: Writing

    /// The preamble and header for a C-order array of `descr` (e.g. `"<f4"`) with `shape`.
    ///
    /// Uses version 1.0 (2.0 only if the dict does not fit in 65535 bytes), pads with spaces so
    /// that the data starts at a multiple of 64 bytes, and ends the header with a newline, as
    /// NumPy does.
    static func encode(descr: String, shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        let dictionary = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        for (major, lengthFieldSize) in [(UInt8(1), 2), (UInt8(2), 4)] {
            let unpadded = magic.count + 2 + lengthFieldSize + dictionary.count + 1
            let total = (unpadded + 63) / 64 * 64
            let headerLength = total - magic.count - 2 - lengthFieldSize
            if lengthFieldSize == 2 && headerLength > Int(UInt16.max) { continue }
            var bytes = magic + [major, 0]
            for i in 0..<lengthFieldSize {
                bytes.append(UInt8(truncatingIfNeeded: headerLength >> (8 * i)))
            }
            bytes += dictionary
            bytes += [UInt8](repeating: 0x20, count: total - bytes.count - 1)
            bytes.append(0x0A)
            return bytes
        }
        return []  // unreachable: a version 2.0 header fits any dict of fewer than 4 GiB
    }

    // MARK: Helpers

    private static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
    }

    /// The header text for an error message, trimmed of padding and shortened if very long.
    private static func quoteHeader(_ bytes: [UInt8], utf8: Bool) -> String {
        var text = utf8
            ? String(decoding: bytes, as: UTF8.self)
            : String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        while let last = text.last, last == " " || last == "\n" || last == "\0" { text.removeLast() }
        if text.count > 200 { text = String(text.prefix(200)) + "…" }
        return "\"" + text + "\""
    }
}

/// A NumPy dtype string such as `<f4`, split into byte order, kind and item size.
struct NpyDataType: Equatable {
    /// The `descr` string exactly as the header gave it.
    var descr: String
    /// `<` little-endian, `>` big-endian, `|` not applicable, `=` native; `=` when absent.
    var byteOrder: Character
    /// NumPy's kind character: `f` float, `i` signed integer, `u` unsigned, `b` bool, `c` complex,
    /// `O` object, `S`/`a` bytes, `U` unicode, `V` void/structured, `M` datetime, `m` timedelta.
    var kind: Character
    /// Bytes per element, when the descr states it as a plain number (`4` in `<f4`).
    var itemSize: Int?

    /// Splits `descr`.
    init(descr: String) {
        self.descr = descr
        var rest = Substring(descr)
        if let first = rest.first, "<>|=".contains(first) {
            byteOrder = first
            rest = rest.dropFirst()
        } else {
            byteOrder = "="
        }
        kind = rest.first ?? "?"
        itemSize = Int(rest.dropFirst())
    }

    /// True when the element bytes are little-endian on disk: `<`, or `|`/`=` (read as
    /// little-endian, the order of every platform semid runs on).
    var isLittleEndian: Bool { byteOrder != ">" }

    /// A plain-words name for error messages, e.g. `'<i4' (32-bit signed integer)`.
    var summary: String {
        // The size comes from the file: a huge one must not overflow the bit count (found by fuzzing).
        let bits = itemSize.flatMap { size -> String? in
            let (count, overflow) = size.multipliedReportingOverflow(by: 8)
            return overflow || size <= 0 ? nil : "\(count)-bit "
        } ?? ""
        let name: String
        switch kind {
        case "f": name = itemSize == 16 ? "long double float" : bits + "float"
        case "i": name = bits + "signed integer"
        case "u": name = bits + "unsigned integer"
        case "b": name = "boolean"
        case "c": name = bits + "complex"
        case "O": name = "Python object"
        case "S", "a": name = "byte string"
        case "U": name = "unicode string"
        case "V": name = "raw bytes (void)"
        case "M": name = "datetime"
        case "m": name = "timedelta"
        default: name = "unknown kind"
        }
        return "'\(descr)' (\(name)\(byteOrder == ">" ? ", big-endian" : ""))"
    }
}
