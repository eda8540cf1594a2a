import Foundation
import Testing
@testable import SemidMath
@testable import SemidQuantization
import SemidTestSupport

@Suite struct RQVAETrainingTests {
    static func configuration(epochs: Int = 6) -> RQVAE.Configuration {
        var c = RQVAE.Configuration(levels: 2, codebookSize: 8)
        c.latentDimension = 4
        c.hidden = [24, 12]
        c.epochs = epochs
        c.batchSize = 32
        c.evaluateEvery = 2
        c.optimizer.warmupSteps = 5
        c.optimizer.learningRate = 3e-3
        return c
    }

    /// 12 blobs in 16-d at unit scale (like normalised embeddings, not the fixture's ±10).
    static let data: Matrix = {
        var m = SyntheticData.blobs(clusters: 12, perCluster: 30, d: 16, noise: 0.5, seed: 4).data
        for i in m.values.indices { m.values[i] *= 0.1 }
        return m
    }()

    @Test func sameSeedGivesIdenticalWeightsAndCodesAndAnotherSeedDoesNot() throws {
        let a = try RQVAE.train(Self.data, configuration: Self.configuration(), seed: 3)
        let b = try RQVAE.train(Self.data, configuration: Self.configuration(), seed: 3)
        let c = try RQVAE.train(Self.data, configuration: Self.configuration(), seed: 4)
        #expect(a.quantizer.parameters == b.quantizer.parameters)
        #expect(a.codes == b.codes)
        #expect(a.report == b.report)
        #expect(a.quantizer.parameters != c.quantizer.parameters)
    }

    @Test func encodingReproducesTheTrainingCodesWhateverTheBLASThreadCount() throws {
        let trained = try RQVAE.train(Self.data, configuration: Self.configuration(), seed: 1)
        let q = trained.quantizer
        let one = try BLASRuntime.withThreadCount(1) { try q.encode(Self.data) }
        let two = try BLASRuntime.withThreadCount(2) { try q.encode(Self.data) }
        #expect(one == trained.codes)
        #expect(two == trained.codes)
        // Encoding rows one block at a time or all together gives the same codes.
        let firstHalf = try q.encode(Self.data.rows(0..<100))
        #expect(firstHalf == trained.codes.gatheringRows(Array(0..<100)))
    }

    @Test func trainingLowersTheLossAndKeepsCodesHealthy() throws {
        let trained = try RQVAE.train(Self.data, configuration: Self.configuration(epochs: 12), seed: 2)
        let h = trained.report.history
        #expect(h.count == 12)
        #expect(h.last!.reconstruction < 0.5 * h.first!.reconstruction)
        let final = try #require(h.last!.evaluation)
        #expect(final.utilization.allSatisfy { $0 >= 0.75 })
        #expect(final.relativeMse < 0.6)
        // The report's figures agree with the quantizer.
        let selected = try #require(h.first { $0.epoch == trained.report.selectedEpoch }?.evaluation)
        let recon = try trained.quantizer.reconstruct(trained.codes)
        let error = zip(recon.values, Self.data.values).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        #expect(abs(error - trained.evaluation.reconstructionError) < 1e-3 * error)
        let variance = Self.data.totalVariance
        #expect(abs(trained.report.final.relativeMse - error / Double(Self.data.rows) / variance) < 1e-4)
        // History evaluations use the training arithmetic (bfloat16 on AMX machines): close to fp32.
        #expect(abs(selected.relativeMse - trained.report.final.relativeMse) < 0.05 * trained.report.final.relativeMse)
        #expect(trained.report.precision == (BF16Matmul.isAvailable ? "bf16-amx" : "fp32"))
    }

    @Test func fp32TrainingIsAvailableEverywhereAndReproducible() throws {
        var c = Self.configuration()
        c.precision = .fp32
        let a = try RQVAE.train(Self.data, configuration: c, seed: 3)
        let b = try RQVAE.train(Self.data, configuration: c, seed: 3)
        #expect(a.report.precision == "fp32")
        #expect(a.quantizer.parameters == b.quantizer.parameters)
        #expect(a.report.history.last!.reconstruction < a.report.history.first!.reconstruction)
        if !BF16Matmul.isAvailable {
            c.precision = .bf16
            #expect(throws: QuantizationError.self) { try RQVAE.train(Self.data, configuration: c, seed: 3) }
        }
    }

