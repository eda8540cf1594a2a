import Foundation
import SemidMath
import SemidQuantization
import SemidStorage
import SemidTestSupport
import Testing
@testable import SemidIndex

@Suite("per-level codebook sizes in an index")
struct PerLevelSizesIndexTests {
    static func build(sizes: [Int], policy: CollisionPolicy = .suffix, rows: Int = 200) throws -> (index: SemanticIndex, catalog: [CatalogItem]) {
        let configuration = BuildConfiguration(codebookSizes: sizes, collisionPolicy: policy, seed: 5)
        return try IndexBuilder.build(embeddings: IndexFixture.embeddings(rows: rows, cols: 8), items: IndexFixture.items(rows),
                                      inputs: [], configuration: configuration)
    }

    @Test("write → open of an index with per-level sizes: sizes, codebooks [ΣK, d], codes and quantizer come back", arguments: [
        CollisionPolicy.suffix, .none, .sinkhorn(.init()),
    ])
    func roundTrip(policy: CollisionPolicy) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("nu.semid")
        // sinkhorn keeps the ID length, so it needs room under every prefix: the widest level last.
        let sizes = policy == .none || policy == .suffix ? [16, 8, 4] : [16, 8, 16]
        let (built, catalog) = try Self.build(sizes: sizes, policy: policy)
        let written = try IndexStore.write(built, catalog: .new(catalog), to: path, overwrite: false)
        let opened = try IndexStore.open(at: path)
        #expect(opened.manifest == written && opened.manifest.parameters.codebookSizes == sizes)
        #expect(Array(opened.manifest.codeSizes.prefix(3)) == sizes)
        let codebookShapes: [[Int]] = written.shards.filter { $0.array == "codebooks" }.map { $0.shape }
        #expect(codebookShapes == [[sizes.reduce(0, +), 8]])
        let q = try #require(opened.quantizer as? ResidualQuantizer)
        #expect(q == built.quantizer as? ResidualQuantizer && q.codebookSizes == sizes)
        #expect(try q.encode(IndexFixture.embeddings(rows: 200, cols: 8)) == opened.rawCodes)
        #expect(opened.ids == built.ids)
        for i in 0..<opened.itemCount {
            for (l, k) in opened.manifest.codeSizes.enumerated() { #expect((0..<Int32(k)).contains(opened.ids[i, l])) }
        }
        if policy != .none {
            #expect(Set((0..<opened.itemCount).map { Array(opened.ids.row($0)) }).count == opened.itemCount)
        }
        let text = String(decoding: try IndexStore.encodeManifest(written), as: UTF8.self)
        #expect(text.contains(#""codebook_sizes" : ["#) && !text.contains(#""codebook_size" :"#))
        #expect(try IndexStore.decodeManifest(try IndexStore.encodeManifest(written), file: "m") == written)
        // The collision report follows the levels' sizes.
        let report = CollisionReport(manifest: opened.manifest, rawCodes: opened.rawCodes, finalIDs: opened.ids) { _ in [:] }
        #expect(report.codebookSize == nil && report.codebookSizes == sizes)
        #expect(report.perLevel.map { $0.codebookSize } == sizes)
        #expect(report.perLevel.map { $0.usedCodes + $0.deadCodes } == sizes)
    }

    @Test("a uniform build's manifest keeps the single codebook_size and no codebook_sizes")
    func uniformManifest() throws {
        let (built, _) = try Self.build(sizes: [8, 8, 8])
        let text = String(decoding: try IndexStore.encodeManifest(built.manifest), as: UTF8.self)
        #expect(text.contains(#""codebook_size" : 8"#) && !text.contains("codebook_sizes"))
        #expect(built.manifest.parameters.kmeans?.clusters == 8)
    }

    @Test("manifests whose sizes disagree are refused with the field named", arguments: [
        ([16, 8], "parameters.codebook_sizes"),
        ([16, 8, 70_000], "parameters.codebook_sizes[2]"),
        ([16, 4, 4], "code_sizes[1]"),
    ])
    func inconsistentManifest(sizes: [Int], field: String) throws {
        let (built, _) = try Self.build(sizes: [16, 8, 4])
        let bytes = try IndexStore.encodeManifest(built.manifest)
        var object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] ?? [:]
        var parameters = object["parameters"] as? [String: Any] ?? [:]
        parameters["codebook_sizes"] = sizes
        object["parameters"] = parameters
        let edited = Array(try JSONSerialization.data(withJSONObject: object))
        #expect {
            _ = try IndexStore.decodeManifest(edited, file: "manifest.json")
        } throws: { error in
            "\(error)".contains("manifest.json") && "\(error)".contains(field)
        }
    }
}
