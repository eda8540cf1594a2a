import Testing
@testable import SemidMath
@testable import SemidQuantization
import SemidTestSupport

@Suite struct KMeansTests {
    /// Sum of squared distances of each row of `data` to its nearest row of `centroids`, in Double
    /// by plain loops (the reference for k-means' objective). O(rows · k · d).
    static func sse(_ data: Matrix, _ centroids: Matrix) -> Double {
        var total = 0.0
        for i in 0..<data.rows {
            var best = Double.infinity
            for j in 0..<centroids.rows {
                var s = 0.0
                for t in 0..<data.cols { let v = Double(data[i, t] - centroids[j, t]); s += v * v }
                best = min(best, s)
            }
            total += best
        }
        return total
    }

    @Test func recoversWellSeparatedClustersExactly() throws {
        let (data, labels, _) = SyntheticData.blobs(clusters: 5, perCluster: 40, d: 6)
        var rng = SeededGenerator(seed: 3)
        let fit = try KMeans.fit(data, configuration: .init(clusters: 5, refinementPasses: 0), generator: &rng)
        let (assigned, _) = Distances.nearest(data, in: fit.centroids)
        // The partition must equal the true one up to renaming.
        var mapping: [Int: Int32] = [:]
        for (i, l) in labels.enumerated() {
            if let m = mapping[l] { #expect(m == assigned[i]) } else { mapping[l] = assigned[i] }
        }
        #expect(Set(mapping.values).count == 5)
        #expect(fit.meanSquaredError < 6 * 0.05 * 0.05 * 1.5)
    }

    @Test func tinyCaseByHand() throws {
        // Two obvious pairs on a line: centroids must be their midpoints.
        let data = Matrix(rows: 4, cols: 1, values: [0, 2, 10, 12])
        var rng = SeededGenerator(seed: 1)
        let fit = try KMeans.fit(data, configuration: .init(clusters: 2, refinementPasses: 0), generator: &rng)
        let sorted = fit.centroids.values.sorted()
        #expect(sorted == [1, 11])
        #expect(abs(fit.meanSquaredError - 1) < 1e-6)
    }

    @Test func sameSeedSameCentroidsDifferentSeedDifferent() throws {
        let data = SyntheticData.gaussian(n: 600, d: 12, seed: 4)
        let config = KMeans.Configuration(clusters: 16)
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7), c = SeededGenerator(seed: 8)
        let fa = try KMeans.fit(data, configuration: config, generator: &a)
        let fb = try KMeans.fit(data, configuration: config, generator: &b)
        let fc = try KMeans.fit(data, configuration: config, generator: &c)
        #expect(fa.centroids == fb.centroids)
        #expect(fa.centroids != fc.centroids)
    }

    @Test func everyClusterIsUsedEvenWithDuplicatePoints() throws {
        // 10 distinct points, each repeated 20 times, and 10 clusters: empty clusters must be
        // re-seeded until every distinct point has its own centroid.
        var values: [Float] = []
        for p in 0..<10 { for _ in 0..<20 { values += [Float(p * p), Float(p)] } }
        let data = Matrix(rows: 200, cols: 2, values: values)
        var rng = SeededGenerator(seed: 2)
        let fit = try KMeans.fit(data, configuration: .init(clusters: 10, initialization: .random), generator: &rng)
        let (assigned, distances) = Distances.nearest(data, in: fit.centroids)
        #expect(Set(assigned).count == 10)
        #expect(distances.allSatisfy { $0 < 1e-6 })
    }

