import Foundation
import Semid
import SemidTestSupport
import Testing

/// README's "Using semid from Swift" is Examples/GettingStarted/main.swift, and that program runs.
@Suite struct ReadmeExampleTests {
    static let root = PackagePaths.root

    /// The Swift code block under the README heading "Using semid from Swift".
    static func readmeExample() throws -> String? {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        guard let section = readme.range(of: "## Using semid from Swift") else { return nil }
        let rest = readme[section.upperBound...]
        guard let open = rest.range(of: "```swift\n") else { return nil }
        guard let close = rest[open.upperBound...].range(of: "\n```") else { return nil }
        return String(rest[open.upperBound..<close.lowerBound]) + "\n"
    }

    @Test func readmeShowsTheExampleProgram() throws {
        let example = try String(contentsOf: Self.root.appendingPathComponent("Examples/GettingStarted/main.swift"),
                                 encoding: .utf8)
        let block = try #require(try Self.readmeExample(), "README.md has no ```swift block under \"## Using semid from Swift\"")
        #expect(block == example, "README.md's example differs from Examples/GettingStarted/main.swift; copy one into the other")
    }

    /// Runs the built example on the bundled dataset: it builds, trains one epoch, and decodes 5 real items.
    @Test func exampleRunsOnTheBundledDataset() throws {
        let data = Self.root.appendingPathComponent("Datasets/amazon-beauty")
        guard FileManager.default.fileExists(atPath: data.appendingPathComponent("embeddings.npy").path) else { return }
        let binary = try #require(Self.exampleBinary(), "semid-example is not built next to the test runner")
        let directory = try TemporaryDirectory()
        let index = directory.file("example.semid")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [data.path, index]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.first == "built 12101 items, IDs of length 4, 12101 distinct")
        let ranked = lines.filter { $0.range(of: #"^[1-5]\. item [0-9]+  [0-9]+-[0-9]+-[0-9]+-[0-9]+  "#, options: .regularExpression) != nil }
        #expect(ranked.count == 5, "\(output)")
        // Decoded IDs are IDs of the index, and the history is excluded.
        let opened = try IndexStore.open(at: index)
        for line in ranked {
            let fields = line.split(separator: " ")
            let item = try #require(Int(fields[2]))
            #expect(item >= 0 && item < opened.itemCount && ![3, 11, 12].contains(item))
            let codes = fields[3].split(separator: "-").compactMap { Int32($0) }
            #expect(codes == Array(opened.ids.values[item * opened.ids.levels ..< (item + 1) * opened.ids.levels]))
        }
    }

    /// `semid-example` next to the test runner (the build products directory).
    static func exampleBinary() -> String? {
        var candidates: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("semid-example"))
        }
        if let first = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: first).deletingLastPathComponent().appendingPathComponent("semid-example"))
        }
        return candidates.map(\.standardizedFileURL.path).first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
