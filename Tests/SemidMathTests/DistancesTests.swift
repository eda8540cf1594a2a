import Testing
@testable import SemidMath

@Suite struct DistancesTests {
    @Test func nearestMatchesBruteForceByHand() {
        // Three points, two centroids, distances computed by hand.
        let points = Matrix(rows: 3, cols: 2, values: [0, 0, 3, 4, 1, 1])
        let centroids = Matrix(rows: 2, cols: 2, values: [0, 1, 3, 3])
        let (idx, dist) = Distances.nearest(points, in: centroids)
        #expect(idx == [0, 1, 0])
        #expect(abs(dist[0] - 1) < 1e-5)   // (0,0)-(0,1)
        #expect(abs(dist[1] - 1) < 1e-5)   // (3,4)-(3,3)
        #expect(abs(dist[2] - 1) < 1e-5)   // (1,1)-(0,1)
    }

    @Test func nearestMatchesScalarReferenceOnRandomData() {
        var rng = SeededGenerator(seed: 3)
        // More than one GEMM block so the parallel path runs.
        let n = 2500, k = 37, d = 19
        let points = Matrix(rows: n, cols: d, values: (0..<(n * d)).map { _ in rng.nextGaussian() })
        let centroids = Matrix(rows: k, cols: d, values: (0..<(k * d)).map { _ in rng.nextGaussian() })
        let (idx, dist) = Distances.nearest(points, in: centroids)
        for i in 0..<n {
            var bestJ = 0
            var bestV = Float.infinity
            for j in 0..<k {
                var s: Float = 0
                for t in 0..<d { let v = points[i, t] - centroids[j, t]; s += v * v }
                if s < bestV { bestV = s; bestJ = j }
            }
            // Ties within rounding may pick either; the distance must agree.
            #expect(abs(dist[i] - bestV) <= 1e-3 * max(1, bestV))
            if idx[i] != Int32(bestJ) {
                var s: Float = 0
                for t in 0..<d { let v = points[i, t] - centroids[Int(idx[i]), t]; s += v * v }
                #expect(abs(s - bestV) <= 1e-3 * max(1, bestV))
            }
        }
    }

    @Test func squaredDistanceMatrixMatchesDirect() {
        let a = Matrix(rows: 2, cols: 3, values: [1, 2, 3, -1, 0, 2])
        let b = Matrix(rows: 2, cols: 3, values: [0, 0, 0, 1, 2, 2])
        let m = Distances.squaredDistances(from: a, to: b)
        #expect(m.values.map { ($0 * 1000).rounded() / 1000 } == [14, 1, 5, 8])
    }
}
