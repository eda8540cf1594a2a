import CSemidKernels

/// Squared Euclidean distances computed as `‖x‖² − 2·x·c + ‖c‖²`, with the cross term by `sgemm`,
/// and nearest-centroid decisions that are exact and the same on every machine.
///
/// Points are processed in blocks of ``blockRows`` rows; each block's `[rows, k]` product is a
/// single GEMM, so no Swift loop ever runs over (point, centroid) pairs doing `d` multiplications.
/// GEMM only proposes: ``nearest(_:in:centroidNorms:pointNorms:)`` bounds its rounding error and
/// settles every close call with a fixed-order float64 computation.
public enum Distances {
    /// Rows per GEMM block: large enough for BLAS efficiency, small enough to stay in cache.
    public static let blockRows = 1024

    /// The squared L2 norm of every row of `x` (`[n, d]` → `n` values).
    public static func rowSquaredNorms(_ x: Matrix) -> [Float] {
        rowSquaredNorms(x.values, rows: x.rows, cols: x.cols)
    }

    /// The squared L2 norm of every row of a row-major `[rows, cols]` buffer.
    public static func rowSquaredNorms(_ values: [Float], rows: Int, cols: Int) -> [Float] {
        var norms = [Float](repeating: 0, count: rows)
        values.withUnsafeBufferPointer { v in
            norms.withUnsafeMutableBufferPointer { out in
                for r in 0..<rows {
                    out[r] = squaredNorm(v.baseAddress! + r * cols, count: cols)
                }
            }
        }
        return norms
    }

