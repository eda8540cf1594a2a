import SemidTestSupport
import Testing
@testable import SemidStorage

@Suite("ItemCatalogFile")
struct ItemCatalogFileTests {
    @Test("JSON Lines: optional fields, nulls, unknown keys, blank lines, CRLF and a BOM; sorted by id")
    func readsJSONLines() throws {
        let directory = try TemporaryDirectory()
        let text = "\u{FEFF}"
            + #"{"item": 2, "source_id": "B00X", "title": "Lip balm", "text": "Lip balm, cherry", "price": 3.5}"# + "\r\n"
            + "\n   \n"
            + #"{"item": 0, "title": null}"# + "\n"
            + #"{"text": "ignored order of keys", "item": 1, "source_id": 12345, "title": ""}"#
        let path = try directory.write(text, to: "items.jsonl")
        let records = try ItemCatalogFile.read(at: path)
        #expect(records == [
            ItemRecord(id: 0),
            ItemRecord(id: 1, sourceID: "12345", title: "", text: "ignored order of keys"),
            ItemRecord(id: 2, sourceID: "B00X", title: "Lip balm", text: "Lip balm, cherry"),
        ])
    }

    @Test("LC-Rec item JSON: title, description as text, other keys ignored; sorted by id")
    func readsLCRecItemJSON() throws {
        let directory = try TemporaryDirectory()
        let text = """
            {
              "1": {"title": "Shampoo", "description": "Gentle shampoo.", "brand": "Acme", "categories": "Hair"},
              "0": {"title": "Nail polish", "brand": "OPI"},
              "2": {"title": null, "description": null}
            }
            """
        let path = try directory.write(text, to: "Beauty.item.json")
        let records = try ItemCatalogFile.read(at: path)
        #expect(records == [
            ItemRecord(id: 0, title: "Nail polish"),
            ItemRecord(id: 1, title: "Shampoo", text: "Gentle shampoo."),
            ItemRecord(id: 2),
        ])
    }

    static let jsonLinesCases: [InputErrorCase] = [
        InputErrorCase("empty file", file: "items.jsonl", text: "", expect: ["file is empty"]),
        InputErrorCase("only blank lines", file: "items.jsonl", text: "\n  \n\n", expect: ["file is empty"]),
        InputErrorCase("line is not JSON", file: "items.jsonl", text: "{\"item\": 0}\n{\"item\": 1,, }\n", expect: ["items.jsonl:2: not valid JSON", "{\"item\": 1,, }"]),
        InputErrorCase("line is an array", file: "items.jsonl", text: "[0, \"title\"]\n", expect: ["items.jsonl:1: expected a JSON object, found an array"]),
        InputErrorCase("line is a number", file: "items.jsonl", text: "{\"item\": 0}\n\n7\n", expect: ["items.jsonl:3: expected a JSON object, found 7"]),
        InputErrorCase("item missing", file: "items.jsonl", text: "{\"item\": 0}\n{\"title\": \"x\"}\n", expect: ["items.jsonl:2: item: missing"]),
        InputErrorCase("item is a string", file: "items.jsonl", text: "{\"item\": \"3\"}\n", expect: ["items.jsonl:1: item: expected a non-negative integer, found the string \"3\""]),
        InputErrorCase("item has a fraction", file: "items.jsonl", text: "{\"item\": 2.5}\n", expect: [":1: item: expected a non-negative integer, found 2.5"]),
        InputErrorCase("item is written as a float", file: "items.jsonl", text: "{\"item\": 3.0}\n", expect: [":1: item: expected a non-negative integer, found 3.0 (write whole numbers without a decimal point"]),
        InputErrorCase("item has an exponent", file: "items.jsonl", text: "{\"item\": 1e2}\n", expect: [":1: item: expected a non-negative integer"]),
        InputErrorCase("item is negative", file: "items.jsonl", text: "{\"item\": -1}\n", expect: [":1: item: expected a non-negative integer, found -1"]),
        InputErrorCase("item is a boolean", file: "items.jsonl", text: "{\"item\": true}\n", expect: [":1: item: expected a non-negative integer, found true"]),
        InputErrorCase("item is null", file: "items.jsonl", text: "{\"item\": null}\n", expect: [":1: item: expected a non-negative integer, found null"]),
        InputErrorCase("item too large", file: "items.jsonl", text: "{\"item\": 99999999999999999999}\n", expect: [":1: item: expected a non-negative integer, found 99999999999999999999"]),
        InputErrorCase("title is a number", file: "items.jsonl", text: "{\"item\": 0, \"title\": 3}\n", expect: ["items.jsonl:1: title: expected a string, found 3"]),
        InputErrorCase("text is an array", file: "items.jsonl", text: "{\"item\": 0, \"text\": [\"a\"]}\n", expect: [":1: text: expected a string, found an array"]),
        InputErrorCase("source_id is a boolean", file: "items.jsonl", text: "{\"item\": 0, \"source_id\": false}\n", expect: [":1: source_id: expected a string, found false"]),
        InputErrorCase("duplicate id", file: "items.jsonl", text: "{\"item\": 0}\n{\"item\": 1}\n{\"item\": 0}\n", expect: ["items.jsonl:3: item: duplicate id 0, also on line 1"]),
        InputErrorCase("pretty-printed object in a .jsonl file", file: "items.jsonl", text: "{\n  \"0\": {\"title\": \"x\"}\n}\n", expect: [":1: not valid JSON", "*.json"]),
    ]

    @Test("JSON Lines rejects", arguments: jsonLinesCases)
    func jsonLinesRejects(_ errorCase: InputErrorCase) throws {
        try errorCase.check { _ = try ItemCatalogFile.read(at: $0) }
    }

    static let itemObjectCases: [InputErrorCase] = [
        InputErrorCase("empty file", file: "Beauty.item.json", text: "  \n", expect: ["file is empty"]),
        InputErrorCase("not JSON", file: "Beauty.item.json", text: "{\"0\": {\"title\": \"x\"}", expect: ["not valid JSON", "*.item.json"]),
        InputErrorCase("not JSON, on line 3", file: "Beauty.item.json", text: "{\n\"0\": {\"title\": \"x\"},\n\"1\": {\"title\": x}\n}", expect: ["not valid JSON", "(line 3)"]),
        InputErrorCase("top level is an array", file: "Beauty.item.json", text: "[{\"title\": \"x\"}]", expect: ["expected one JSON object mapping item ids to items", "found an array"]),
        InputErrorCase("empty object", file: "Beauty.item.json", text: "{}", expect: ["holds no items"]),
        InputErrorCase("key is not a number", file: "Beauty.item.json", text: "{\"abc\": {\"title\": \"x\"}}", expect: ["item \"abc\": the key is not a non-negative integer item id"]),
        InputErrorCase("key is negative", file: "Beauty.item.json", text: "{\"-1\": {\"title\": \"x\"}}", expect: ["item \"-1\": the key is not a non-negative integer"]),
        InputErrorCase("value is not an object", file: "Beauty.item.json", text: "{\"0\": \"Nail polish\"}", expect: ["item \"0\": expected an object", "found the string \"Nail polish\""]),
        InputErrorCase("title is a number", file: "Beauty.item.json", text: "{\"0\": {\"title\": 5}}", expect: ["item \"0\": title: expected a string, found 5"]),
        InputErrorCase("description is an object", file: "Beauty.item.json", text: "{\"0\": {\"description\": {}}}", expect: ["item \"0\": description: expected a string, found an object"]),
        InputErrorCase("the same id written twice", file: "Beauty.item.json", text: "{\"1\": {}, \"01\": {}}", expect: ["duplicate id 1, also given as"]),
    ]

    @Test("LC-Rec item JSON rejects", arguments: itemObjectCases)
    func itemObjectRejects(_ errorCase: InputErrorCase) throws {
        try errorCase.check { _ = try ItemCatalogFile.read(at: $0) }
    }

    /// Ids, the expected first id, and the phrases of the error (none when the ids are dense).
    struct DenseCase: Sendable, CustomTestStringConvertible {
        var ids: [Int]
        var first: Int
        var expected: [String]
        var testDescription: String { "\(ids) from \(first)" }
    }

    static let denseCases: [DenseCase] = [
        DenseCase(ids: [0, 1, 2], first: 0, expected: []),
        DenseCase(ids: [2, 0, 1], first: 0, expected: []),
        DenseCase(ids: [1, 2, 3], first: 1, expected: []),
        DenseCase(ids: [], first: 0, expected: []),
        DenseCase(ids: [0, 2, 3], first: 0, expected: ["exactly 0..<3", "id 1 is missing", "id 3 is out of range"]),
        DenseCase(ids: [1, 2, 3], first: 0, expected: ["id 0 is missing", "id 3 is out of range"]),
        DenseCase(ids: [0, 1, 2], first: 1, expected: ["exactly 1..<4", "id 3 is missing", "id 0 is out of range"]),
        DenseCase(ids: [0, 0, 1], first: 0, expected: ["id 2 is missing", "id 0 appears more than once"]),
        DenseCase(ids: [0, 1, 7, 5], first: 0, expected: ["id 2 is missing", "id 5 is out of range"]),
    ]

    @Test("validateDense", arguments: denseCases)
    func validateDense(_ denseCase: DenseCase) {
        let records = denseCase.ids.map { ItemRecord(id: $0) }
        if denseCase.expected.isEmpty {
            #expect(throws: Never.self) {
                try ItemCatalogFile.validateDense(records, startingAt: denseCase.first, source: "items.jsonl")
            }
        } else {
            let error = #expect(throws: InputError.self) {
                try ItemCatalogFile.validateDense(records, startingAt: denseCase.first, source: "items.jsonl")
            }
            let description = error?.description ?? ""
            #expect(description.hasPrefix("items.jsonl: "))
            for phrase in denseCase.expected {
                #expect(description.contains(phrase), "missing \"\(phrase)\" in: \(description)")
            }
        }
    }
}