    @Test func lastLevelDistancesAreLatentDistancesWhoseMinimumIsTheGreedyCode() throws {
        let trained = try RQVAE.train(Self.data, configuration: Self.configuration(), seed: 5)
        let q = trained.quantizer
        let distances = try q.lastLevelDistances(Self.data, codes: trained.codes)
        #expect(distances.rows == Self.data.rows && distances.cols == 8)
        let z = RQVAE.latents(Self.data, network: q.network, parameters: q.parameters)
        let books = (0..<2).map { q.codebook(level: $0) }
        for i in 0..<Self.data.rows {
            let row = distances.row(i)
            let best = row.indices.min { row[$0] < row[$1] }!
            #expect(abs(row[best] - row[Int(trained.codes[i, 1])]) <= 1e-5 * max(1, row[best]))
            // Direct check of one entry: ‖z − c₀[j₀] − c₁[3]‖².
            var s: Float = 0
            for t in 0..<4 {
                let r = z[i, t] - books[0][Int(trained.codes[i, 0]), t] - books[1][3, t]
                s += r * r
            }
            #expect(abs(s - row[3]) <= 1e-4 * max(1, s))
        }
    }

    @Test func deadCodesAreReseededOnlyWhenEnabled() throws {
        // 64 codes for 12 tight blobs: most codes die and must be re-seeded.
        var c = Self.configuration()
        c.codebookSizes = Array(repeating: 64, count: c.levels)
        c.deadCodeStopEpochs = 0
        let on = try RQVAE.train(Self.data, configuration: c, seed: 1)
        #expect(on.report.deadCodeResets.reduce(0, +) > 0)
        c.deadCodeSteps = 0
        let off = try RQVAE.train(Self.data, configuration: c, seed: 1)
        #expect(off.report.deadCodeResets == [0, 0])
    }

    @Test func checkpointRulePicksTheFewestCollisionsWithinTheTolerance() {
        let evals: [(epoch: Int, relativeMse: Double, collisionRate: Double)] = [
            (5, 0.50, 0.020), (10, 0.42, 0.015), (15, 0.40, 0.030), (20, 0.41, 0.010), (25, 0.44, 0.001),
        ]
        // Within 5 % of 0.40 (≤ 0.42): epochs 10, 15, 20 → fewest collisions at 20.
        #expect(RQVAE.select(evals, tolerance: 0.05) == 20)
        // Within 0 %: only the best reconstruction.
        #expect(RQVAE.select(evals, tolerance: 0) == 15)
        // Within 10 % (≤ 0.44): epoch 25 qualifies.
        #expect(RQVAE.select(evals, tolerance: 0.1) == 25)
        // Epoch 5 is dominated by 10 and 20 and can never be selected.
        #expect(RQVAE.paretoFront(evals) == [15, 20, 25])
    }

    @Test func patienceStopsTrainingEarly() throws {
        var c = Self.configuration(epochs: 40)
        c.evaluateEvery = 1
        c.patience = 2
        c.checkpointTolerance = 0
        let trained = try RQVAE.train(Self.data, configuration: c, seed: 1)
        let r = trained.report
        if r.stoppedEarly {
            #expect(r.epochsRun < 40)
            #expect(r.epochsRun - r.selectedEpoch == 2)
        } else {
            #expect(r.epochsRun == 40)
        }
    }

    @Test func invalidSettingsNameTheFlag() {
        var c = Self.configuration()
        c.latentDimension = 0
        #expect(throws: QuantizationError.invalidParameter(name: "latentDimension", value: "0", expected: "1 to 4096")) {
            try RQVAE.train(Self.data, configuration: c, seed: 1)
        }
        c = Self.configuration()
        c.codebookSizes = Array(repeating: 1000, count: c.levels)
        #expect(throws: QuantizationError.tooFewPoints(points: 360, clusters: 1000)) {
            try RQVAE.train(Self.data, configuration: c, seed: 1)
        }
        let q = try? RQVAE.train(Self.data, configuration: Self.configuration(epochs: 1), seed: 1).quantizer
        #expect(throws: QuantizationError.dimensionMismatch(expected: 16, found: 3)) {
            try q?.encode(Matrix(rows: 2, cols: 3))
        }
    }
}
