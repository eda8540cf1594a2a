/// Squared Euclidean distances computed as `‖x‖² − 2·x·c + ‖c‖²`, with the cross term by `sgemm`.
///
/// Points are processed in blocks of ``blockRows`` rows; each block's `[rows, k]` product is a
/// single GEMM, so no Swift loop ever runs over (point, centroid) pairs doing `d` multiplications.
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
    /// (both `[·, d]`). Values are clamped at zero against rounding.
    public static func squaredDistances(from points: Matrix, to centroids: Matrix) -> Matrix {
        precondition(points.cols == centroids.cols)
        let pn = rowSquaredNorms(points)
        let cn = rowSquaredNorms(centroids)
        var out = Matrix.product(points, centroids, transposeB: true)
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
    /// and the squared distance to it. Ties go to the lower index. Runs on all cores for large `n`.
    ///
    /// - Parameter centroidNorms: `‖c‖²` per centroid when already known.
    ///   - pointNorms: `‖x‖²` per point when already known (e.g. across Lloyd iterations).
    public static func nearest(
        _ points: Matrix, in centroids: Matrix, centroidNorms: [Float]? = nil, pointNorms: [Float]? = nil
    ) -> (indices: [Int32], squaredDistances: [Float]) {
        precondition(points.cols == centroids.cols)
        let n = points.rows, k = centroids.rows, d = points.cols
        var indices = [Int32](repeating: 0, count: n)
        var best = [Float](repeating: 0, count: n)
        guard n > 0, k > 0 else { return (indices, best) }
        let cn = centroidNorms ?? rowSquaredNorms(centroids)
        let blocks = (n + blockRows - 1) / blockRows
        points.values.withUnsafeBufferPointer { pBuf in
            centroids.values.withUnsafeBufferPointer { cBuf in
                cn.withUnsafeBufferPointer { cnBuf in
                  (pointNorms ?? []).withUnsafeBufferPointer { pnBuf in
                    indices.withUnsafeMutableBufferPointer { iBuf in
                        best.withUnsafeMutableBufferPointer { bBuf in
                            let pBase = pBuf.baseAddress!, cBase = cBuf.baseAddress!, cnBase = cnBuf.baseAddress!
                            let pnBase: UnsafePointer<Float>? = pointNorms == nil ? nil : pnBuf.baseAddress
                            let iOut = SharedMutablePointer(iBuf.baseAddress!), bOut = SharedMutablePointer(bBuf.baseAddress!)
                            BLASRuntime.withThreadCount(blocks > 1 ? 1 : BLASRuntime.defaultThreadCount) {
                                Parallel.forEachChunk(count: blocks) { blockRange in
                                    var scratch = [Float](repeating: 0, count: blockRows * k)
                                    scratch.withUnsafeMutableBufferPointer { sBuf in
                                        let s = sBuf.baseAddress!
                                        for block in blockRange {
                                            let lo = block * blockRows, rows = min(blockRows, n - lo)
                                            BLAS.sgemm(transposeB: true, m: rows, n: k, k: d, alpha: -2,
                                                       a: pBase + lo * d, lda: d, b: cBase, ldb: d, c: s, ldc: k)
                                            for r in 0..<rows {
                                                let (bestJ, bestV) = argminSum(s + r * k, cnBase, count: k)
                                                let xn = pnBase.map { $0[lo + r] } ?? squaredNorm(pBase + (lo + r) * d, count: d)
                                                iOut.pointer[lo + r] = Int32(bestJ)
                                                bOut.pointer[lo + r] = max(0, bestV + xn)
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
