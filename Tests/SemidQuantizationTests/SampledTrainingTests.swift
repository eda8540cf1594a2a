import Testing
@testable import SemidMath
@testable import SemidQuantization
import SemidTestSupport

/// Training from the seeded sample only (``ResidualKMeans/train(sample:rows:items:configuration:seed:progress:)``)
/// against training on the whole input.
@Suite struct SampledTrainingTests {
    /// 3 levels of 4 codes, 16 points per code: every level trains on 64 of 2,000 rows.
    static let configuration: ResidualKMeans.Configuration = {
        var c = ResidualKMeans.Configuration(levels: 3, codebookSize: 4)
        c.kmeans.maxPointsPerCentroid = 16
        return c
    }()

    @Test func trainingRowsAreTheUnionOfEveryLevelsSeededSample() {
        let n = 2_000
        let rows = ResidualKMeans.trainingRows(items: n, configuration: Self.configuration, seed: 5)
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0 < $1 })
        #expect(rows.allSatisfy { (0..<n).contains($0) })
        // Each level's draw, repeated by hand, is inside the union, and the union is nothing more.
        var expected = Set<Int>()
        for level in 0..<3 {
            var generator = SeededGenerator(seed: 5).derived(UInt64(level))
            let drawn = generator.sample(64, from: n)
            #expect(drawn.count == 64)
            expected.formUnion(drawn)
        }
        #expect(Set(rows) == expected)
        #expect(rows.count > 64 && rows.count <= 192)
        #expect(ResidualKMeans.trainingRows(items: n, configuration: Self.configuration, seed: 5) == rows)
        #expect(ResidualKMeans.trainingRows(items: n, configuration: Self.configuration, seed: 6) != rows)
    }

    @Test func smallInputsTrainOnEveryRow() {
        // Amazon Beauty's shape: 12,101 items, K = 256, 512 points per code: no level samples.
        let beauty = ResidualKMeans.Configuration(levels: 3, codebookSize: 256)
        #expect(ResidualKMeans.trainingRows(items: 12_101, configuration: beauty, seed: 7) == Array(0..<12_101))
        var all = Self.configuration
        all.kmeans.maxPointsPerCentroid = 0
        #expect(ResidualKMeans.trainingRows(items: 300, configuration: all, seed: 1) == Array(0..<300))
        // Exactly K × points per code rows: still every row (the sample starts above that).
        #expect(ResidualKMeans.trainingRows(items: 64, configuration: Self.configuration, seed: 1) == Array(0..<64))
    }

    @Test(arguments: [UInt64(3), 11])
    func trainingOnTheSampleGivesTheQuantizerOfTheWholeInput(seed: UInt64) throws {
        let n = 2_000
        let data = SyntheticData.gaussian(n: n, d: 12, seed: seed)
        let whole = try ResidualKMeans.train(data, configuration: Self.configuration, seed: seed)
        let rows = ResidualKMeans.trainingRows(items: n, configuration: Self.configuration, seed: seed)
        #expect(rows.count < n / 5)
        let sampled = try ResidualKMeans.train(sample: data.gatheringRows(rows), rows: rows, items: n,
                                               configuration: Self.configuration, seed: seed)
        #expect(Self.bits(sampled.quantizer) == Self.bits(whole.quantizer))
        for (a, b) in zip(sampled.report.levels, whole.report.levels) {
            #expect(a.iterations == b.iterations && a.trainingPoints == b.trainingPoints && a.trainingPoints == 64)
            #expect(a.reseededClusters == b.reseededClusters)
        }
        // A larger sample (extra rows that no level draws) changes nothing either.
        let extra = Array(Set(rows).union(stride(from: 1, to: n, by: 7))).sorted()
        let wider = try ResidualKMeans.train(sample: data.gatheringRows(extra), rows: extra, items: n,
                                             configuration: Self.configuration, seed: seed)
        #expect(Self.bits(wider.quantizer) == Self.bits(whole.quantizer))
    }

    /// The in-memory path against the loop it replaced: each level fits k-means on all current
    /// residuals (sampling inside ``KMeans/fit(_:configuration:generator:stage:progress:)``).
    @Test func theInMemoryPathIsTheLevelLoopOverAllResiduals() throws {
        let n = 1_500
        let data = SyntheticData.gaussian(n: n, d: 9, seed: 4)
        let trained = try ResidualKMeans.train(data, configuration: Self.configuration, seed: 2)
        var residual = data
        var books: [Matrix] = []
        for level in 0..<3 {
            var generator = SeededGenerator(seed: 2).derived(UInt64(level))
            let fit = try KMeans.fit(residual, configuration: Self.configuration.kmeans, generator: &generator)
            let (labels, distances) = Distances.nearest(residual, in: fit.centroids)
            ResidualQuantizer.subtract(fit.centroids, labels: labels, from: &residual)
            for i in 0..<n { #expect(trained.codes[i, level] == labels[i]) }
            let mean = distances.reduce(0.0) { $0 + Double($1) } / Double(n)
            #expect(trained.report.levels[level].residualMeanSquaredNorm == mean)
            books.append(fit.centroids)
        }
        #expect(Self.bits(trained.quantizer) == books.map { $0.values.map(\.bitPattern) })
        #expect(trained.residual.values.map(\.bitPattern) == residual.values.map(\.bitPattern))
    }

    @Test func badSamplesAreRejectedWithTheirProblem() throws {
        let n = 2_000
        let data = SyntheticData.gaussian(n: n, d: 6, seed: 1)
        let rows = ResidualKMeans.trainingRows(items: n, configuration: Self.configuration, seed: 1)
        func problem(_ sample: Matrix, _ rows: [Int], items: Int = n) -> String {
            do {
                _ = try ResidualKMeans.train(sample: sample, rows: rows, items: items,
                                             configuration: Self.configuration, seed: 1)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        // A row missing from the sample.
        #expect(problem(data.gatheringRows(rows.dropLast()), Array(rows.dropLast())).contains("without row \(rows[rows.count - 1])"))
        // Sample and rows of different lengths.
        #expect(problem(data.gatheringRows(rows), Array(rows.dropFirst())).contains("one row per training row"))
        // Rows not ascending, or outside the input.
        #expect(problem(data.gatheringRows(rows), rows.reversed()).contains("ascending"))
        #expect(problem(data.gatheringRows(rows), rows.dropLast() + [n]).contains("ascending, unique rows in 0..<\(n)"))
        // A level that trains on every row needs every row.
        var all = Self.configuration
        all.kmeans.maxPointsPerCentroid = 0
        do {
            _ = try ResidualKMeans.train(sample: data.gatheringRows(rows), rows: rows, items: n, configuration: all, seed: 1)
            Issue.record("a partial sample was accepted for a level that trains on every row")
        } catch let error as QuantizationError {
            #expect(error.description.contains("trains on all \(n) items"))
        }
    }

    /// Every codebook value's bits, level by level.
    static func bits(_ quantizer: ResidualQuantizer) -> [[UInt32]] {
        quantizer.codebooks.map { $0.values.map(\.bitPattern) }
    }
}
