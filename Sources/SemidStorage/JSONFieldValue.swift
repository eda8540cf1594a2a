import Foundation

/// A value produced by `JSONSerialization`, classified the way the readers need it: booleans,
/// integers and non-integer numbers told apart (Foundation boxes all three as `NSNumber`).
///
/// A number counts as an integer only when it was written without a fraction or exponent:
/// `3` is an integer, `3.0` and `3e0` are not. Semid rejects the latter as ids rather than
/// guessing, so a file of ids written as floats is caught instead of silently accepted.
enum JSONFieldValue {
    case null
    case boolean(Bool)
    /// An integer that fits in `Int`.
    case integer(Int)
    /// A number written with a fraction or exponent, or an integer too large for `Int`;
    /// the associated text is how Foundation prints it.
    case otherNumber(String)
    case string(String)
    case array([Any])
    case object([String: Any])

    /// Classifies one value from `JSONSerialization.jsonObject`.
    init(_ value: Any) {
        switch value {
        case let text as String:
            self = .string(text)
        case let array as [Any]:
            self = .array(array)
        case let object as [String: Any]:
            self = .object(object)
        case is NSNull:
            self = .null
        case let decimal as NSDecimalNumber:
            self = .otherNumber(decimal.description)
        case let number as NSNumber:
            switch String(cString: number.objCType) {
            case "c", "B":
                self = .boolean(number.boolValue)
            case "d", "f":
                self = .otherNumber(number.description)
            case "Q", "L", "I", "S", "C":
                let unsigned = number.uint64Value
                self = unsigned <= UInt64(Int.max) ? .integer(Int(unsigned)) : .otherNumber(number.description)
            default:
                self = .integer(Int(number.int64Value))
            }
        default:
            self = .otherNumber(String(describing: value))
        }
    }

    /// The value as a non-negative integer, or `nil` for anything else (including `3.0`).
    var nonNegativeInteger: Int? {
        if case .integer(let value) = self, value >= 0 { return value }
        return nil
    }

    /// A short description for error messages: `the string "3"`, `2.5`, `-1`, `null`, `an array`.
    /// A whole number written as a float (`3.0`) gets a hint to drop the decimal point.
    var summary: String {
        switch self {
        case .null: return "null"
        case .boolean(let flag): return flag ? "true" : "false"
        case .integer(let value): return String(value)
        case .otherNumber(let text):
            if let value = Double(text), value.rounded() == value, abs(value) < 1e18 {
                return text + " (write whole numbers without a decimal point or exponent)"
            }
            return text
        case .string(let text):
            let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
            return "the string \"\(shown)\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

extension JSONSerialization {
    /// Foundation's own explanation of a parse failure (e.g. "Invalid value around character 8."),
    /// or a generic phrase. When the explanation gives a character offset into `text`, the
    /// 1-based line of that offset is added, which is what a user needs in a large file.
    static func failureReason(_ error: Error, in text: [UInt8]) -> String {
        guard let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String else {
            return "not valid JSON"
        }
        guard let marker = reason.range(of: "character ") else { return reason }
        let offset = Int(reason[marker.upperBound...].prefix { $0.isNumber }) ?? -1
        guard offset >= 0, offset <= text.count, text.contains(0x0A) else { return reason }
        let line = 1 + text[..<offset].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        return reason + " (line \(line))"
    }
}
