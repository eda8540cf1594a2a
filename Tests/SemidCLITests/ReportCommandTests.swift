import Foundation
import SemidTestSupport
import Testing

/// `semid report` through the real binary: the file, the message, and its errors.
@Suite("semid report")
struct ReportCommandTests {
    /// Builds the standard synthetic index into `dir` as `name` and returns its path.
    static func build(_ dir: borrowing TemporaryDirectory, _ name: String, extra: [String] = []) throws -> String {
        let embeddings = try dir.write(Fixture.embeddingsFile, to: "emb.npy")
        let items = try dir.write(Fixture.itemsFile, to: "items.jsonl")
        let out = dir.file(name)
        try Semid.succeed(["build", "--embeddings", embeddings, "--items", items, "--out", out] + Fixture.smallBuild + extra)
        return out
    }

    @Test("writes one self-contained HTML file and says where, how big and how long")
    func writes() throws {
        let dir = try TemporaryDirectory()
        let a = try Self.build(dir, "a.semid")
        let b = try Self.build(dir, "b.semid", extra: ["--codebook-size", "16", "--collisions", "sinkhorn", "--seed", "4"])
        let out = dir.file("report.html")
        let result = try Semid.succeed(["report", a, "--compare", b, "--out", out, "--quiet"])
        #expect(result.stdout.hasPrefix("wrote \(out) (") && result.stdout.contains("2 indexes"), "\(result)")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
        #expect(html.contains("data-plot=\"sinkhorn-rounds\"") && html.contains("data-plot=\"headline\""))
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("@import"))
        #expect(try dir.entries().filter { $0.hasPrefix(".report.html") }.isEmpty, "no temporary file is left behind")

        // An existing file needs --force.
        Semid.expectFailure(try Semid.run(["report", a, "--out", out]), status: 1, mentions: [out, "--force"])
        try Semid.succeed(["report", a, "--out", out, "--force", "--quiet"])
    }

    @Test("bad input: a missing index, too many to compare, a directory as --out, foreign embeddings")
    func errors() throws {
        let dir = try TemporaryDirectory()
        let a = try Self.build(dir, "a.semid")
        Semid.expectFailure(try Semid.run(["report", dir.file("nope.semid"), "--out", dir.file("r.html")]), status: 1,
                            mentions: ["nope.semid", "not found"])
        Semid.expectFailure(try Semid.run(["report", a, "--compare", a, a, a, a, "--out", dir.file("r.html")]), status: 2,
                            mentions: ["--compare", "at most 3"])
        Semid.expectFailure(try Semid.run(["report", a, "--out", dir.path]), status: 1, mentions: ["is a directory"])
        Semid.expectFailure(try Semid.run(["report", a, "--out", dir.file("r.html"), "--groups", "-1"]), status: 2, mentions: ["--groups"])
        #expect(!FileManager.default.fileExists(atPath: dir.file("r.html")), "no report after a failure")
        // The index stores its errors, so --embeddings is not needed and not checked.
        try Semid.succeed(["report", a, "--out", dir.file("r.html"), "--embeddings", dir.file("emb.npy"), "--quiet"])
    }
}
