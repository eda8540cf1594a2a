/// A fast, seedable pseudo-random generator (xoshiro256**), identical on every platform.
///
/// Every random choice in semid draws from one of these, created from the user's `--seed`, so the
/// same inputs and seed give the same outputs. Sub-streams for independent steps come from
/// ``derived(_:)`` so that adding a step does not shift the numbers another step sees.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose whole state is expanded from `seed` with SplitMix64.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// An independent generator for a named sub-step (e.g. level 2 of a quantizer): the seed is
    /// mixed with `stream`, the parent is not advanced.
    public func derived(_ stream: UInt64) -> SeededGenerator {
        SeededGenerator(seed: (s0 ^ 0xD1B5_4A32_D192_ED03) &+ stream &* 0x9E37_79B9_7F4A_7C15 ^ s3)
    }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inlinable
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform integer in `0..<bound` (`bound > 0`), unbiased (Lemire's method).
    @inlinable
    public mutating func nextInt(below bound: Int) -> Int {
        Int(truncatingIfNeeded: next(upperBound: UInt64(bound)))
    }

    /// A uniform `Float` in `[0, 1)` with 24 random bits.
    @inlinable
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform `Double` in `[0, 1)` with 53 random bits.
    @inlinable
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal sample (Box–Muller with ``ExactMath`` functions, so the same seed gives the
    /// same samples on every CPU).
    public mutating func nextGaussian() -> Float {
        var u1 = nextUnitDouble()
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = nextUnitDouble()
        return Float((-2 * ExactMath.log(u1)).squareRoot() * ExactMath.cos(2 * Double.pi * u2))
    }

    /// `count` distinct indices from `0..<population`, in random order (partial Fisher–Yates when
    /// dense, rejection sampling when sparse). `count` is clamped to `population`.
    public mutating func sample(_ count: Int, from population: Int) -> [Int] {
        let count = Swift.min(count, population)
        if count * 4 >= population {
            var all = Array(0..<population)
            for i in 0..<count {
                let j = i + nextInt(below: population - i)
                all.swapAt(i, j)
            }
            return Array(all[0..<count])
        }
        var seen = Set<Int>(minimumCapacity: count * 2)
        var out: [Int] = []
        out.reserveCapacity(count)
        while out.count < count {
            let j = nextInt(below: population)
            if seen.insert(j).inserted { out.append(j) }
        }
        return out
    }

    /// Shuffles `array` in place (Fisher–Yates).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, nextInt(below: i + 1))
        }
    }
}
