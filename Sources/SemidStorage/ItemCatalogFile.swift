import Foundation

/// Reads item catalogs: the list of items with their ids and texts.
///
/// Two formats are accepted, chosen by file name:
///
/// - **LC-Rec item JSON** (name ends in `.json`, e.g. `Beauty.item.json`): one JSON object
///   keyed by item-id strings, `{"0": {"title": …, "description": …, "brand": …,
///   "categories": …}, …}`. `title` becomes ``ItemRecord/title``, `description` becomes
///   ``ItemRecord/text``; other keys are ignored and ``ItemRecord/sourceID`` is `nil`.
/// - **JSON Lines** (any other name, e.g. `items.jsonl`): one JSON object per line with a
///   required integer `item` and optional string `source_id`, `title` and `text`. Blank lines
///   and unknown keys are ignored. `source_id` may also be an integer (kept as its decimal text).
///
/// In both formats an optional field that is `null` counts as absent. Ids must be non-negative
/// integers written without a fraction: `3` is accepted, `3.0`, `"3"`, `2.5` and `-1` are not.
public enum ItemCatalogFile {
    /// Reads the catalog at `path` and returns its records sorted by id.
    ///
    /// - Throws: ``InputError`` naming the file, and for JSON Lines the 1-based line, for: an
    ///   empty file, a line that is not JSON or not an object, a missing or invalid `item`, a
    ///   `source_id`, `title` or `text` of the wrong type, and a duplicate id (naming both lines).
    public static func read(at path: String) throws -> [ItemRecord] {
        var bytes = try InputFile(path: path).readAll()
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // UTF-8 byte-order mark
        if bytes.allSatisfy(isWhitespace) {
            throw InputError(path, "file is empty; expected an item catalog")
        }
        var records = path.lowercased().hasSuffix(".json")
            ? try readItemObject(bytes, path: path)
            : try readJSONLines(bytes, path: path)
        if !zip(records, records.dropFirst()).allSatisfy({ $0.id < $1.id }) {
            records.sort { $0.id < $1.id }
        }
        return records
    }

    /// Checks that the ids of `records` are exactly `first ..< first + records.count`, each once.
    ///
    /// - Parameters:
    ///   - records: Records in any order.
    ///   - first: The smallest id expected (0 for 0-based catalogs).
    ///   - source: The file the records came from, for the error message.
    /// - Throws: ``InputError`` naming the first missing id, the first out-of-range id and the
    ///   first duplicate, whichever exist.
    public static func validateDense(_ records: [ItemRecord], startingAt first: Int, source: String) throws {
        let end = first + records.count
        var seen = [Bool](repeating: false, count: records.count)
        var outOfRange: Int?
        var duplicate: Int?
        for record in records {
            guard record.id >= first && record.id < end else {
                if outOfRange.map({ record.id < $0 }) ?? true { outOfRange = record.id }
                continue
            }
            if seen[record.id - first] {
                if duplicate.map({ record.id < $0 }) ?? true { duplicate = record.id }
            }
            seen[record.id - first] = true
        }
        guard outOfRange != nil || duplicate != nil else { return }
        var problems: [String] = []
        if let missingOffset = seen.firstIndex(of: false) {
            problems.append("id \(first + missingOffset) is missing")
        }
        if let outOfRange {
            problems.append("id \(outOfRange) is out of range")
        }
        if let duplicate {
            problems.append("id \(duplicate) appears more than once")
        }
        throw InputError(source, "item ids must be exactly \(first)..<\(end), one per item (\(records.count) items): " + problems.joined(separator: "; "))
    }

    // MARK: JSON Lines

