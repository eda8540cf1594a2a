import Foundation
import SemidFuzzing
import SemidTestSupport
import Testing

/// Replays the fuzzing inputs kept in the repository on every fuzz target: the seed corpora
/// (`Fuzz/corpus/TARGET/`, made from the test fixtures by `Fuzz/make-seeds.sh`) and every input a
/// fuzzing run found to crash, hang or exhaust memory before it was fixed (`Fuzz/regressions/TARGET/`).
/// A target that traps on one of them fails the whole test run, which is the point.
@Suite("fuzz corpora and regressions replay")
struct FuzzReplayTests {
    /// The repository's `Fuzz/` directory.
    static let fuzzDirectory: URL = PackagePaths.root.appendingPathComponent("Fuzz")

    /// The files of `Fuzz/KIND/TARGET/`, sorted by name.
    static func inputs(_ kind: String, _ target: FuzzTarget) -> [URL] {
        let directory = fuzzDirectory.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0) }
    }

    @Test("every target has a seed corpus", arguments: FuzzTarget.allCases)
    func seedCorpusExists(_ target: FuzzTarget) {
        #expect(Self.inputs("corpus", target).count >= 3, "Fuzz/corpus/\(target.rawValue) needs seeds (Fuzz/make-seeds.sh)")
    }

    @Test("seeds and regressions run without trapping", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) throws {
        for file in Self.inputs("corpus", target) + Self.inputs("regressions", target) {
            target.run(Array(try Data(contentsOf: file)))
        }
    }

    @Test("some seeds are accepted: the targets reach past the first check", arguments: FuzzTarget.allCases)
    func seedsAreAccepted(_ target: FuzzTarget) throws {
        let accepted = try Self.inputs("corpus", target).filter { target.accepts(Array(try Data(contentsOf: $0))) }
        #expect(!accepted.isEmpty, "no seed of \(target.rawValue) is valid input: the fuzzer would only exercise error paths")
    }

    @Test("the crafted inputs of issue 16 are refused", arguments: FuzzTarget.allCases)
    func issue16InputsAreRefused(_ target: FuzzTarget) throws {
        for file in Self.inputs("regressions", target) where file.lastPathComponent.hasPrefix("issue16-") {
            #expect(!target.accepts(Array(try Data(contentsOf: file))), "\(file.lastPathComponent) was accepted")
        }
    }
}
