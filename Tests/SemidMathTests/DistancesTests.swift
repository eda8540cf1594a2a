import Testing
@testable import SemidMath

@Suite struct DistancesTests {
    static func random(_ rows: Int, _ cols: Int, seed: UInt64, scale: Float = 1) -> Matrix {
        var rng = SeededGenerator(seed: seed)
        return Matrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in scale * rng.nextGaussian() })
    }

    /// The reference decision: float64 fixed-order distances, lowest index on ties.
    static func reference(_ points: Matrix, _ centroids: Matrix) -> (indices: [Int32], distances: [Double]) {
        let d = points.cols
        var indices: [Int32] = [], distances: [Double] = []
        points.values.withUnsafeBufferPointer { p in
            centroids.values.withUnsafeBufferPointer { c in
                for i in 0..<points.rows {
                    var best = 0, bestValue = Double.infinity
                    for j in 0..<centroids.rows {
                        let v = FixedOrder.exactSquaredDistance(p.baseAddress! + i * d, c.baseAddress! + j * d, count: d)
                        if v < bestValue { bestValue = v; best = j }
                    }
                    indices.append(Int32(best))
                    distances.append(bestValue)
                }
            }
        }
        return (indices, distances)
    }

    @Test func nearestMatchesBruteForceByHand() {
        // Three points, two centroids, distances computed by hand.
        let points = Matrix(rows: 3, cols: 2, values: [0, 0, 3, 4, 1, 1])
        let centroids = Matrix(rows: 2, cols: 2, values: [0, 1, 3, 3])
        let (idx, dist) = Distances.nearest(points, in: centroids)
        #expect(idx == [0, 1, 0])
        #expect(dist == [1, 1, 1])
    }

    @Test(arguments: [(2500, 37, 19), (3000, 256, 384), (700, 64, 1025)])
    func nearestEqualsTheExactReference(shape: (Int, Int, Int)) {
        let (n, k, d) = shape
        let points = Self.random(n, d, seed: 3), centroids = Self.random(k, d, seed: 4)
        let (idx, dist) = Distances.nearest(points, in: centroids)
        let ref = Self.reference(points, centroids)
        #expect(idx == ref.indices)
        #expect(dist == ref.distances.map { Float($0) })
    }

    @Test func nearTiesAndDuplicatesAreDecidedExactly() {
        // Points on the bisector of two centroids, nudged by a few ulps either way, and a centroid
        // repeated (ties go to the lower index).
        let d = 384
        var rng = SeededGenerator(seed: 11)
        let a = (0..<d).map { _ in rng.nextGaussian() }, b = (0..<d).map { _ in rng.nextGaussian() }
        var centroidValues = a + b + a   // centroid 2 duplicates centroid 0
        for _ in 0..<13 { centroidValues += (0..<d).map { _ in 5 + rng.nextGaussian() } }
        let centroids = Matrix(rows: 16, cols: d, values: centroidValues)
        var points: [Float] = []
        for i in 0..<400 {
            let t = Float(i % 21 - 10) * 1e-7
            for x in 0..<d {
                let mid = 0.5 * (a[x] + b[x])
                points.append(mid + t * (b[x] - a[x]) + (i % 2 == 0 ? 0 : Float(i % 7) * 1e-8))
            }
        }
        let p = Matrix(rows: 400, cols: d, values: points)
        let (idx, _) = Distances.nearest(p, in: centroids)
        let ref = Self.reference(p, centroids)
        #expect(idx == ref.indices)
        #expect(!idx.contains(2), "a duplicate centroid never wins over the lower index")
        #expect(Set(idx) == [0, 1], "both sides of the bisector occur")
    }

    @Test(arguments: [(8, Float(1)), (384, Float(1)), (768, Float(1e-3)), (4096, Float(1e3))])
    func theGEMMErrorBoundHolds(shape: (Int, Float)) {
        let (d, scale) = shape
        let points = Self.random(300, d, seed: 21, scale: scale), centroids = Self.random(40, d, seed: 22, scale: scale)
        let kappa = Distances.errorFactor(dimension: d)
        let cn = Distances.rowSquaredNorms(centroids), xn = Distances.rowSquaredNorms(points)
        var s = [Float](repeating: 0, count: 300 * 40)
        points.values.withUnsafeBufferPointer { p in
            centroids.values.withUnsafeBufferPointer { c in
                s.withUnsafeMutableBufferPointer { o in
                    BLAS.sgemm(transposeB: true, m: 300, n: 40, k: d, alpha: -2, a: p.baseAddress!, lda: d,
                               b: c.baseAddress!, ldb: d, c: o.baseAddress!, ldc: 40)
                }
            }
        }
        for i in 0..<300 {
            for j in 0..<40 {
                let e = Double(s[i * 40 + j] + cn[j])
                let exact = points.values.withUnsafeBufferPointer { p in
                    centroids.values.withUnsafeBufferPointer { c in
                        FixedOrder.exactSquaredDistance(p.baseAddress! + i * d, c.baseAddress! + j * d, count: d)
                    }
                }
                var xnExact = 0.0
                for t in 0..<d { xnExact += Double(points[i, t]) * Double(points[i, t]) }
                let root = Double(xn[i].squareRoot() + cn[j].squareRoot())
                #expect(abs(e - (exact - xnExact)) <= kappa * root * root)
            }
        }
    }

    @Test func decisionsDoNotDependOnTheGEMMRounding() {
        // Any scores within the bound (what another BLAS kernel could return) give the same decisions.
        let d = 96, k = 32
        let points = Self.random(500, d, seed: 31), centroids = Self.random(k, d, seed: 32)
        let (expected, _) = Distances.nearest(points, in: centroids)
        let cn = Distances.rowSquaredNorms(centroids), roots = cn.map { $0.squareRoot() }
        let kappa = Float(Distances.errorFactor(dimension: d))
        var rng = SeededGenerator(seed: 33)
        var candidates = [Int32](repeating: 0, count: k)
        for i in 0..<500 {
            let x = points.row(i)
            let xr = Distances.squaredNorm(x, count: d).squareRoot()
            var scores = [Float](repeating: 0, count: k)
            for j in 0..<k {
                var exact = 0.0
                for t in 0..<d { exact += Double(x[t]) * Double(centroids[j, t]) }
                // A perturbation of up to half the allowed error, in either direction.
                let t = xr + roots[j]
                let bound = 0.5 * kappa * t * t
                scores[j] = Float(-2 * exact) + (2 * rng.nextUnitFloat() - 1) * bound
            }
            let (j, _) = centroids.values.withUnsafeBufferPointer { c in
                Distances.decideNearest(scores: scores, norms: cn, roots: roots, count: k, point: x, pointRoot: xr,
                                        centroids: c.baseAddress!, dimension: d, factor: kappa, candidates: &candidates)
            }
            #expect(Int32(j) == expected[i])
        }
    }

    @Test func nearestDoesNotDependOnTheBLASThreadCount() {
        let points = Self.random(1500, 64, seed: 41), centroids = Self.random(100, 64, seed: 42)
        let one = BLASRuntime.withThreadCount(1) { Distances.nearest(points, in: centroids) }
        let two = BLASRuntime.withThreadCount(2) { Distances.nearest(points, in: centroids) }
        #expect(one.indices == two.indices && one.squaredDistances == two.squaredDistances)
    }

    @Test func squaredDistanceMatrixMatchesDirect() {
        let a = Matrix(rows: 2, cols: 3, values: [1, 2, 3, -1, 0, 2])
        let b = Matrix(rows: 2, cols: 3, values: [0, 0, 0, 1, 2, 2])
        let m = Distances.squaredDistances(from: a, to: b)
        #expect(m.values == [14, 1, 5, 8])
    }
}
