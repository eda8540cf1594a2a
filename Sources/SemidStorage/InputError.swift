/// A problem with a file or value the user gave semid: it names the file, where in it (line,
/// field, row) and what was expected, in one line.
///
/// Readers throw this for anything that comes from outside the program, so the command-line tool
/// can print ``description`` and exit with status 1 instead of crashing.
public struct InputError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file the problem is in, as the user gave it (or a flag name such as `--levels`).
    public var source: String
    /// 1-based line number for text files, when known.
    public var line: Int?
    /// The field, key, column or row the problem concerns, when there is one.
    public var field: String?
    /// What is wrong and what was expected, e.g. `"expected an integer item id, found \"x\""`.
    public var problem: String

    /// Creates an error about `source`.
    public init(_ source: String, line: Int? = nil, field: String? = nil, _ problem: String) {
        self.source = source
        self.line = line
        self.field = field
        self.problem = problem
    }

    /// `source[:line][: field]: problem`
    public var description: String {
        var s = source
        if let line { s += ":\(line)" }
        if let field { s += ": \(field)" }
        return s + ": " + problem
    }
}
