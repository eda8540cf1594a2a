import Foundation

/// The one JSON renderer of `--json` output: pretty-printed, keys sorted, slashes unescaped.
enum JSONOutput {
    /// How property names become JSON keys.
    enum Keys {
        /// `latencyMs` → `latency_ms` (the commands' own output types).
        case snakeCase
        /// As the type declares them (library reports with their own coding keys, ``JSONValue``).
        case asDeclared
    }

    /// `value` as JSON text.
    static func render<Value: Encodable>(_ value: Value, keys: Keys = .snakeCase) throws -> String {
        let encoder = JSONEncoder()
        if keys == .snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
