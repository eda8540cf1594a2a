import Foundation

/// A fresh directory under the system temporary directory, removed with everything in it when the
/// value goes away.
///
/// Non-copyable, so exactly one value owns the directory and its removal happens once, when that
/// value's scope ends.
public struct TemporaryDirectory: ~Copyable {
    /// Absolute path of the directory, without a trailing slash.
    public let path: String

    /// Creates the directory `semid-tests-<UUID>` under the system temporary directory.
    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("semid-tests-" + UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name` inside the directory and returns its path.
    @discardableResult
    public func write(_ bytes: [UInt8], to name: String) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    /// Writes UTF-8 `text` to `name` inside the directory and returns its path.
    @discardableResult
    public func write(_ text: String, to name: String) throws -> String {
        try write(Array(text.utf8), to: name)
    }

    /// Names of the entries in the directory (hidden ones included), sorted.
    public func entries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }
}
