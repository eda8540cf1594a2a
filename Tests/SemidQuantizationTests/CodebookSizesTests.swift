import Foundation
import Testing
@testable import SemidMath
@testable import SemidQuantization
import SemidTestSupport

@Suite struct CodebookSizesTests {
    @Test func residualKMeansTrainsEachLevelWithItsOwnSize() throws {
        let data = SyntheticData.gaussian(n: 600, d: 6, seed: 4)
        let trained = try ResidualKMeans.train(data, configuration: .init(codebookSizes: [16, 8, 4]), seed: 2)
        #expect(trained.quantizer.codebooks.map(\.rows) == [16, 8, 4] && trained.quantizer.codebookSizes == [16, 8, 4])
        #expect(trained.quantizer.codebooks.allSatisfy { $0.cols == 6 })
        for i in 0..<data.rows {
            #expect(trained.codes[i, 0] < 16 && trained.codes[i, 1] < 8 && trained.codes[i, 2] < 4)
        }
        for (l, k) in [16, 8, 4].enumerated() {
            #expect(Set((0..<data.rows).map { trained.codes[$0, l] }).count == k, "level \(l) uses all its codes")
        }
        #expect(try trained.quantizer.encode(data) == trained.codes)
        // Level l of a 16,8,4 quantizer is the level a uniform run with that size would train there
        // only for level 0 (same data, same stream): the first codebook equals a 1 × 16 run's.
        let first = try ResidualKMeans.train(data, configuration: .init(codebookSizes: [16]), seed: 2)
        #expect(first.quantizer.codebooks[0] == trained.quantizer.codebooks[0])
        // Codes at a level above its size are rejected by reconstruct.
        #expect(throws: QuantizationError.codeOutOfRange(row: 0, level: 2, code: 4, codebookSize: 4)) {
            _ = try trained.quantizer.reconstruct(CodeMatrix(rows: 1, levels: 3, values: [15, 7, 4]))
        }
    }

    @Test func uniformConvenienceEqualsTheList() {
        #expect(ResidualKMeans.Configuration(levels: 3, codebookSize: 8) == ResidualKMeans.Configuration(codebookSizes: [8, 8, 8]))
        #expect(RQVAE.Configuration(levels: 2, codebookSize: 8) == RQVAE.Configuration(codebookSizes: [8, 8]))
        #expect(ResidualKMeans.Configuration(codebookSizes: [32, 8]).kmeans(level: 1).clusters == 8)
    }

    @Test(arguments: [([Int](), 10, "levels = 0"), ([8, 1], 10, "level 2"), ([8, 70_000], 100_000, "at most 65536"), ([4, 20], 10, "20 codes")])
    func invalidSizesAreRejected(sizes: [Int], items: Int, message: String) {
        #expect {
            try ResidualKMeans.Configuration.validate(codebookSizes: sizes, items: items)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func parseAndResolve() throws {
        #expect(CodebookSizes.parse("256") == [256])
        #expect(CodebookSizes.parse("1024,256, 256") == [1024, 256, 256])
        #expect(CodebookSizes.parse("1024,,256") == nil && CodebookSizes.parse("") == nil && CodebookSizes.parse("a") == nil)
        #expect(try CodebookSizes.resolve([256], levels: nil, defaultLevels: 3) == [256, 256, 256])
        #expect(try CodebookSizes.resolve([256], levels: 4, defaultLevels: 3) == [256, 256, 256, 256])
        #expect(try CodebookSizes.resolve([1024, 256, 256], levels: nil, defaultLevels: 2) == [1024, 256, 256])
        #expect(try CodebookSizes.resolve([1024, 256, 256], levels: 3, defaultLevels: 2) == [1024, 256, 256])
        #expect { try CodebookSizes.resolve([1024, 256], levels: 3, defaultLevels: 3) } throws: { error in
            "\(error)".contains("codebookSize") && "\(error)".contains("levels 3")
        }
        #expect { try CodebookSizes.resolve([8], levels: 0, defaultLevels: 3) } throws: { "\($0)".contains("levels = 0") }
        #expect(CodebookSizes.shape([256, 256, 256]) == "3 × 256" && CodebookSizes.shape([1024, 256]) == "1024/256")
        #expect(CodebookSizes.description([256, 256]) == "256" && CodebookSizes.description([16, 8]) == "16,8")
    }

    /// A section that records its sizes as the manifest does.
    struct Section: Codable, Equatable {
        var sizes: [Int]
        enum CodingKeys: String, CodingKey { case levels, codebookSize, codebookSizes }
        init(sizes: [Int]) { self.sizes = sizes }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            sizes = try CodebookSizes.decode(from: c, levels: .levels, size: .codebookSize, sizes: .codebookSizes)
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try CodebookSizes.encode(sizes, to: &c, levels: .levels, size: .codebookSize, sizes: .codebookSizes)
        }
    }

    func json(_ section: Section) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(section), as: UTF8.self)
    }

    func decode(_ text: String) throws -> Section {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Section.self, from: Data(text.utf8))
    }

    @Test func jsonKeepsTheUniformFormAndRoundTrips() throws {
        #expect(try json(Section(sizes: [256, 256, 256])) == #"{"codebook_size":256,"levels":3}"#)
        #expect(try json(Section(sizes: [1024, 256, 256])) == #"{"codebook_sizes":[1024,256,256],"levels":3}"#)
        for sizes in [[8], [8, 8], [1024, 256, 256], [2, 65_536]] {
            #expect(try decode(try json(Section(sizes: sizes))).sizes == sizes)
        }
        // Readers: codebook_sizes wins; its count must match levels; levels is bounded before any allocation.
        #expect(try decode(#"{"codebook_size":4,"codebook_sizes":[8,2],"levels":2}"#).sizes == [8, 2])
        #expect(throws: DecodingError.self) { try decode(#"{"codebook_sizes":[8,2],"levels":3}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"codebook_size":8,"levels":1000000000000}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"levels":2}"#) }
    }

    @Test func rqvaeTrainsPerLevelCodebooks() throws {
        let data = SyntheticData.gaussian(n: 200, d: 6, seed: 9)
        var c = RQVAE.Configuration(codebookSizes: [8, 4])
        c.hidden = [16]
        c.latentDimension = 4
        c.epochs = 3
        c.batchSize = 64
        c.precision = .fp32
        let trained = try RQVAE.train(data, configuration: c, seed: 3)
        let q = trained.quantizer
        #expect(q.codebookSizes == [8, 4] && q.network.totalCodes == 12)
        #expect(q.network.tensors.last?.shape == [12, 4], "non-uniform codebooks are stored [ΣK, m]")
        #expect(q.codebook(level: 0).rows == 8 && q.codebook(level: 1).rows == 4)
        for i in 0..<data.rows { #expect(trained.codes[i, 0] < 8 && trained.codes[i, 1] < 4) }
        #expect(try q.encode(data) == trained.codes)
        #expect(trained.report.final.utilization.count == 2)
        // The latent-space distances of the last level have one column per last-level code.
        #expect(try q.lastLevelDistances(data, codes: trained.codes).cols == 4)
    }
}
