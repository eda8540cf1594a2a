import SemidMath

/// Synthetic data for quantizer tests.
enum Fixtures {
    /// `clusters` well-separated Gaussian blobs in `d` dimensions, `perCluster` points each,
    /// with spread `noise` around centres at distance ~10 from each other.
    static func blobs(clusters: Int, perCluster: Int, d: Int, noise: Float = 0.05, seed: UInt64 = 1)
        -> (data: Matrix, labels: [Int], centres: Matrix)
    {
        var rng = SeededGenerator(seed: seed)
        var centres = Matrix(rows: clusters, cols: d)
        for i in centres.values.indices { centres.values[i] = 10 * rng.nextGaussian() }
        var data = Matrix(rows: clusters * perCluster, cols: d)
        var labels: [Int] = []
        for c in 0..<clusters {
            for p in 0..<perCluster {
                let row = c * perCluster + p
                for t in 0..<d { data[row, t] = centres[c, t] + noise * rng.nextGaussian() }
                labels.append(c)
            }
        }
        return (data, labels, centres)
    }

    /// `n` standard Gaussian vectors in `d` dimensions.
    static func gaussian(n: Int, d: Int, seed: UInt64) -> Matrix {
        var rng = SeededGenerator(seed: seed)
        return Matrix(rows: n, cols: d, values: (0..<(n * d)).map { _ in rng.nextGaussian() })
    }

    /// Sum of squared distances of each row to its nearest centroid (scalar reference).
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
}
