import Foundation

/// The contents of a directory, for checking that two indexes are byte-identical or that a
/// failed write left one untouched.
public enum DirectorySnapshot {
    /// Every entry directly under `path` (hidden ones included), name → bytes. O(total bytes).
    public static func files(at path: String) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            out[name] = Array(try Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
        }
        return out
    }
}