    private static func readJSONLines(_ bytes: [UInt8], path: String) throws -> [ItemRecord] {
        var records: [ItemRecord] = []
        var lineOfID: [Int: Int] = [:]
        var lineNumber = 0
        var lineStart = 0
        while lineStart < bytes.count {
            lineNumber += 1
            let newline = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.count
            let line = bytes[lineStart..<newline]
            lineStart = newline + 1
            if line.allSatisfy(isWhitespace) { continue }

            let parsed: Any
            do {
                parsed = try JSONSerialization.jsonObject(with: Data(line), options: .fragmentsAllowed)
            } catch {
                var problem = "not valid JSON (\(JSONSerialization.failureReason(error, in: Array(line)))): \(excerpt(line))"
                if line.count <= 2 && line.first == UInt8(ascii: "{") {
                    problem += "; a single JSON object spread over many lines must be in a file named *.json"
                }
                throw InputError(path, line: lineNumber, problem)
            }
            guard case .object(let fields) = JSONFieldValue(parsed) else {
                throw InputError(path, line: lineNumber, "expected a JSON object, found \(JSONFieldValue(parsed).summary)")
            }
            guard let rawID = fields["item"] else {
                throw InputError(path, line: lineNumber, field: "item", "missing; every line needs an integer \"item\" id")
            }
            guard let id = JSONFieldValue(rawID).nonNegativeInteger else {
                throw InputError(path, line: lineNumber, field: "item", "expected a non-negative integer, found \(JSONFieldValue(rawID).summary)")
            }
            if let earlier = lineOfID.updateValue(lineNumber, forKey: id) {
                throw InputError(path, line: lineNumber, field: "item", "duplicate id \(id), also on line \(earlier)")
            }
            func string(_ key: String, integerAllowed: Bool = false) throws -> String? {
                guard let raw = fields[key] else { return nil }
                switch JSONFieldValue(raw) {
                case .null: return nil
                case .string(let text): return text
                case .integer(let value) where integerAllowed: return String(value)
                case let other:
                    throw InputError(path, line: lineNumber, field: key, "expected a string, found \(other.summary)")
                }
            }
            records.append(ItemRecord(
                id: id, sourceID: try string("source_id", integerAllowed: true),
                title: try string("title"), text: try string("text")))
        }
        return records
    }

    // MARK: LC-Rec item JSON

    private static func readItemObject(_ bytes: [UInt8], path: String) throws -> [ItemRecord] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)
        } catch {
            throw InputError(path, "not valid JSON (\(JSONSerialization.failureReason(error, in: bytes))); expected one object mapping item ids to items, as in LC-Rec's *.item.json")
        }
        guard case .object(let items) = JSONFieldValue(parsed) else {
            throw InputError(path, "expected one JSON object mapping item ids to items, as in LC-Rec's *.item.json, found \(JSONFieldValue(parsed).summary)")
        }
        if items.isEmpty {
            throw InputError(path, "the JSON object holds no items")
        }
        var records: [ItemRecord] = []
        records.reserveCapacity(items.count)
        var keyOfID: [Int: String] = [:]
        for (key, value) in items {
            let field = "item \"\(key)\""
            guard let id = nonNegativeInteger(key) else {
                throw InputError(path, field: field, "the key is not a non-negative integer item id")
            }
            if let earlier = keyOfID.updateValue(key, forKey: id) {
                throw InputError(path, field: field, "duplicate id \(id), also given as \"\(earlier)\"")
            }
            guard case .object(let fields) = JSONFieldValue(value) else {
                throw InputError(path, field: field, "expected an object with \"title\" and \"description\", found \(JSONFieldValue(value).summary)")
            }
            func string(_ key: String) throws -> String? {
                guard let raw = fields[key] else { return nil }
                switch JSONFieldValue(raw) {
                case .null: return nil
                case .string(let text): return text
                case let other:
                    throw InputError(path, field: "\(field): \(key)", "expected a string, found \(other.summary)")
                }
            }
            records.append(ItemRecord(id: id, sourceID: nil, title: try string("title"), text: try string("description")))
        }
        return records
    }

    // MARK: Helpers

    /// A decimal string of ASCII digits as an `Int`, or `nil` (signs, spaces and overflow
    /// included).
    static func nonNegativeInteger(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int(text)
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// The start of a line, for error messages.
    private static func excerpt(_ line: ArraySlice<UInt8>) -> String {
        var text = String(decoding: line, as: UTF8.self)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text.count > 80 ? String(text.prefix(80)) + "…" : text
    }
}
