import Foundation
import SemidIndex
import SemidMath
import SemidQuantization
import SemidStorage
import SemidTestSupport
import Testing
@testable import SemidReport

/// The report page built from real (small) indexes on disk.
@Suite("HTML report page")
struct ReportPageTests {
    /// Clustered data `[rows, 8]`: 10 centres, noise 0.3.
    static func data(rows: Int, seed: UInt64 = 5) -> Matrix {
        SyntheticData.clustered(rows: rows, cols: 8, clusters: 10, noise: 0.3, seed: seed)
    }

    /// Builds and writes an index; item 0's title tries to inject markup.
    static func write(_ directory: borrowing TemporaryDirectory, name: String, configuration: BuildConfiguration, rows: Int = 200,
                      users: Bool = false) throws -> String {
        let items = (0..<rows).map { ItemRecord(id: $0, sourceID: "S\($0)", title: $0 == 0 ? "<script>alert(1)</script> & co" : "Item \($0)") }
        var (index, catalog) = try IndexBuilder.build(embeddings: data(rows: rows), items: items, inputs: [], configuration: configuration)
        let path = directory.file(name)
        try IndexStore.write(index, catalog: .new(catalog), to: path, overwrite: false)
        guard users else { return path }
        index = try IndexStore.open(at: path)
        var generator = SeededGenerator(seed: 9)
        let sequences = (0..<120).map { u in UserSequence(user: u, items: (0..<6).map { _ in generator.nextInt(below: rows) }) }
        var userConfiguration = UserIDConfiguration(levels: 2, codebookSize: 8)
        userConfiguration.seed = 1
        let (_, rowsOfUsers) = try UserIDBuilder.build(index: &index, sequences: sequences, itemVectors: data(rows: rows),
                                                       itemVectorsFingerprint: nil, textEmbeddings: nil, inputs: [],
                                                       configuration: userConfiguration)
        try IndexStore.write(index, catalog: .edited(path: path + "/" + IndexStore.catalogFile) { catalog in
            try catalog.createUsersTable(idLength: rowsOfUsers.first?.semanticID.count ?? 2, replace: true)
            try catalog.insertUsers(rowsOfUsers)
        }, to: path, overwrite: true)
        return path
    }

    /// `data-plot` ids of the page's figures.
    static func figureIDs(_ html: String) -> [String] {
        html.components(separatedBy: "data-plot=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }

    @Test("one index: every section's plots, readings, escaped titles, no scripts, an offline-only policy")
    func singleIndex() throws {
        let dir = try TemporaryDirectory()
        let path = try Self.write(dir, name: "small.semid", configuration: BuildConfiguration(levels: 3, codebookSize: 8, collisionPolicy: .suffix, seed: 2),
                                  users: true)
        let indexes = try HTMLReport.open([path])
        let html = HTMLReport.render(indexes)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("Content-Security-Policy") && html.contains("default-src 'none'"))
        #expect(!html.lowercased().contains("<script"), "the page never contains a script (item 0's title tries)")
        #expect(!html.contains("http://") || html.components(separatedBy: "http://").count - 1 == html.components(separatedBy: "xmlns=\"http://www.w3.org/2000/svg\"").count - 1,
                "the only URLs are the SVG namespace")
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"))
        let ids = Self.figureIDs(html)
        for expected in ["usage-level-1", "usage-level-3", "utilisation", "perplexity", "usage-map-0", "fan-out", "residual",
                         "group-sizes", "reconstruction-errors", "users-utilisation", "users-fan-out", "users-group-sizes",
                         "users-reconstruction-errors"] {
            #expect(ids.contains(expected), "figure \(expected) is missing (have \(ids))")
        }
        #expect(!ids.contains("headline"), "the side-by-side chart needs two indexes")
        #expect(html.components(separatedBy: "<p class=\"reading\">").count - 1 >= ids.count, "every figure has a reading")
        #expect(!html.contains("NaN") && !html.contains("inf<"))
        #expect(html.contains("Not shown: RQ-VAE training curves"))
    }

