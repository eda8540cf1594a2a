import SemidMath

/// Inverted dropout with explicit, seeded masks: the mask holds `0` or `1/(1 − p)` per value, so
/// the forward pass is `y = x ⊙ m` and the backward pass `dx = dy ⊙ m`. Masks come from a
/// ``SeededGenerator``, so a run is reproducible from its seed.
public enum Dropout {
    /// Fills `mask[0..<count]` for drop probability `rate` (`0 ≤ rate < 1`); all ones when `rate == 0`.
    public static func fillMask(_ mask: UnsafeMutablePointer<Float>, count: Int, rate: Float,
                                generator: inout SeededGenerator) {
        guard rate > 0 else { mask.update(repeating: 1, count: count); return }
        let keep = 1 / (1 - rate)
        let threshold = UInt32(min(Double(UInt32.max), Double(rate) * 4_294_967_296.0))
        var i = 0
        while i < count {
            let bits = generator.next()
            let a = UInt32(truncatingIfNeeded: bits), b = UInt32(truncatingIfNeeded: bits >> 32)
            mask[i] = a < threshold ? 0 : keep
            if i + 1 < count { mask[i + 1] = b < threshold ? 0 : keep }
            i += 2
        }
    }

    /// `x[i] *= mask[i]` over `count` values.
    @inlinable
    public static func apply(_ x: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] *= mask[i] }
    }
}
