import Foundation
import SemidTestSupport
import Testing
@testable import SemidStorage

/// A bad-input case for a reader: a fixture file and the phrases its error must contain.
struct InputErrorCase: Sendable, CustomTestStringConvertible {
    /// What the case checks, shown in test output.
    var name: String
    /// The fixture's file name; the format is chosen from it.
    var fileName: String
    /// The fixture's bytes.
    var contents: [UInt8]
    /// Phrases that must all appear in the error's description (the file name is checked too).
    var expected: [String]

    init(_ name: String, file fileName: String, bytes contents: [UInt8], expect expected: [String]) {
        self.name = name
        self.fileName = fileName
        self.contents = contents
        self.expected = expected
    }

    init(_ name: String, file fileName: String, text: String, expect expected: [String]) {
        self.init(name, file: fileName, bytes: Array(text.utf8), expect: expected)
    }

    var testDescription: String { name }

    /// Writes the fixture to a temporary directory, runs `read` on its path and checks the error.
    func check(sourceLocation: SourceLocation = #_sourceLocation, _ read: (String) throws -> Void) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(contents, to: fileName)
        let error = #expect(throws: InputError.self, sourceLocation: sourceLocation) { try read(path) }
        guard let error else { return }
        #expect(error.source == path, sourceLocation: sourceLocation)
        let description = error.description
        #expect(description.contains(fileName), "\(description)", sourceLocation: sourceLocation)
        for phrase in expected {
            #expect(description.contains(phrase), "missing \"\(phrase)\" in: \(description)", sourceLocation: sourceLocation)
        }
    }
}
