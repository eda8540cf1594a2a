import Testing
@testable import SemidMath
@testable import SemidQuantization
import SemidTestSupport

@Suite struct ResidualKMeansTests {
    @Test func eachLevelLowersTheErrorAndReEncodingReproducesTheCodes() throws {
        let data = SyntheticData.gaussian(n: 900, d: 10, seed: 21)
        let trained = try ResidualKMeans.train(data, configuration: .init(levels: 3, codebookSize: 16), seed: 9)
        let errors = trained.report.levels.map(\.residualMeanSquaredNorm)
        #expect(errors[0] > errors[1] && errors[1] > errors[2])
        // Greedy encoding of the training data gives exactly the training codes.
        let again = try trained.quantizer.encode(data)
        #expect(again == trained.codes)
        // Reconstruction + residual = data.
        let recon = try trained.quantizer.reconstruct(trained.codes)
        for i in data.values.indices {
            #expect(abs(recon.values[i] + trained.residual.values[i] - data.values[i]) < 1e-4)
        }
    }

    @Test func greedyCodesAreNearestAtEveryLevel() throws {
        let data = SyntheticData.gaussian(n: 300, d: 5, seed: 2)
        let trained = try ResidualKMeans.train(data, configuration: .init(levels: 2, codebookSize: 8), seed: 1)
        let q = trained.quantizer
        for i in 0..<data.rows {
            var residual = data.row(i)
            for level in 0..<2 {
                var bestDistance = Float.infinity
                for j in 0..<8 {
                    var s: Float = 0
                    for t in 0..<5 { let v = residual[t] - q.codebooks[level][j, t]; s += v * v }
                    bestDistance = min(bestDistance, s)
                }
                var chosenDistance: Float = 0
                let chosen = Int(trained.codes[i, level])
                for t in 0..<5 { let v = residual[t] - q.codebooks[level][chosen, t]; chosenDistance += v * v }
                #expect(abs(chosenDistance - bestDistance) <= 1e-4 * max(1, bestDistance))
                for t in 0..<5 { residual[t] -= q.codebooks[level][chosen, t] }
            }
        }
    }

    @Test func lastLevelDistancesMatchTheChosenCode() throws {
        let data = SyntheticData.gaussian(n: 200, d: 6, seed: 3)
        let trained = try ResidualKMeans.train(data, configuration: .init(levels: 2, codebookSize: 8), seed: 4)
        let distances = try trained.quantizer.lastLevelDistances(data, codes: trained.codes)
        for i in 0..<data.rows {
            let row = (0..<8).map { distances[i, $0] }
            let chosen = Int(trained.codes[i, 1])
            #expect(row[chosen] <= (row.min() ?? 0) + 1e-4)
            // The chosen code's distance is the final squared residual.
            var r: Float = 0
            for t in 0..<6 { r += trained.residual[i, t] * trained.residual[i, t] }
            #expect(abs(row[chosen] - r) < 1e-3 * max(1, r))
        }
    }

    @Test func encodeRejectsWrongDimensionAndReconstructRejectsBadCodes() throws {
        let trained = try ResidualKMeans.train(SyntheticData.gaussian(n: 100, d: 4, seed: 1),
                                               configuration: .init(levels: 2, codebookSize: 4), seed: 1)
        #expect(throws: QuantizationError.dimensionMismatch(expected: 4, found: 3)) {
            _ = try trained.quantizer.encode(SyntheticData.gaussian(n: 2, d: 3, seed: 1))
        }
        #expect(throws: QuantizationError.codeOutOfRange(row: 0, level: 1, code: 4, codebookSize: 4)) {
            _ = try trained.quantizer.reconstruct(CodeMatrix(rows: 1, levels: 2, values: [0, 4]))
        }
    }

    @Test(arguments: [(0, 4, "levels"), (2, 1, "codebookSize"), (2, 200, "200 codes")])
    func invalidShapesAreRejected(levels: Int, codebookSize: Int, message: String) {
        #expect {
            _ = try ResidualKMeans.train(SyntheticData.gaussian(n: 100, d: 4, seed: 1),
                                        configuration: .init(levels: levels, codebookSize: codebookSize), seed: 1)
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
