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
