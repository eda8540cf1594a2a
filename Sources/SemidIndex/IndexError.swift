/// Problems with an index directory or an operation on it.
public enum IndexError: Error, CustomStringConvertible, Sendable {
    /// The path exists and overwriting was not requested.
    case outputExists(path: String)
    /// The path is not an index (no manifest).
    case notAnIndex(path: String)
    /// The manifest was written by a newer semid.
    case newerFormat(path: String, found: Int, supported: Int)
    /// A shard's size or checksum disagrees with the manifest.
    case checksumMismatch(path: String, expected: String, found: String)
    /// The index content is inconsistent (e.g. a shard's shape disagrees with the manifest).
    case corrupted(path: String, problem: String)
    /// Inputs disagree with each other or with the index.
    case inconsistentInput(String)
    /// A setting is out of range: `name` is the configuration's property (e.g. `collaborative.dimension`).
    case invalidParameter(name: String, value: String, expected: String)
    /// A build setting (`neededBy`, e.g. `source collaborative`) needs an input that was not given
    /// (`input`: `embeddings`, `sequences`, or `items or embeddings`).
    case missingInput(input: String, neededBy: String)

    /// One line naming the path and the problem, with the fix when there is one.
    public var description: String {
        switch self {
        case .outputExists(let path):
            return "\(path) already exists; choose another output or set overwrite to replace it"
        case .notAnIndex(let path):
            return "\(path) is not a semid index (no manifest.json)"
        case let .newerFormat(path, found, supported):
            return "\(path): index format version \(found) is newer than this semid reads (up to \(supported)); upgrade semid"
        case let .checksumMismatch(path, expected, found):
            return "\(path): checksum mismatch (manifest says sha256 \(expected), file has \(found)); the file is corrupted or was modified"
        case let .corrupted(path, problem):
            return "\(path): \(problem)"
        case .inconsistentInput(let message):
            return message
        case let .invalidParameter(name, value, expected):
            return "\(name) must be \(expected) (got \(value))"
        case let .missingInput(input, neededBy):
            return neededBy.isEmpty ? "give the \(input)" : "\(neededBy) needs the \(input)"
        }
    }
}
