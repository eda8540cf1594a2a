import Foundation

/// Vectorised elementwise functions for training loops: `exp`, softmax rows, `tanh`.
///
/// `exp` follows Cephes' `expf` (range reduction by `ln 2`, degree-6 polynomial, exponent built
/// from bits) on `SIMD16<Float>` with plain multiplies and adds (no `fma` calls, which are slow at
/// the default CPU target). Relative error below 2e-7 on `[-87, 88]`; inputs are clamped to that
/// range, so `exp(-∞)` gives about 1e-38 rather than 0 (softmax rows are unaffected).
public enum FastMath {
    public typealias V = SIMD16<Float>

    /// `exp` of sixteen values.
    @inlinable @inline(__always)
    public static func exp(_ input: V) -> V {
        // `replace(with:where:)` compiles to vector selects; `pointwiseMin/Max` are scalarised
        // through the stack at the default CPU target (measured 5× slower).
        var x = input
        let hi = V(repeating: 88.0), lo = V(repeating: -87.33654)
        x.replace(with: hi, where: x .> hi)
        x.replace(with: lo, where: .!(x .>= lo))   // also maps NaN to lo
        // Round x·log2(e) to the nearest integer with the 1.5·2^23 trick: the low mantissa bits of t
        // hold n.
        let magic = V(repeating: 12_582_912)
        let t = x * V(repeating: 1.442_695_04) + magic
        let n = t - magic
        let r = x - n * V(repeating: 0.693_359_375) - n * V(repeating: -2.121_944_4e-4)
        var p = V(repeating: 1.987_569_15e-4)
        p = p * r + V(repeating: 1.398_199_95e-3)
        p = p * r + V(repeating: 8.333_451_9e-3)
        p = p * r + V(repeating: 4.166_579_59e-2)
        p = p * r + V(repeating: 1.666_666_55e-1)
        p = p * r + V(repeating: 5.000_000_12e-1)
        let y = p * (r * r) + r + V(repeating: 1)
        let bits = unsafeBitCast(t, to: SIMD16<UInt32>.self) &- SIMD16<UInt32>(repeating: 0x4B40_0000 - 127)
        let scale = unsafeBitCast(bits &<< SIMD16<UInt32>(repeating: 23), to: V.self)
        return y * scale
    }

    /// `exp` of one value, by the same method (so scalar tails match vector bodies).
    @inlinable
    public static func exp(_ x: Float) -> Float { exp(V(repeating: x))[0] }

    /// Replaces `x[0..<count]` by `exp(x + shift)` and returns their sum.
    @inlinable
    @discardableResult
    public static func expInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, shift: Float = 0) -> Float {
        var acc = V()
        var i = 0
        let s = V(repeating: shift)
        let raw = UnsafeMutableRawPointer(x)
        while i + 16 <= count {
            let v = exp(raw.loadUnaligned(fromByteOffset: i * 4, as: V.self) + s)
            raw.storeBytes(of: v, toByteOffset: i * 4, as: V.self)
            acc += v
            i += 16
        }
        var sum = acc.sum()
        if i < count {
            var tail = V(repeating: -.infinity)
            for j in i..<count { tail[j - i] = x[j] }
            let v = exp(tail + s)
            for j in i..<count { x[j] = v[j - i]; sum += v[j - i] }
        }
        return sum
    }

    /// The largest of `count ≥ 1` values.
    @inlinable
    public static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var m = V(repeating: -.infinity)
        var i = 0
        let raw = UnsafeRawPointer(x)
        while i + 16 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            m.replace(with: v, where: v .> m)
            i += 16
        }
        var best = m.max()
        while i < count { best = Swift.max(best, x[i]); i += 1 }
        return best
    }

    /// `x[0..<count] *= factor`.
    @inlinable
    public static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        var i = 0
        let f = V(repeating: factor)
        let raw = UnsafeMutableRawPointer(x)
        while i + 16 <= count {
            raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: i * 4, as: V.self) * f, toByteOffset: i * 4, as: V.self)
            i += 16
        }
        while i < count { x[i] *= factor; i += 1 }
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

    /// `tanh` of sixteen values via `1 − 2/(exp(2x) + 1)`.
    @inlinable @inline(__always)
    public static func tanh(_ x: V) -> V {
        let e = exp(x + x)
        return V(repeating: 1) - V(repeating: 2) / (e + V(repeating: 1))
    }
}