    @Test("compare: RQ-VAE curves, sinkhorn rounds, a table of figures side by side; the size does not grow with the items")
    func compare() throws {
        let dir = try TemporaryDirectory()
        var vae = BuildConfiguration(levels: 2, codebookSize: 8, collisionPolicy: .suffix, seed: 2)
        vae.method = .rqVAE
        vae.rqvae.epochs = 4
        vae.rqvae.evaluateEvery = 2
        vae.rqvae.hidden = [16]
        vae.rqvae.latentDimension = 4
        vae.rqvae.batchSize = 64
        let a = try Self.write(dir, name: "a.semid", configuration: BuildConfiguration(levels: 3, codebookSize: 16, collisionPolicy: .sinkhorn(.init()), seed: 2))
        let b = try Self.write(dir, name: "b.semid", configuration: vae)
        let html = HTMLReport.render(try HTMLReport.open([a, b]))
        let ids = Self.figureIDs(html)
        for expected in ["headline", "sinkhorn-rounds", "rqvae-losses-b.semid", "rqvae-collisions-b.semid", "rqvae-utilisation-b.semid",
                         "usage-map-0", "usage-map-1"] {
            #expect(ids.contains(expected), "figure \(expected) is missing (have \(ids))")
        }
        #expect(html.contains("Figures side by side"))

        // Ten times the items: the page hardly grows (everything plotted is aggregated).
        let big = try Self.write(dir, name: "big.semid", configuration: BuildConfiguration(levels: 2, codebookSize: 8, seed: 2), rows: 2_000)
        let small = try Self.write(dir, name: "small.semid", configuration: BuildConfiguration(levels: 2, codebookSize: 8, seed: 2), rows: 200)
        let bigSize = HTMLReport.render(try HTMLReport.open([big])).utf8.count
        let smallSize = HTMLReport.render(try HTMLReport.open([small])).utf8.count
        #expect(Double(bigSize) < 1.5 * Double(smallSize), "\(bigSize) bytes for 2,000 items vs \(smallSize) for 200")
    }

    @Test("errors of an index without the stored array: a note, or recomputed from the build's embeddings only")
    func recomputedErrors() throws {
        let dir = try TemporaryDirectory()
        let path = try Self.write(dir, name: "old.semid", configuration: BuildConfiguration(levels: 2, codebookSize: 8, seed: 2))
        // Make it look like an index from before the array: drop the array, record the embeddings' fingerprint.
        var index = try IndexStore.open(at: path)
        let embeddings = dir.file("emb.npy")
        try NpyFile.write(Self.data(rows: 200), to: embeddings)
        index.attachments.removeValue(forKey: ReconstructionErrors.itemArray)
        index.manifest.batches[0].inputs = [try InputFingerprint(role: "embeddings", path: embeddings, rows: 200, columns: 8)]
        try IndexStore.write(index, catalog: .extending(path: path + "/" + IndexStore.catalogFile, adding: []), to: path, overwrite: true)

        let without = HTMLReport.render(try HTMLReport.open([path]))
        #expect(without.contains("written before semid stored per-item errors"))
        #expect(!Self.figureIDs(without).contains("reconstruction-errors"))

        let with = HTMLReport.render(try HTMLReport.open([path], embeddings: try HTMLReport.Embeddings(path: embeddings)))
        #expect(Self.figureIDs(with).contains("reconstruction-errors"))
        #expect(with.contains("recomputed from emb.npy"))

        let other = dir.file("other.npy")
        try NpyFile.write(Self.data(rows: 200, seed: 6), to: other)
        do {
            _ = try HTMLReport.open([path], embeddings: try HTMLReport.Embeddings(path: other))
            Issue.record("embeddings that no index was built from were accepted")
        } catch {
            let message = String(describing: error)
            #expect(message.contains("other.npy") && message.contains("emb.npy"), "\(message)")
        }
    }

    @Test("names: directory names, made unique with parent directories or a number")
    func names() {
        #expect(HTMLReport.uniqueNames(["out/a.semid", "b.semid"]) == ["a.semid", "b.semid"])
        #expect(HTMLReport.uniqueNames(["x/a.semid", "y/a.semid"]) == ["x/a.semid", "y/a.semid"])
        #expect(HTMLReport.uniqueNames(["a.semid", "./a.semid"]) == ["a.semid", "a.semid (2)"])
        #expect(HTMLReport.uniqueNames(["/tmp/i/", "/tmp/j"]) == ["i", "j"])
    }

    @Test("more than four indexes, or none, is an error")
    func limits() throws {
        #expect(throws: IndexError.self) { try HTMLReport.open([]) }
        #expect(throws: IndexError.self) { try HTMLReport.open(["a", "b", "c", "d", "e"]) }
    }

    @Test("training readings judge a curve's end by its best values: noise is flat, an earlier peak is not still rising")
    func curveEndings() {
        typealias T = TrainingSection
        // Early stopping: the peak is 8 epochs before the end, the last step ticks up by noise.
        let ndcg = [0.01, 0.03, 0.04, 0.045, 0.05, 0.052, 0.0546, 0.054, 0.0538, 0.0541, 0.0539, 0.0542, 0.0543]
        #expect(T.ending(ndcg, lowerIsBetter: false) == .flat)
        #expect(T.ending(ndcg + [0.058], lowerIsBetter: false) == .improving)
        // Collisions: lowest in the middle, clearly higher at the end.
        #expect(T.ending([0.12, 0.01, 0.005, 0.0038, 0.004, 0.0045, 0.0047], lowerIsBetter: true) == .worsening)
        #expect(T.ending([1, 0.5, 0.4, 0.35, 0.3, 0.25], lowerIsBetter: true) == .improving)
        #expect(T.ending([1, 0.5, 0.4, 0.4, 0.4, 0.401], lowerIsBetter: true) == .flat)
        #expect(T.ending([0.5, 0.4, 0.3], lowerIsBetter: true) == .flat, "too few values")
        #expect(T.ending([], lowerIsBetter: true) == .flat)
    }
}