    /// `‖v‖²` over `count` values, with eight independent accumulators.
    @inlinable
    public static func squaredNorm(_ v: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            let x = UnsafeRawPointer(v + i).loadUnaligned(as: SIMD8<Float>.self)
            acc += x * x
            i += 8
        }
        var tail: Float = 0
        while i < count { tail += v[i] * v[i]; i += 1 }
        return acc.sum() + tail
    }

    /// `‖a − b‖²` over `count` values.
    @inlinable
    public static func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
                - UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            acc += x * x
            i += 8
        }
        var tail: Float = 0
        while i < count { let t = a[i] - b[i]; tail += t * t; i += 1 }
        return acc.sum() + tail
    }

    /// The full `[n, k]` matrix of squared distances between the rows of `points` and `centroids`
    /// (both `[·, d]`), `‖x‖² − 2·x·c + ‖c‖²` with the cross term by ``FixedOrder``, so every value
    /// is the same on every CPU. Values are clamped at zero against rounding.
    ///
    /// Complexity: `n·k·d` multiply-adds (fixed-order kernels, all cores).
    public static func squaredDistances(from points: Matrix, to centroids: Matrix) -> Matrix {
        precondition(points.cols == centroids.cols)
        let pn = rowSquaredNorms(points)
        let cn = rowSquaredNorms(centroids)
        var out = FixedOrder.productTransposed(points, centroids)
        let k = centroids.rows
        out.values.withUnsafeMutableBufferPointer { o in
            for i in 0..<points.rows {
                for j in 0..<k {
                    o[i * k + j] = max(0, pn[i] - 2 * o[i * k + j] + cn[j])
                }
            }
        }
        return out
    }

    /// For every row of `points` (`[n, d]`), the index of the nearest row of `centroids` (`[k, d]`)
    /// and the squared distance to it, **the same on every machine**.
    ///
    /// Candidates come from one `sgemm` per block of ``blockRows`` points (`‖c‖² − 2·x·c`, on all
    /// cores); the decision does not depend on its rounding. With `e_j` the computed score and
    /// `E_j = ‖x − c_j‖² − ‖x‖²` the exact one, `|e_j − E_j| ≤ β_j = κ_d·(‖x‖ + ‖c_j‖)²` whatever
    /// order or fused operations the BLAS kernel uses (``errorFactor(dimension:)``). Every
    /// centroid whose lower end `e_j − β_j` reaches below the smallest upper end `min_i (e_i + β_i)`
    /// is a candidate; the true nearest one always is. When there is more than one, each candidate's
    /// distance is recomputed by ``FixedOrder/exactSquaredDistance(_:_:count:)`` (float64, fixed
    /// order) and the smallest wins, ties to the lower index. The returned distance is that float64
    /// value rounded to `Float`, computed for every point.
    ///
    /// - Parameters:
    ///   - centroidNorms: `‖c‖²` per centroid when already known.
    ///   - pointNorms: `‖x‖²` per point when already known (e.g. across Lloyd iterations).
    /// - Complexity: `n·k·d` multiply-adds in BLAS, plus `n·d` for the exact distances and `d` per
    ///   extra candidate.
    public static func nearest(
        _ points: Matrix, in centroids: Matrix, centroidNorms: [Float]? = nil, pointNorms: [Float]? = nil
    ) -> (indices: [Int32], squaredDistances: [Float]) {
        precondition(points.cols == centroids.cols)
        let n = points.rows, k = centroids.rows, d = points.cols
        var indices = [Int32](repeating: 0, count: n)
        var best = [Float](repeating: 0, count: n)
        guard n > 0, k > 0 else { return (indices, best) }
        let cn = centroidNorms ?? rowSquaredNorms(centroids)
        let roots = cn.map { $0.squareRoot() }
        let factor = Float(errorFactor(dimension: d))
        let blocks = (n + blockRows - 1) / blockRows
        points.values.withUnsafeBufferPointer { pBuf in
            centroids.values.withUnsafeBufferPointer { cBuf in
                cn.withUnsafeBufferPointer { cnBuf in
                  roots.withUnsafeBufferPointer { crBuf in
                  (pointNorms ?? []).withUnsafeBufferPointer { pnBuf in
                    indices.withUnsafeMutableBufferPointer { iBuf in
                        best.withUnsafeMutableBufferPointer { bBuf in
                            let pBase = pBuf.baseAddress!, cBase = cBuf.baseAddress!
                            let cnBase = cnBuf.baseAddress!, crBase = crBuf.baseAddress!
                            let pnBase: UnsafePointer<Float>? = pointNorms == nil ? nil : pnBuf.baseAddress
                            let iOut = SharedMutablePointer(iBuf.baseAddress!), bOut = SharedMutablePointer(bBuf.baseAddress!)
                            BLASRuntime.withThreadCount(blocks > 1 ? 1 : BLASRuntime.defaultThreadCount) {
                                Parallel.forEachChunk(count: blocks) { blockRange in
                                    var scratch = [Float](repeating: 0, count: blockRows * k)
                                    var candidates = [Int32](repeating: 0, count: k)
                                    scratch.withUnsafeMutableBufferPointer { sBuf in
                                      candidates.withUnsafeMutableBufferPointer { cand in
                                        let s = sBuf.baseAddress!
                                        for block in blockRange {
                                            let lo = block * blockRows, rows = min(blockRows, n - lo)
                                            BLAS.sgemm(transposeB: true, m: rows, n: k, k: d, alpha: -2,
                                                       a: pBase + lo * d, lda: d, b: cBase, ldb: d, c: s, ldc: k)
                                            for r in 0..<rows {
                                                let x = pBase + (lo + r) * d
                                                let xn = pnBase.map { $0[lo + r] } ?? squaredNorm(x, count: d)
                                                let (j, distance) = decideNearest(
                                                    scores: s + r * k, norms: cnBase, roots: crBase, count: k,
                                                    point: x, pointRoot: xn.squareRoot(), centroids: cBase, dimension: d,
                                                    factor: factor, candidates: cand.baseAddress!)
                                                iOut.pointer[lo + r] = Int32(j)
                                                bOut.pointer[lo + r] = Float(distance)
                                            }
                                        }
                                      }
                                    }
                                }
                            }
                        }
                    }
                  }
                }
              }
            }
        }
        return (indices, best)
    }

    /// The factor `κ_d` of the error bound on GEMM distance scores in dimension `d`:
    /// `|e − (‖x − c‖² − ‖x‖²)| ≤ κ_d·(‖x‖ + ‖c‖)²` for `e = fl(fl(−2·x·c) + fl(‖c‖²))` computed in
    /// float32 by any summation order (BLAS, FMA or not), and this bound still holding after the
    /// float32 rounding of `e ± β` and of `β` itself, and against the float64 reference.
    ///
    /// Derivation: a float32 dot product of `d` terms in any order is within `γ_d·Σ|x_t c_t| ≤
    /// γ_d·‖x‖‖c‖` of the exact value (`γ_d = d·u/(1 − d·u)`, `u = 2⁻²⁴`), and so is `‖c‖²` within
    /// `γ_d·‖c‖²`; with `2‖x‖‖c‖ + ‖c‖² ≤ (‖x‖ + ‖c‖)²` and `|e| ≤ (1 + 2γ_d)(‖x‖ + ‖c‖)²`, the
    /// sum's rounding and the two comparisons add at most `3.1·u·(‖x‖ + ‖c‖)²`. The norms in the
    /// bound are themselves computed in float32 (`√fl(‖x‖²)` may be short of `‖x‖` by a factor
    /// `1 − γ_d − u`), hence the division by `1 − 2γ_d − 8u`. The float64 reference is within
    /// `γ⁽⁶⁴⁾_{d+2}·(‖x‖ + ‖c‖)²` of the exact value. A 0.1% margin covers the rounding of this
    /// formula. For d = 384, `κ_d ≈ 2.3·10⁻⁵`.
    public static func errorFactor(dimension d: Int) -> Double {
        let u = 0x1p-24, u64 = 0x1p-53
        let gamma = Double(d) * u / (1 - Double(d) * u)
        let gamma64 = Double(d + 2) * u64 / (1 - Double(d + 2) * u64)
        return ((gamma * (1 + 3 * gamma) + 3.1 * u) / (1 - 2 * gamma - 8 * u) + gamma64) * 1.001
    }

    /// The exact nearest-centroid decision for one point from its GEMM scores (see
    /// ``nearest(_:in:centroidNorms:pointNorms:)``).
    ///
    /// - Parameters:
    ///   - scores: `−2·x·c_j` for the `count` centroids, from any BLAS.
    ///   - norms: `‖c_j‖²`; `roots`: `√‖c_j‖²`.
    ///   - point: `x` (`dimension` values); `pointRoot`: `√‖x‖²`.
    ///   - centroids: `[count, dimension]` row-major.
    ///   - factor: ``errorFactor(dimension:)`` as `Float`.
    ///   - candidates: scratch for `count` indices.
    /// - Returns: the index (lowest on exact ties) and the float64 squared distance.
    public static func decideNearest(
        scores s: UnsafePointer<Float>, norms cn: UnsafePointer<Float>, roots cr: UnsafePointer<Float>, count k: Int,
        point x: UnsafePointer<Float>, pointRoot xr: Float, centroids c: UnsafePointer<Float>, dimension d: Int,
        factor kappa: Float, candidates: UnsafeMutablePointer<Int32>
    ) -> (index: Int, squaredDistance: Double) {
        let count = Int(semid_nearest_candidates(s, cn, cr, Int32(k), xr, kappa, candidates))
        // Decide by the float64 reference (NaN scores leave no candidate: fall back to index 0).
        guard count > 0 else { return (0, FixedOrder.exactSquaredDistance(x, c, count: d)) }
        var bestIndex = Int(candidates[0])
        var bestDistance = FixedOrder.exactSquaredDistance(x, c + bestIndex * d, count: d)
        for q in 1..<count {
            let index = Int(candidates[q])
            let distance = FixedOrder.exactSquaredDistance(x, c + index * d, count: d)
            if distance < bestDistance { bestDistance = distance; bestIndex = index }
        }
        return (bestIndex, bestDistance)
    }

    /// The index and value of the smallest `a[j] + b[j]` over `count ≥ 1` values (lowest index on ties),
    /// sixteen lanes at a time.
    @inlinable
    public static func argminSum(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> (Int, Float) {
        var j = 0
        var bestJ = 0
        var bestV = Float.infinity
        if count >= 16 {
            var minV = SIMD16<Float>(repeating: .infinity)
            var minI = SIMD16<Int32>(repeating: 0)
            var lane = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
            let step = SIMD16<Int32>(repeating: 16)
            let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
            while j + 16 <= count {
                let v = ra.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
                    + rb.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
                let better = v .< minV
                minV.replace(with: v, where: better)
                minI.replace(with: lane, where: better)
                lane &+= step
                j += 16
            }
            bestV = minV.min()
            bestJ = Int.max
            for l in 0..<16 where minV[l] == bestV && Int(minI[l]) < bestJ { bestJ = Int(minI[l]) }
        }
        while j < count {
            let v = a[j] + b[j]
            if v < bestV { bestV = v; bestJ = j }
            j += 1
        }
        return (bestJ, bestV)
    }
}
