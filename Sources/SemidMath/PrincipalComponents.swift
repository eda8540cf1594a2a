/// The leading principal directions of a set of vectors: their mean and the top eigenvectors of
/// their covariance, in order of decreasing variance, the same on every machine.
///
/// The covariance is a fixed-order product (``FixedOrder/columnGram(_:)``); its leading
/// eigenvectors come from ``SubspaceIteration`` (or, when they are nearly all of them, from the
/// whole matrix by ``SymmetricEigen``). Projections are fixed-order products too, so everything
/// derived from them (the k-means warm-up) is reproducible on any CPU and BLAS kernel.
public struct PrincipalComponents: Sendable {
    /// The mean of the data, `d` values.
    public let mean: [Float]
    /// `[components, d]` row-major: row `i` is the `i`-th principal direction (unit length).
    public let basis: Matrix
    /// The variance along each direction, decreasing, `components` values.
    public let variances: [Float]

    /// Power iterations of the subspace iteration (enough for the leading directions the
    /// warm-up uses; they converge first).
    public static let iterations = 4
    /// Extra vectors carried by the subspace iteration beyond the components asked for.
    public static let oversampling = 16

    /// Fits the first `components` directions to the rows of `x` (`[n, d]`, `n ≥ 1`,
    /// `1 ≤ components ≤ d`).
    ///
    /// - Parameter generator: the random start of the subspace iteration.
    /// - Complexity: `n·d²/2` multiply-adds for the covariance, then
    ///   `(iterations + 2)·d²·(components + oversampling)` for the subspace iteration.
    public init(fitting x: Matrix, components: Int, generator: inout SeededGenerator) {
        let n = x.rows, d = x.cols
        precondition(components >= 1 && components <= d, "PrincipalComponents: components must be in 1…\(d)")
        var mean = [Float](repeating: 0, count: d)
        var centered = x
        x.values.withUnsafeBufferPointer { v in
            var acc = [Double](repeating: 0, count: d)
            for r in 0..<n { for j in 0..<d { acc[j] += Double(v[r * d + j]) } }
            for j in 0..<d { mean[j] = Float(acc[j] / Double(Swift.max(n, 1))) }
        }
        centered.values.withUnsafeMutableBufferPointer { c in
            for r in 0..<n { for j in 0..<d { c[r * d + j] -= mean[j] } }
        }
        var covariance = FixedOrder.columnGram(centered)
        let scale = 1 / Float(Swift.max(n, 1))
        for i in covariance.values.indices { covariance.values[i] *= scale }

        if components + Self.oversampling >= d {
            let eigen = SymmetricEigen(covariance)
            self.basis = eigen.vectors.rows(0..<components)
            self.variances = eigen.values.prefix(components).map { Swift.max(0, $0) }
        } else {
            let c = covariance
            let top = SubspaceIteration.topEigenpairs(
                size: d, count: components, oversampling: Self.oversampling, iterations: Self.iterations,
                generator: &generator) { block in FixedOrder.productTransposed(block, c) }
            self.basis = top.vectors
            self.variances = top.values.map { Swift.max(0, $0) }
        }
        self.mean = mean
    }

    /// Projects `x` (`[n, d]`) onto the first `components` directions: `(x − mean)·Wᵀ`,
    /// `[n, components]`, computed as the fixed-order product `x·Wᵀ` minus `mean·Wᵀ` (no centred
    /// copy of `x`).
    public func project(_ x: Matrix, components: Int) -> Matrix {
        let w = basis.rows(0..<components)
        var out = FixedOrder.productTransposed(x, w)
        let offsets = FixedOrder.productTransposed(Matrix(rows: 1, cols: mean.count, values: mean), w).values
        out.values.withUnsafeMutableBufferPointer { o in
            for r in 0..<x.rows { for j in 0..<components { o[r * components + j] -= offsets[j] } }
        }
        return out
    }
}
