import Foundation
import SemidMath
import SemidQuantization
import SemidStorage
import SemidTestSupport
import Testing
@testable import SemidIndex

/// Hand-made inputs for the index layer.
enum IndexFixture {
    /// Clustered Gaussian data `[rows, cols]`: `clusters` centres plus noise 0.2, from `seed`.
    static func embeddings(rows: Int, cols: Int, clusters: Int = 6, seed: UInt64 = 1) -> Matrix {
        SyntheticData.clustered(rows: rows, cols: cols, clusters: clusters, noise: 0.2, seed: seed)
    }

    /// Item records `0..<n` with source ids `S<i>` and titles `Item <i>` (item 3 untitled).
    static func items(_ n: Int) -> [ItemRecord] {
        (0..<n).map { ItemRecord(id: $0, sourceID: "S\($0)", title: $0 == 3 ? nil : "Item \($0)") }
    }

    /// A small index built in memory: `rows × 8` data, `levels × codebookSize` residual k-means.
    static func build(rows: Int = 60, levels: Int = 2, codebookSize: Int = 4, policy: CollisionPolicy = .suffix,
                      rowsPerShard: Int = 262_144, seed: UInt64 = 3) throws -> (index: SemanticIndex, catalog: [CatalogItem]) {
        var configuration = BuildConfiguration(levels: levels, codebookSize: codebookSize, collisionPolicy: policy, seed: seed)
        configuration.rowsPerShard = rowsPerShard
        return try IndexBuilder.build(embeddings: embeddings(rows: rows, cols: 8), items: items(rows), inputs: [],
                                      configuration: configuration)
    }

    /// A manifest for hand-made codes: `levels × codebookSize`, `policy`, `items` items, final IDs
    /// of `codeSizes.count` codes, and the given reconstruction statistics.
    static func manifest(items: Int, levels: Int, codebookSize: Int, policy: CollisionPolicy, codeSizes: [Int],
                         reconstruction: ReconstructionStatistics? = nil) -> IndexManifest {
        let stats = reconstruction ?? ReconstructionStatistics(
            vectors: items, meanSquaredError: 0.5, totalVariance: 2, relativeMse: 0.25,
            residualFractionByLevel: (0..<levels).map { 0.5 / Double($0 + 1) })
        return IndexManifest(
            format: IndexManifest.formatName, formatVersion: IndexManifest.currentFormatVersion, createdBy: "tests",
            parameters: BuildParameters(method: "rq-kmeans", codebookSizes: Array(repeating: codebookSize, count: levels), dimension: 2,
                                        collisionPolicy: policy, seed: 0, kmeans: nil, rowsPerShard: 100),
            items: items, idLength: codeSizes.count, codeSizes: codeSizes,
            statistics: BuildStatistics(kmeans: nil, rqvae: nil,
                                        collisions: .init(itemsMoved: 0, suffixSize: policy == .suffix ? codeSizes.last : nil, rounds: [])),
            batches: [Batch(batch: 0, operation: "build", firstItem: 0, items: items, inputs: [], reconstruction: stats)],
            shards: [], catalog: FileFingerprint(file: IndexStore.catalogFile, bytes: 0, sha256: ""), extensions: nil)
    }

    /// A resolution context that records an issue if a policy that should not need distances asks for them.
    static var noDistances: ResolutionContext {
        ResolutionContext { rows in
            Issue.record("the policy asked for last-level distances of \(rows.count) rows")
            return Matrix(rows: rows.count, cols: 1)
        }
    }

    /// A random `[rows, levels]` code matrix with codes in `0..<codebookSize` (few distinct rows
    /// when `codebookSize^levels` is small, so many duplicates).
    static func randomCodes(rows: Int, levels: Int, codebookSize: Int, generator: inout SeededGenerator) -> CodeMatrix {
        CodeMatrix(rows: rows, levels: levels,
                   values: (0..<(rows * levels)).map { _ in Int32(generator.nextInt(below: codebookSize)) })
    }
}

extension IndexStore {
    /// Rewrites the manifest of the index at `path` after `change`, as a writer would.
    static func editManifest(at path: String, _ change: (inout IndexManifest) -> Void) throws {
        var manifest = try readManifest(at: path)
        change(&manifest)
        try FileSystem.write(try encodeManifest(manifest), to: path + "/" + manifestFile, sync: false)
    }
}
