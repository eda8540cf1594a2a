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
        let bits = itemSize.map { "\($0 * 8)-bit " } ?? ""
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

/// A Python literal from a `.npy` header dict.
enum PythonLiteral {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case none
    /// A tuple or list.
    case sequence([PythonLiteral])
    case dictionary([(key: String, value: PythonLiteral)])

    /// A short description for error messages, e.g. `the integer 3`.
    var summary: String {
        switch self {
        case .string(let text): return "the string '\(text)'"
        case .integer(let value): return "the integer \(value)"
        case .boolean(let value): return value ? "True" : "False"
        case .none: return "None"
        case .sequence: return "a tuple or list"
        case .dictionary: return "a dict"
        }
    }
}

/// Parses the subset of Python literal syntax that `.npy` headers use: a dict with string keys
/// whose values are strings, integers, `True`/`False`/`None`, and tuples, lists or dicts of them.
struct PythonLiteralParser {
    /// Why parsing stopped, and where (byte offset into the header dict).
    struct Failure: Error {
        var reason: String
        var offset: Int
    }

    private let bytes: [UInt8]
    private let utf8: Bool
    private var position = 0
    /// Nesting limit, so a hostile header cannot exhaust the stack.
    private let maximumDepth = 32

    /// A parser over the header dict `bytes`, decoded as UTF-8 (`utf8`) or latin-1.
    init(bytes: [UInt8], utf8: Bool) {
        self.bytes = bytes
        self.utf8 = utf8
    }

    /// Parses the whole input as one dict literal followed only by whitespace.
    mutating func parseDictionary() throws(Failure) -> [(key: String, value: PythonLiteral)] {
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else {
            throw fail(peek() == nil ? "expected a dict but the header is empty" : "expected a dict starting with '{'")
        }
        guard case .dictionary(let entries) = try parseValue(depth: 0) else {
            throw fail("expected a dict")
        }
        skipWhitespace()
        if position < bytes.count {
            throw fail("unexpected text after the dict")
        }
        return entries
    }

    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private func fail(_ reason: String) -> Failure {
        Failure(reason: reason, offset: position)
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            position += 1
        }
    }

    private mutating func expect(_ character: Character) throws(Failure) {
        skipWhitespace()
        guard let byte = peek(), let ascii = character.asciiValue, byte == ascii else {
            throw fail("expected '\(character)'")
        }
        position += 1
    }

    private mutating func parseValue(depth: Int) throws(Failure) -> PythonLiteral {
        guard depth < maximumDepth else { throw fail("nesting is too deep") }
        skipWhitespace()
        guard let byte = peek() else { throw fail("unexpected end of header") }
        switch byte {
        case UInt8(ascii: "{"):
            position += 1
            var entries: [(key: String, value: PythonLiteral)] = []
            while true {
                skipWhitespace()
                if peek() == UInt8(ascii: "}") { position += 1; break }
                guard case .string(let key) = try parseValue(depth: depth + 1) else {
                    throw fail("dict keys must be strings")
                }
                try expect(":")
                let value = try parseValue(depth: depth + 1)
                entries.append((key, value))
                skipWhitespace()
                if peek() == UInt8(ascii: ",") { position += 1; continue }
                try expect("}")
                break
            }
            return .dictionary(entries)
        case UInt8(ascii: "("), UInt8(ascii: "["):
            let close = byte == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "]")
            position += 1
            var items: [PythonLiteral] = []
            while true {
                skipWhitespace()
                if peek() == close { position += 1; break }
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                if peek() == UInt8(ascii: ",") { position += 1; continue }
                guard peek() == close else {
                    throw fail("expected ',' or '\(Character(Unicode.Scalar(close)))'")
                }
                position += 1
                break
            }
            return .sequence(items)
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return .string(try parseString(quote: byte))
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .integer(try parseInteger())
        default:
            let start = position
            while let next = peek(), (next >= UInt8(ascii: "A") && next <= UInt8(ascii: "Z")) || (next >= UInt8(ascii: "a") && next <= UInt8(ascii: "z")) {
                position += 1
            }
            switch String(decoding: bytes[start..<position], as: UTF8.self) {
            case "True": return .boolean(true)
            case "False": return .boolean(false)
            case "None": return .none
            default:
                position = start
                throw fail("unexpected character '\(Character(Unicode.Scalar(byte)))'")
            }
        }
    }

    private mutating func parseString(quote: UInt8) throws(Failure) -> String {
        position += 1
        var content: [UInt8] = []
        while true {
            guard let byte = peek() else { throw fail("unterminated string") }
            position += 1
            if byte == quote { break }
            if byte == UInt8(ascii: "\\") {
                guard let escaped = peek() else { throw fail("unterminated string") }
                position += 1
                content.append(escaped)
            } else {
                content.append(byte)
            }
        }
        return utf8
            ? String(decoding: content, as: UTF8.self)
            : String(String.UnicodeScalarView(content.map { Unicode.Scalar($0) }))
    }

    private mutating func parseInteger() throws(Failure) -> Int {
        let start = position
        var negative = false
        if let sign = peek(), sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            position += 1
        }
        var value = 0
        var digits = 0
        while let byte = peek(), byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 {
                position = start
                throw fail("integer too large")
            }
            value = sum
            digits += 1
            position += 1
        }
        if digits == 0 { throw fail("expected digits") }
        // Python 2 wrote long integers with an `L` suffix, e.g. `(3L, 4L)`.
        if peek() == UInt8(ascii: "L") { position += 1 }
        if let byte = peek(), byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            throw fail("expected an integer, found a decimal number")
        }
        return negative ? -value : value
    }
}
