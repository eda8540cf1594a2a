import Foundation

/// Reads users' interaction sequences.
///
/// Two formats are accepted, chosen by file name:
///
/// - **TSV** (any name not ending in `.json`, e.g. `sequences.tsv`): one line per user,
///   `user<TAB>item item item…`. Items are separated by spaces or tabs (runs allowed); ids are
///   non-negative decimal integers without sign. Blank lines are ignored, `\r\n` line ends are
///   accepted. Users are returned **in file order**.
/// - **LC-Rec inter JSON** (name ends in `.json`, e.g. `Beauty.inter.json`): one object mapping
///   user-id strings to arrays of integer item ids. A JSON object has no order, so users are
///   returned **sorted by user id**.
///
/// An item may appear more than once in a sequence; that is not checked here.
public enum SequenceFile {
    /// Reads the sequences at `path`.
    ///
    /// - Parameters:
    ///   - path: The file; error messages repeat it as given.
    ///   - itemCount: The catalog size; when given, every item id must be below it.
    /// - Returns: One sequence per user, each with at least one item.
    /// - Throws: ``InputError`` naming the file and (for TSV) the 1-based line, for: an empty
    ///   file, a line without a tab, a token that is not an integer (quoted), a negative id, a
    ///   user with no items, a duplicate user (naming both lines), and an item id `>= itemCount`.
    public static func read(at path: String, itemCount: Int? = nil) throws -> [UserSequence] {
        var bytes = try InputFile(path: path).readAll()
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // UTF-8 byte-order mark
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            throw InputError(path, "file is empty; expected one line per user: user<TAB>item item …")
        }
        if path.lowercased().hasSuffix(".json") {
            return try readInteractionObject(bytes, path: path, itemCount: itemCount)
        }
        return try bytes.withUnsafeBufferPointer { try readTSV($0, path: path, itemCount: itemCount) }
    }

    // MARK: TSV

    /// What one whitespace-free token holds.
    private enum Token {
        case number(Int)
        case negative(String)
        case notInteger(String)
        case tooLarge(String)
    }

    private static let tab = UInt8(ascii: "\t")
    private static let space = UInt8(ascii: " ")
    private static let newline = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")

    private static func readTSV(_ bytes: UnsafeBufferPointer<UInt8>, path: String, itemCount: Int?) throws -> [UserSequence] {
        var sequences: [UserSequence] = []
        var lineOfUser: [Int: Int] = [:]
        var lineNumber = 0
        var position = 0
        let end = bytes.count
        while position < end {
            lineNumber += 1
            let lineStart = position
            var lineEnd = lineStart
            while lineEnd < end && bytes[lineEnd] != newline { lineEnd += 1 }
            position = lineEnd + 1
            if lineEnd > lineStart && bytes[lineEnd - 1] == carriageReturn { lineEnd -= 1 }

            var cursor = lineStart
            while cursor < lineEnd && (bytes[cursor] == space || bytes[cursor] == tab) { cursor += 1 }
            if cursor == lineEnd { continue }  // blank line

            // The user id: everything before the first tab.
            var tabIndex = lineStart
            while tabIndex < lineEnd && bytes[tabIndex] != tab { tabIndex += 1 }
            guard tabIndex < lineEnd else {
                throw InputError(path, line: lineNumber, "expected 'user<TAB>item item …', found no tab: \(excerpt(bytes, lineStart, lineEnd))")
            }
            var userStart = lineStart
            var userEnd = tabIndex
            while userStart < userEnd && bytes[userStart] == space { userStart += 1 }
            while userEnd > userStart && bytes[userEnd - 1] == space { userEnd -= 1 }
            guard userStart < userEnd else {
                throw InputError(path, line: lineNumber, "expected 'user<TAB>item item …', found no user id before the tab")
            }
            let user: Int
            switch parseToken(bytes, userStart, userEnd) {
            case .number(let value): user = value
            case .negative(let text):
                throw InputError(path, line: lineNumber, "user id \(text) is negative; ids are non-negative integers")
            case .notInteger(let text):
                throw InputError(path, line: lineNumber, "user id \"\(text)\" is not an integer")
            case .tooLarge(let text):
                throw InputError(path, line: lineNumber, "user id \"\(text)\" is too large")
            }

            // The items: tokens separated by runs of spaces or tabs.
            var items: [Int] = []
            cursor = tabIndex + 1
            while cursor < lineEnd {
                while cursor < lineEnd && (bytes[cursor] == space || bytes[cursor] == tab) { cursor += 1 }
                if cursor == lineEnd { break }
                let tokenStart = cursor
                while cursor < lineEnd && bytes[cursor] != space && bytes[cursor] != tab { cursor += 1 }
                switch parseToken(bytes, tokenStart, cursor) {
                case .number(let item):
                    if let itemCount, item >= itemCount {
                        throw InputError(path, line: lineNumber, "item \(item) is not in the catalog (\(itemCount) items)")
                    }
                    items.append(item)
                case .negative(let text):
                    throw InputError(path, line: lineNumber, "item \(text) is negative; item ids are non-negative integers")
                case .notInteger(let text):
                    throw InputError(path, line: lineNumber, "item \"\(text)\" is not an integer")
                case .tooLarge(let text):
                    throw InputError(path, line: lineNumber, "item \"\(text)\" is too large")
                }
            }
            guard !items.isEmpty else {
                throw InputError(path, line: lineNumber, "user \(user) has no items")
            }
            if let earlier = lineOfUser.updateValue(lineNumber, forKey: user) {
                throw InputError(path, line: lineNumber, "duplicate user \(user), also on line \(earlier)")
            }
            sequences.append(UserSequence(user: user, items: items))
        }
        return sequences
    }

    /// Parses `bytes[start..<end]` (non-empty, no whitespace) as a decimal integer.
    private static func parseToken(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Token {
        var value = 0
        var overflow = false
        var index = start
        let negative = bytes[start] == UInt8(ascii: "-") && end - start > 1
        if negative { index += 1 }
        while index < end {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else {
                return .notInteger(excerpt(bytes, start, end))
            }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(digit))
            overflow = overflow || o1 || o2
            value = sum
            index += 1
        }
        if overflow { return .tooLarge(excerpt(bytes, start, end)) }
        if negative { return value == 0 ? .number(0) : .negative(excerpt(bytes, start, end)) }
        return .number(value)
    }

    /// `bytes[start..<end]` as text for an error message, shortened if long.
    private static func excerpt(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        let shownEnd = Swift.min(end, start + 60)
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<shownEnd]), as: UTF8.self)
        return shownEnd < end ? text + "…" : text
    }

    // MARK: LC-Rec inter JSON

    private static func readInteractionObject(_ bytes: [UInt8], path: String, itemCount: Int?) throws -> [UserSequence] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)
        } catch {
            throw InputError(path, "not valid JSON (\(JSONSerialization.failureReason(error, in: bytes))); expected one object mapping user ids to item-id arrays, as in LC-Rec's *.inter.json")
        }
        guard case .object(let users) = JSONFieldValue(parsed) else {
            throw InputError(path, "expected one JSON object mapping user ids to item-id arrays, as in LC-Rec's *.inter.json, found \(JSONFieldValue(parsed).summary)")
        }
        if users.isEmpty {
            throw InputError(path, "the JSON object holds no users")
        }
        var sequences: [UserSequence] = []
        sequences.reserveCapacity(users.count)
        var keyOfUser: [Int: String] = [:]
        for (key, value) in users {
            let field = "user \"\(key)\""
            guard let user = ItemCatalogFile.nonNegativeInteger(key) else {
                throw InputError(path, field: field, "the key is not a non-negative integer user id")
            }
            if let earlier = keyOfUser.updateValue(key, forKey: user) {
                throw InputError(path, field: field, "duplicate user \(user), also given as \"\(earlier)\"")
            }
            guard case .array(let elements) = JSONFieldValue(value) else {
                throw InputError(path, field: field, "expected an array of item ids, found \(JSONFieldValue(value).summary)")
            }
            guard !elements.isEmpty else {
                throw InputError(path, field: field, "the item list is empty")
            }
            var items: [Int] = []
            items.reserveCapacity(elements.count)
            for (position, element) in elements.enumerated() {
                let classified = JSONFieldValue(element)
                guard let item = classified.nonNegativeInteger else {
                    throw InputError(path, field: field, "item at position \(position) is \(classified.summary), expected a non-negative integer item id")
                }
                if let itemCount, item >= itemCount {
                    throw InputError(path, field: field, "item \(item) is not in the catalog (\(itemCount) items)")
                }
                items.append(item)
            }
            sequences.append(UserSequence(user: user, items: items))
        }
        sequences.sort { $0.user < $1.user }
        return sequences
    }
}
