import SemidMath

/// Mean squared error `L = scale · Σ (p − t)²` and its gradient `2·scale·(p − t)` (the RQ-VAE's
/// reconstruction loss).
public enum MeanSquaredError {
    /// Writes `dL/dp` to `gradient` (`count` values, aliasing neither input) and returns
    /// `Σ (p − t)²` (unscaled, accumulated in `Double` every 1024 values). For the mean over `N`
    /// values pass `scale = 1/N`. O(count), eight lanes at a time.
    @discardableResult
    package static func sumAndGradient(
        prediction p: UnsafePointer<Float>, target t: UnsafePointer<Float>, count: Int, scale: Float,
        gradient: UnsafeMutablePointer<Float>
    ) -> Double {
        let twoScale = SIMD8<Float>(repeating: 2 * scale)
        let rp = UnsafeRawPointer(p), rt = UnsafeRawPointer(t), rg = UnsafeMutableRawPointer(gradient)
        var total = 0.0
        var i = 0
        while i + 8 <= count {
            var acc = SIMD8<Float>()
            let end = Swift.min(count & ~7, i + 1024)
            while i < end {
                let d = rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                    - rt.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                acc += d * d
                rg.storeBytes(of: d * twoScale, toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            total += Double(acc.sum())
        }
        while i < count {
            let d = p[i] - t[i]
            total += Double(d * d)
            gradient[i] = 2 * scale * d
            i += 1
        }
        return total
    }

    /// `Σ (p − t)²` over `count` values, accumulated in `Double` every 1024 values. O(count).
    package static func sum(_ p: UnsafePointer<Float>, _ t: UnsafePointer<Float>, count: Int) -> Double {
        var total = 0.0
        var i = 0
        while i < count {
            let n = Swift.min(1024, count - i)
            total += Double(Distances.squaredDistance(p + i, t + i, count: n))
            i += n
        }
        return total
    }
}
