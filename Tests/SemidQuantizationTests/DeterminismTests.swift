import Testing
@testable import SemidMath
@testable import SemidQuantization

/// Training and encoding give the same bits whatever the BLAS thread count and whichever
/// instruction path the fixed-order kernels take. (Other BLAS kernels and worker counts need
/// another process; the CLI tests and `make bench-portable` cover those.)
@Suite(.serialized) struct DeterminismTests {
    static let data = Fixtures.gaussian(n: 3000, d: 48, seed: 12)

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
