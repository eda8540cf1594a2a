import Foundation
import SemidTestSupport
import Testing
@testable import SemidStorage

/// The Amazon Beauty (2014, 5-core) files, when they have been copied into the package at
/// `Datasets/amazon-beauty/`. They are not committed, so these tests skip when absent.
enum BeautyDataset {
    /// `<package root>/Datasets/amazon-beauty`.
    static let directory: String = PackagePaths.beautyDirectory

    static func file(_ name: String) -> String { directory + "/" + name }

    static func isPresent(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: file(name))
    }

    static let itemCount = 12_101
    static let userCount = 22_363
    static let interactionCount = 198_502
    static let embeddingDimension = 384
}

@Suite("Amazon Beauty dataset files")
struct BeautyDatasetTests {
    @Test("items.jsonl: 12101 dense items with titles and texts",
          .enabled(if: BeautyDataset.isPresent("items.jsonl"), "Datasets/amazon-beauty/items.jsonl is not present"))
    func items() throws {
        let path = BeautyDataset.file("items.jsonl")
        let items = try ItemCatalogFile.read(at: path)
        #expect(items.count == BeautyDataset.itemCount)
        try ItemCatalogFile.validateDense(items, startingAt: 0, source: path)
        #expect(items.first == ItemRecord(
            id: 0, sourceID: "B004756YJA",
            title: "OPI Nail Lacquer, Simmer and Shimmer, 0.5-Fluid Ounce",
            text: "OPI Nail Lacquer, Simmer and Shimmer, 0.5-Fluid Ounce"))
        #expect(items.allSatisfy { $0.sourceID != nil && $0.title != nil && $0.text?.isEmpty == false })
        let untitled = items.filter { $0.title == "" }.map(\.id)
        #expect(untitled == [494, 1453, 2014, 5335, 7405, 7409, 9177])
    }

    @Test("sequences.tsv: 22363 users in order, 198502 interactions, all items in the catalog",
          .enabled(if: BeautyDataset.isPresent("sequences.tsv"), "Datasets/amazon-beauty/sequences.tsv is not present"))
    func sequences() throws {
        let sequences = try SequenceFile.read(at: BeautyDataset.file("sequences.tsv"), itemCount: BeautyDataset.itemCount)
        #expect(sequences.count == BeautyDataset.userCount)
        #expect(sequences.map(\.user) == Array(0..<BeautyDataset.userCount))
        #expect(sequences.reduce(0) { $0 + $1.items.count } == BeautyDataset.interactionCount)
        #expect(sequences.first?.items == [0, 1, 2, 3, 4])
        #expect(sequences.map(\.items.count).min() == 5)
        #expect(sequences.map(\.items.count).max() == 204)
        var seen = [Bool](repeating: false, count: BeautyDataset.itemCount)
        for sequence in sequences { for item in sequence.items { seen[item] = true } }
        #expect(seen.allSatisfy { $0 }, "every item occurs in some sequence")
    }

    @Test("embeddings.npy: [12101, 384] float32 with unit-norm rows",
          .enabled(if: BeautyDataset.isPresent("embeddings.npy"), "Datasets/amazon-beauty/embeddings.npy is not present"))
    func embeddings() throws {
        let matrix = try NpyFile.readMatrix(at: BeautyDataset.file("embeddings.npy"))
        #expect(matrix.rows == BeautyDataset.itemCount)
        #expect(matrix.cols == BeautyDataset.embeddingDimension)
        var worst: Float = 0
        for row in 0..<matrix.rows {
            var sum: Float = 0
            for column in 0..<matrix.cols { sum += matrix[row, column] * matrix[row, column] }
            worst = max(worst, abs(sum.squareRoot() - 1))
        }
        #expect(worst < 1e-5, "largest deviation of a row norm from 1: \(worst)")
    }
}