    @Test func hartiganPassNeverIncreasesTheError() throws {
        for seed in UInt64(1)...5 {
            let data = SyntheticData.gaussian(n: 400, d: 8, seed: seed)
            var rng = SeededGenerator(seed: seed)
            var config = KMeans.Configuration(clusters: 20, refinementPasses: 0)
            config.warmupDimensions = []
            let fit = try KMeans.fit(data, configuration: config, generator: &rng)
            var centroids = fit.centroids
            var (labels, _) = Distances.nearest(data, in: centroids)
            // The Hartigan objective is the SSE of the current partition around its means.
            func partitionSSE(_ labels: [Int32]) -> Double {
                var sums = [[Double]](repeating: [Double](repeating: 0, count: 8), count: 20)
                var counts = [Int](repeating: 0, count: 20)
                for i in 0..<data.rows { counts[Int(labels[i])] += 1; for t in 0..<8 { sums[Int(labels[i])][t] += Double(data[i, t]) } }
                var total = 0.0
                for i in 0..<data.rows {
                    let l = Int(labels[i])
                    for t in 0..<8 { let v = Double(data[i, t]) - sums[l][t] / Double(counts[l]); total += v * v }
                }
                return total
            }
            let before = partitionSSE(labels)
            let moved = KMeans.hartiganPass(data, centroids: &centroids, labels: &labels)
            let after = partitionSSE(labels)
            #expect(after <= before + 1e-6 * before)
            if moved > 0 { #expect(after < before) }
        }
    }

    @Test func refinementLowersErrorOnSmallClusters() throws {
        let data = SyntheticData.gaussian(n: 1200, d: 16, seed: 11)
        var config = KMeans.Configuration(clusters: 60)
        config.refinementPasses = 0
        var r1 = SeededGenerator(seed: 5), r2 = SeededGenerator(seed: 5)
        let plain = try KMeans.fit(data, configuration: config, generator: &r1)
        config.refinementPasses = 4
        let refined = try KMeans.fit(data, configuration: config, generator: &r2)
        #expect(Self.sse(data, refined.centroids) < Self.sse(data, plain.centroids))
    }

    @Test func subsamplingBoundsTheTrainingSet() throws {
        let data = SyntheticData.gaussian(n: 2000, d: 4, seed: 1)
        var rng = SeededGenerator(seed: 1)
        let fit = try KMeans.fit(data, configuration: .init(clusters: 8, maxPointsPerCentroid: 10), generator: &rng)
        #expect(fit.trainingPoints == 80)
        var rng2 = SeededGenerator(seed: 1)
        let all = try KMeans.fit(data, configuration: .init(clusters: 8, maxPointsPerCentroid: 0), generator: &rng2)
        #expect(all.trainingPoints == 2000)
    }

    @Test(arguments: [
        (KMeans.Configuration(clusters: 0), "clusters"),
        (KMeans.Configuration(clusters: 4, iterations: -1), "iterations"),
        (KMeans.Configuration(clusters: 4, tolerance: -1), "tolerance"),
        (KMeans.Configuration(clusters: 4, restarts: 0), "restarts"),
        (KMeans.Configuration(clusters: 4, refinementPasses: -2), "refinement"),
    ])
    func invalidConfigurationsAreRejected(config: KMeans.Configuration, name: String) {
        var rng = SeededGenerator(seed: 1)
        #expect {
            _ = try KMeans.fit(SyntheticData.gaussian(n: 50, d: 3, seed: 1), configuration: config, generator: &rng)
        } throws: { error in
            "\(error)".contains(name)
        }
    }

    @Test func moreClustersThanPointsIsAnError() {
        var rng = SeededGenerator(seed: 1)
        #expect(throws: QuantizationError.tooFewPoints(points: 5, clusters: 8)) {
            _ = try KMeans.fit(SyntheticData.gaussian(n: 5, d: 3, seed: 1), configuration: .init(clusters: 8), generator: &rng)
        }
    }

    @Test func automaticWarmupSchedule() {
        #expect(KMeans.automaticWarmup(dimension: 384) == [4, 8, 16, 32, 64])
        #expect(KMeans.automaticWarmup(dimension: 768) == [4, 8, 16, 32, 64])
        #expect(KMeans.automaticWarmup(dimension: 100) == [4, 8, 16, 32])
        #expect(KMeans.automaticWarmup(dimension: 32) == [4, 8, 16])
        #expect(KMeans.automaticWarmup(dimension: 6) == [])
    }
}
