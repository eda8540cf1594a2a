/// A failure of the storage layer that is not about the user's input: the disk, SQLite or zstd.
public enum StorageError: Error, CustomStringConvertible, Sendable {
    /// zstd refused to compress.
    case compression(String)
    /// A file system operation failed; `path` names the file.
    case fileSystem(path: String, message: String)
    /// SQLite reported an error.
    case sqlite(path: String, code: Int32, message: String)

    /// One line naming the file (or zstd) and the problem.
    public var description: String {
        switch self {
        case .compression(let message): return "zstd compression failed: \(message)"
        case let .fileSystem(path, message): return "\(path): \(message)"
        case let .sqlite(path, code, message): return "\(path): SQLite error \(code): \(message)"
        }
    }
}
