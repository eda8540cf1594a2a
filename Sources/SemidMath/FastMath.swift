import Foundation

/// Fast elementwise functions for training loops: `exp`, `tanh`, softmax rows.
///
/// `exp` follows Cephes' `expf` (range reduction by `ln 2`, degree-6 polynomial, exponent built
/// from bits). Relative error below 2e-7 on `[-87, 88]`; inputs are clamped to that range, so
/// `exp(−∞)` gives about 1e-38 rather than 0 (softmax rows are unaffected).
///
/// The functions are written in scalar form with branch-free selects and applied in plain loops
/// over pointers, which LLVM auto-vectorises. (Measured here: the same code written with
/// `SIMD16<Float>` and `pointwiseMin`/`replace(with:where:)` was scalarised through the stack
/// when inlined into other modules and ran 10–25× slower.)
public enum FastMath {
    /// `exp(x)`.
    @inlinable @inline(__always)
    public static func exp(_ input: Float) -> Float {
        var x = input > 88.0 ? 88.0 : input
        x = x >= -87.336_54 ? x : -87.336_54      // also maps NaN to the lower bound
        // Round x·log2(e) to the nearest integer with the 1.5·2^23 trick: the low mantissa bits of
        // t hold n.
        let t = x * 1.442_695_04 + 12_582_912
        let n = t - 12_582_912
        let r = x - n * 0.693_359_375 - n * -2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let y = p * (r * r) + r + 1
        return y * Float(bitPattern: (t.bitPattern &- (0x4B40_0000 - 127)) &<< 23)
    }

    /// `tanh(x) = 1 − 2/(exp(2x) + 1)`.
    @inlinable @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        1 - 2 / (exp(x + x) + 1)
    }

    /// Replaces `x[0..<count]` by `exp(x + shift)` and returns their sum.
    @inlinable
    @discardableResult
    public static func expInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, shift: Float = 0) -> Float {
        for i in 0..<count { x[i] = exp(x[i] + shift) }
        return sum(x, count: count)
    }

    /// `Σ x[0..<count]` with sixteen independent accumulators.
    @inlinable
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        let raw = UnsafeRawPointer(x)
        while i + 16 <= count {
            acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        var total = acc.sum()
        while i < count { total += x[i]; i += 1 }
        return total
    }

    /// The largest of `count ≥ 1` values (NaN is ignored unless every value is NaN).
    @inlinable
    public static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0, m4 = m0, m5 = m0, m6 = m0, m7 = m0
        var i = 0
        while i + 8 <= count {
            m0 = x[i] > m0 ? x[i] : m0
            m1 = x[i + 1] > m1 ? x[i + 1] : m1
            m2 = x[i + 2] > m2 ? x[i + 2] : m2
            m3 = x[i + 3] > m3 ? x[i + 3] : m3
            m4 = x[i + 4] > m4 ? x[i + 4] : m4
            m5 = x[i + 5] > m5 ? x[i + 5] : m5
            m6 = x[i + 6] > m6 ? x[i + 6] : m6
            m7 = x[i + 7] > m7 ? x[i + 7] : m7
            i += 8
        }
        while i < count { m0 = x[i] > m0 ? x[i] : m0; i += 1 }
        return Swift.max(Swift.max(Swift.max(m0, m1), Swift.max(m2, m3)), Swift.max(Swift.max(m4, m5), Swift.max(m6, m7)))
    }

    /// `x[0..<count] *= factor`.
    @inlinable
    public static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        for i in 0..<count { x[i] *= factor }
    }

    /// Softmax of one row in place; returns `log Σ exp(x)` (the log-partition) of the original row.
    @inlinable
    @discardableResult
    public static func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) -> Float {
        let top = maximum(x, count: count)
        let shift: Float = top.isFinite ? -top : 0
        let sum = expInPlace(x, count: count, shift: shift)
        scale(x, count: count, by: 1 / sum)
        return Foundation.log(sum) - shift
    }
}
