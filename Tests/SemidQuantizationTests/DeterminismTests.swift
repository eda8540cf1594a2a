import Testing
@testable import SemidMath
@testable import SemidQuantization
import SemidTestSupport

/// Training and encoding give the same bits whatever the BLAS thread count and whichever
/// instruction path the fixed-order kernels take. (Other BLAS kernels and worker counts need
/// another process; the CLI tests and `make bench-portable` cover those.)
@Suite(.serialized) struct DeterminismTests {
    static let data = SyntheticData.gaussian(n: 3000, d: 48, seed: 12)

    static func train() throws -> (quantizer: ResidualQuantizer, codes: CodeMatrix) {
        // Warm-up, k-means++, Lloyd, Hartigan and re-seeding all run at these sizes.
        let config = ResidualKMeans.Configuration(levels: 3, codebookSize: 64)
        let trained = try ResidualKMeans.train(data, configuration: config, seed: 5)
        return (trained.quantizer, trained.codes)
    }

    @Test func residualKMeansIsIdenticalForOneAndTwoBLASThreads() throws {
        let one = try BLASRuntime.withThreadCount(1) { try Self.train() }
        let two = try BLASRuntime.withThreadCount(2) { try Self.train() }
        #expect(one.quantizer == two.quantizer)
        #expect(one.codes == two.codes)
    }

    @Test func residualKMeansIsIdenticalOnBothInstructionPaths() throws {
        let fast = try Self.train()
        let baseline = try FixedOrder.withBaselinePath { try Self.train() }
        #expect(fast.quantizer == baseline.quantizer)
        #expect(fast.codes == baseline.codes)
    }

    @Test func encodingReproducesTheTrainingCodes() throws {
        let trained = try Self.train()
        #expect(try trained.quantizer.encode(Self.data) == trained.codes)
    }

    @Test func sinkhornIsIdenticalOnBothInstructionPaths() throws {
        let costs = Distances.squaredDistances(from: Self.data.rows(0..<200), to: Self.data.rows(200..<264))
        let fast = Sinkhorn.assign(costs: costs, configuration: .init())
        let baseline = FixedOrder.withBaselinePath {
            Sinkhorn.assign(costs: Distances.squaredDistances(from: Self.data.rows(0..<200), to: Self.data.rows(200..<264)),
                            configuration: .init())
        }
        #expect(fast == baseline)
    }
}

/// RQ-VAE inference is exact: the same weights give the same codes and reconstructions on both
/// instruction paths, and they agree with the fast training-arithmetic pass up to rounding.
@Suite(.serialized) struct RQVAEExactInferenceTests {
    static let data = SyntheticData.gaussian(n: 1500, d: 24, seed: 21)

    static func trained() throws -> RQVAE.Trained {
        var c = RQVAE.Configuration(levels: 3, codebookSize: 16)
        c.hidden = [32, 16]
        c.latentDimension = 8
        c.epochs = 4
        c.batchSize = 256
        return try RQVAE.train(Self.data, configuration: c, seed: 4)
    }

    @Test func bothInstructionPathsGiveTheSameCodesAndValues() throws {
        let trained = try Self.trained()
        let q = trained.quantizer
        let fast = (try q.encode(Self.data), try q.reconstruct(trained.codes),
                    try q.lastLevelDistances(Self.data, codes: trained.codes))
        let baseline = try FixedOrder.withBaselinePath {
            (try q.encode(Self.data), try q.reconstruct(trained.codes), try q.lastLevelDistances(Self.data, codes: trained.codes))
        }
        #expect(fast.0 == baseline.0)
        #expect(fast.1 == baseline.1)
        #expect(fast.2 == baseline.2)
        #expect(fast.0 == trained.codes, "the index's codes are the exact pass's")
    }

    @Test func theExactPassAgreesWithTheTrainingArithmetic() throws {
        let trained = try Self.trained()
        let q = trained.quantizer
        let exact = try q.evaluate(Self.data)
        let approximate = RQVAEQuantizer.evaluate(Self.data, network: q.network, parameters: q.parameters, reconstruct: true)
        var same = 0
        for i in 0..<Self.data.rows where Array(exact.codes.row(i)) == Array(approximate.codes.row(i)) { same += 1 }
        #expect(same >= Self.data.rows * 99 / 100, "\(same) of \(Self.data.rows) rows get the same codes")
        #expect(abs(exact.reconstructionError - approximate.reconstructionError) <= 1e-3 * approximate.reconstructionError)
        #expect(abs(exact.latentVariance - approximate.latentVariance) <= 1e-4 * approximate.latentVariance)
    }
}
