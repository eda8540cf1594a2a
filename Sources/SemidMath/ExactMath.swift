/// Elementary functions in `Double` built from IEEE-754 basic operations only, so they give the
/// same bits on every CPU.
///
/// The C library's `exp`/`log`/`pow` pick code paths at run time (glibc has separate FMA variants
/// for x86-64), and a last-bit difference in a Sinkhorn step or a PMI weight can flip a semantic
/// ID. Wherever such a value decides an ID, semid calls these instead. Accuracy is a few units in
/// the last place (relative error below 1e-15 on the ranges used), which is all any of those
/// computations needs; what matters is that the result never depends on the machine.
public enum ExactMath {
    static let ln2Hi = 6.931_471_803_691_238_164_90e-01   // high bits of ln 2 (n·ln2Hi is exact for |n| < 2¹¹)
    static let ln2Lo = 1.908_214_929_270_587_700_02e-10
    static let log2e = 1.442_695_040_888_963_387_00

    /// `eˣ`. Overflows to `+∞` above 709.78 and underflows to 0 below −745.13; `exp(NaN)` is NaN.
    ///
    /// Range reduction `x = n·ln 2 + r` (Cody–Waite, `|r| ≤ ln2/2`), a degree-13 Taylor polynomial
    /// in `r` (truncation error < 4·10⁻¹⁸), and the result scaled by `2ⁿ` from its bit pattern.
    public static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.782_712_893_384 { return .infinity }
        if x < -745.133_219_101_941_1 { return 0 }
        let n = (x * log2e).rounded(.toNearestOrEven)
        let r = (x - n * ln2Hi) - n * ln2Lo
        // Horner form of Σ_{i≤13} rⁱ/i!.
        var p = 1.0 / 6_227_020_800.0
        p = p * r + 1.0 / 479_001_600.0
        p = p * r + 1.0 / 39_916_800.0
        p = p * r + 1.0 / 3_628_800.0
        p = p * r + 1.0 / 362_880.0
        p = p * r + 1.0 / 40_320.0
        p = p * r + 1.0 / 5_040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        return scaleByPowerOfTwo(p, Int(n))
    }

    /// `ln x` for `x > 0`; `−∞` at 0, NaN below 0 or for NaN, `+∞` at `+∞`.
    ///
    /// `x = m·2ᵉ` with `m` in `[√½, √2)`, then `ln m = 2·atanh(s)`, `s = (m − 1)/(m + 1)`,
    /// `|s| ≤ 0.172`, summed to `s²³` (truncation error < 10⁻¹⁷).
    public static func log(_ x: Double) -> Double {
        if x.isNaN || x < 0 { return .nan }
        if x == 0 { return -.infinity }
        if x == .infinity { return x }
        var value = x
        var exponent = 0
        if value < Double.leastNormalMagnitude {   // subnormal: scale into the normal range
            value *= 0x1p54
            exponent -= 54
        }
        let bits = value.bitPattern
        exponent += Int((bits >> 52) & 0x7FF) - 1023
        var m = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)   // [1, 2)
        if m > 1.414_213_562_373_095_048_80 { m *= 0.5; exponent += 1 }
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var p = 1.0 / 23.0
        p = p * s2 + 1.0 / 21.0
        p = p * s2 + 1.0 / 19.0
        p = p * s2 + 1.0 / 17.0
        p = p * s2 + 1.0 / 15.0
        p = p * s2 + 1.0 / 13.0
        p = p * s2 + 1.0 / 11.0
        p = p * s2 + 1.0 / 9.0
        p = p * s2 + 1.0 / 7.0
        p = p * s2 + 1.0 / 5.0
        p = p * s2 + 1.0 / 3.0
        p = p * s2 + 1.0
        let e = Double(exponent)
        return e * ln2Hi + (2 * s * p + e * ln2Lo)
    }

    /// `cos x`, accurate to a few ulps for `|x| < 2²⁰` (deterministic everywhere; less accurate
    /// beyond). NaN or infinite `x` gives NaN.
    ///
    /// `x = k·π/2 + r` with a three-part Cody–Waite constant, `|r| ≤ π/4`, then Taylor polynomials
    /// of `cos r` (to `r¹⁸`) or `sin r` (to `r¹⁹`) chosen by `k mod 4` (truncation error < 10⁻²⁰).
    public static func cos(_ x: Double) -> Double {
        guard x.isFinite else { return .nan }
        let k = (x * 0.636_619_772_367_581_382_43).rounded(.toNearestOrEven)   // x · 2/π
        let r = ((x - k * 1.570_796_326_734_125_614_17) - k * 6.077_100_506_303_965_976_60e-11)
            - k * 2.022_266_248_795_950_631_54e-21
        let quadrant = Int(k.truncatingRemainder(dividingBy: 4)) & 3
        switch quadrant {
        case 0: return cosPolynomial(r)
        case 1: return -sinPolynomial(r)
        case 2: return -cosPolynomial(r)
        default: return sinPolynomial(r)
        }
    }

    static func cosPolynomial(_ r: Double) -> Double {
        let z = r * r
        var p = 1.0 / 6_402_373_705_728_000.0          // 1/18!
        p = p * z - 1.0 / 20_922_789_888_000.0         // 1/16!
        p = p * z + 1.0 / 87_178_291_200.0             // 1/14!
        p = p * z - 1.0 / 479_001_600.0                // 1/12!
        p = p * z + 1.0 / 3_628_800.0                  // 1/10!
        p = p * z - 1.0 / 40_320.0                     // 1/8!
        p = p * z + 1.0 / 720.0                        // 1/6!
        p = p * z - 1.0 / 24.0
        p = p * z + 0.5
        return 1 - p * z
    }

    static func sinPolynomial(_ r: Double) -> Double {
        let z = r * r
        var p = 1.0 / 121_645_100_408_832_000.0        // 1/19!
        p = p * z - 1.0 / 355_687_428_096_000.0        // 1/17!
        p = p * z + 1.0 / 1_307_674_368_000.0          // 1/15!
        p = p * z - 1.0 / 6_227_020_800.0              // 1/13!
        p = p * z + 1.0 / 39_916_800.0                 // 1/11!
        p = p * z - 1.0 / 362_880.0                    // 1/9!
        p = p * z + 1.0 / 5_040.0                      // 1/7!
        p = p * z - 1.0 / 120.0
        p = p * z + 1.0 / 6.0
        return r - r * z * p
    }

    /// `xʸ` for `x > 0` as `exp(y·ln x)`; `pow(0, y)` is 0 for `y > 0`, 1 for `y == 0`, `+∞` for
    /// `y < 0`; negative `x` gives NaN. Relative error grows with `|y·ln x|` (≈ 10⁻¹⁵ below 30).
    public static func pow(_ x: Double, _ y: Double) -> Double {
        if y == 0 { return 1 }
        if x == 0 { return y > 0 ? 0 : .infinity }
        if x == 1 { return 1 }
        return exp(y * log(x))
    }

    /// `v·2ⁿ`, exact unless the result is subnormal (then rounded once).
    static func scaleByPowerOfTwo(_ v: Double, _ n: Int) -> Double {
        var value = v
        var k = n
        // Two steps keep every factor a normal power of two.
        if k > 1023 { value *= 0x1p1023; k -= 1023 }
        if k < -1022 { value *= 0x1p-1022; k += 1022 }
        if k < -1022 { value *= 0x1p-1022; k += 1022 }
        let factor = Double(bitPattern: UInt64(max(k + 1023, 1)) << 52)
        return k < -1022 ? 0 : value * factor
    }
}
