import SemidMath

/// Seeded synthetic matrices for tests: clustered embeddings, separated blobs, Gaussian noise.
///
/// Each function draws from its own ``SeededGenerator`` in a fixed order, so the same arguments
/// give the same values on every machine (tests compare against bytes they stored).
public enum SyntheticData {
    /// `[rows, cols]` row-major values around `clusters` centres: the centres are drawn first
    /// (standard normal, `clusters · cols` values), then each row picks a centre uniformly and adds
    /// `noise · N(0, 1)` to each coordinate. O(rows · cols).
    public static func clusteredValues(rows: Int, cols: Int, clusters: Int, noise: Float, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        let centers = (0..<(clusters * cols)).map { _ in generator.nextGaussian() }
        var values: [Float] = []
        values.reserveCapacity(rows * cols)
        for _ in 0..<rows {
            let c = generator.nextInt(below: clusters)
            for j in 0..<cols { values.append(centers[c * cols + j] + noise * generator.nextGaussian()) }
        }
        return values
    }

    /// ``clusteredValues(rows:cols:clusters:noise:seed:)`` as a matrix `[rows, cols]`.
    public static func clustered(rows: Int, cols: Int, clusters: Int, noise: Float, seed: UInt64) -> Matrix {
        Matrix(rows: rows, cols: cols, values: clusteredValues(rows: rows, cols: cols, clusters: clusters, noise: noise, seed: seed))
    }

    /// `clusters` well-separated Gaussian blobs in `d` dimensions, `perCluster` points each, in
    /// cluster order: centres `[clusters, d]` at scale 10, points `[clusters · perCluster, d]`
    /// with spread `noise`, and each point's cluster. O(clusters · perCluster · d).
    public static func blobs(clusters: Int, perCluster: Int, d: Int, noise: Float = 0.05, seed: UInt64 = 1)
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

    /// `count` values `scale · N(0, 1)` drawn from `generator`.
    public static func gaussianValues(_ count: Int, _ generator: inout SeededGenerator, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in scale * generator.nextGaussian() }
    }

    /// `count` standard Gaussian values from a generator seeded with `seed`.
    public static func gaussianValues(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return gaussianValues(count, &rng)
    }

    /// `[n, d]` standard Gaussian values.
    public static func gaussian(n: Int, d: Int, seed: UInt64) -> Matrix {
        var rng = SeededGenerator(seed: seed)
        return Matrix(rows: n, cols: d, values: gaussianValues(n * d, &rng))
    }
}
