import SemidTestSupport
import Testing
@testable import SemidStorage

@Suite("SequenceFile")
struct SequenceFileTests {
    @Test("TSV: spaces or tabs between items, CRLF, blank lines, a BOM; file order kept")
    func readsTSV() throws {
        let directory = try TemporaryDirectory()
        let text = "\u{FEFF}5\t3 1 2\r\n\n9\t0\t4  7 \n 2 \t8\n"
        let path = try directory.write(text, to: "sequences.tsv")
        #expect(try SequenceFile.read(at: path, itemCount: 9) == [
            UserSequence(user: 5, items: [3, 1, 2]),
            UserSequence(user: 9, items: [0, 4, 7]),
            UserSequence(user: 2, items: [8]),
        ])
    }

    @Test("TSV without a final newline and without an item count")
    func readsTSVWithoutFinalNewline() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("0\t1 2\n1\t123456789", to: "sequences.tsv")
        #expect(try SequenceFile.read(at: path) == [
            UserSequence(user: 0, items: [1, 2]),
            UserSequence(user: 1, items: [123_456_789]),
        ])
    }

    @Test("LC-Rec inter JSON: sorted by user id")
    func readsInteractionJSON() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(#"{"10": [4, 2], "2": [0], "0": [1, 1, 3]}"#, to: "Beauty.inter.json")
        #expect(try SequenceFile.read(at: path, itemCount: 5) == [
            UserSequence(user: 0, items: [1, 1, 3]),
            UserSequence(user: 2, items: [0]),
            UserSequence(user: 10, items: [4, 2]),
        ])
    }

    /// A bad-input case plus the catalog size to check against.
    struct SequenceErrorCase: Sendable, CustomTestStringConvertible {
        var base: InputErrorCase
        var itemCount: Int?
        var testDescription: String { base.name }

        init(_ name: String, file: String = "sequences.tsv", text: String, itemCount: Int? = nil, expect: [String]) {
            base = InputErrorCase(name, file: file, text: text, expect: expect)
            self.itemCount = itemCount
        }
    }

    static let twelveLines = (0..<11).map { "\($0)\t1 2 3\n" }.joined() + "11\t5 99999 6\n"

    static let cases: [SequenceErrorCase] = [
        SequenceErrorCase("empty file", text: "", expect: ["sequences.tsv: file is empty"]),
        SequenceErrorCase("only blank lines", text: "\n\r\n  \n", expect: ["file is empty"]),
        SequenceErrorCase("missing tab", text: "0\t1 2\n1 2 3 4\n", expect: ["sequences.tsv:2: expected 'user<TAB>item item …', found no tab: 1 2 3 4"]),
        SequenceErrorCase("nothing before the tab", text: "\t1 2\n", expect: ["sequences.tsv:1:", "no user id before the tab"]),
        SequenceErrorCase("user is not an integer", text: "u1\t1 2\n", expect: ["sequences.tsv:1: user id \"u1\" is not an integer"]),
        SequenceErrorCase("user is negative", text: "-1\t1 2\n", expect: ["sequences.tsv:1: user id -1 is negative"]),
        SequenceErrorCase("item is not an integer", text: "0\t1 2\n1\t3 x4 5\n", expect: ["sequences.tsv:2: item \"x4\" is not an integer"]),
        SequenceErrorCase("item has a fraction", text: "0\t1.5\n", expect: [":1: item \"1.5\" is not an integer"]),
        SequenceErrorCase("item has a plus sign", text: "0\t+1\n", expect: [":1: item \"+1\" is not an integer"]),
        SequenceErrorCase("item is negative", text: "0\t1 -5 2\n", expect: [":1: item -5 is negative"]),
        SequenceErrorCase("item is too large", text: "0\t99999999999999999999999\n", expect: [":1: item \"99999999999999999999999\" is too large"]),
        SequenceErrorCase("empty item list", text: "0\t1\n1\t\n", expect: ["sequences.tsv:2: user 1 has no items"]),
        SequenceErrorCase("item list of blanks", text: "7\t  \t \n", expect: [":1: user 7 has no items"]),
        SequenceErrorCase("duplicate user", text: "0\t1\n1\t2\n0\t3\n", expect: ["sequences.tsv:3: duplicate user 0, also on line 1"]),
        SequenceErrorCase("item not in the catalog", text: twelveLines, itemCount: 12101,
                          expect: ["sequences.tsv:12: item 99999 is not in the catalog (12101 items)"]),
        SequenceErrorCase("item equal to the catalog size", text: "0\t0 10\n", itemCount: 10, expect: [":1: item 10 is not in the catalog (10 items)"]),
        SequenceErrorCase("JSON: not JSON", file: "Beauty.inter.json", text: "{\"0\": [1, 2}", expect: ["not valid JSON", "*.inter.json"]),
        SequenceErrorCase("JSON: top level is an array", file: "Beauty.inter.json", text: "[[1, 2]]", expect: ["expected one JSON object mapping user ids", "found an array"]),
        SequenceErrorCase("JSON: empty object", file: "Beauty.inter.json", text: "{}", expect: ["holds no users"]),
        SequenceErrorCase("JSON: key is not a number", file: "Beauty.inter.json", text: "{\"alice\": [1]}", expect: ["user \"alice\": the key is not a non-negative integer user id"]),
        SequenceErrorCase("JSON: value is not an array", file: "Beauty.inter.json", text: "{\"0\": 1}", expect: ["user \"0\": expected an array of item ids, found 1"]),
        SequenceErrorCase("JSON: empty array", file: "Beauty.inter.json", text: "{\"0\": [1], \"1\": []}", expect: ["user \"1\": the item list is empty"]),
        SequenceErrorCase("JSON: item is a string", file: "Beauty.inter.json", text: "{\"0\": [\"3\"]}", expect: ["user \"0\": item at position 0 is the string \"3\", expected a non-negative integer"]),
        SequenceErrorCase("JSON: item has a fraction", file: "Beauty.inter.json", text: "{\"0\": [1, 2.5]}", expect: ["item at position 1 is 2.5"]),
        SequenceErrorCase("JSON: item is negative", file: "Beauty.inter.json", text: "{\"0\": [-1]}", expect: ["item at position 0 is -1"]),
        SequenceErrorCase("JSON: item not in the catalog", file: "Beauty.inter.json", text: "{\"4\": [1, 99999]}", itemCount: 12101,
                          expect: ["user \"4\": item 99999 is not in the catalog (12101 items)"]),
        SequenceErrorCase("JSON: the same user written twice", file: "Beauty.inter.json", text: "{\"1\": [1], \"01\": [2]}", expect: ["duplicate user 1, also given as"]),
    ]

    @Test("rejects", arguments: cases)
    func rejects(_ errorCase: SequenceErrorCase) throws {
        try errorCase.base.check { _ = try SequenceFile.read(at: $0, itemCount: errorCase.itemCount) }
    }
}
