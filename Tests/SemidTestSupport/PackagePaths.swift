import Foundation

/// Paths inside the package checkout the tests run from.
public enum PackagePaths {
    /// The package root: three levels above this file (`<root>/Tests/SemidTestSupport/PackagePaths.swift`).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The absolute path of `relative` (e.g. `"Codebooks/beauty.semid"`) inside the package root.
    public static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }

    /// The bundled Amazon Beauty dataset directory, `<root>/Datasets/amazon-beauty` (it may be
    /// absent from a checkout; see ``beautyFile(_:)``).
    public static let beautyDirectory: String = path("Datasets/amazon-beauty")

    /// The path of `name` in the Beauty dataset, or `nil` when that file is not in this checkout
    /// (tests that need it are then skipped).
    public static func beautyFile(_ name: String) -> String? {
        let file = beautyDirectory + "/" + name
        return FileManager.default.fileExists(atPath: file) ? file : nil
    }
}
