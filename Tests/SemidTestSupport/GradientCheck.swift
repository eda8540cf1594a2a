import SemidMath
import Testing

/// Finite-difference checks of hand-written backward passes.
///
/// A layer `y = f(x, θ)` is checked through the scalar `L = Σ r ⊙ y` for a fixed random `r`, so
/// that `∂L/∂y = r`. Two checks: single coordinates (central differences) and a random
/// direction `v` over a whole tensor, `(L(x + εv) − L(x − εv))/2ε ≈ ∇L·v`, which is robust in
/// single precision because it aggregates every coordinate. Tests with their own tolerance
/// per coordinate call ``centralDifference(at:coordinate:epsilon:loss:)`` directly.
public enum GradientCheck {
    /// `count` values `scale · N(0, 1)` drawn from `rng`.
    public static func random(_ count: Int, _ rng: inout SeededGenerator, scale: Float = 1) -> [Float] {
        SyntheticData.gaussianValues(count, &rng, scale: scale)
    }

    /// `Σ a[i]·b[i]` in Double (over the shorter of the two).
    public static func dot(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// The central difference `(loss(x + ε·e_i) − loss(x − ε·e_i)) / 2ε` of coordinate `i`:
    /// two evaluations of `loss`.
    public static func centralDifference<Scalar: BinaryFloatingPoint>(
        at x: [Scalar], coordinate i: Int, epsilon: Scalar, loss: ([Scalar]) -> Double
    ) -> Double {
        var plus = x, minus = x
        plus[i] += epsilon
        minus[i] -= epsilon
        return (loss(plus) - loss(minus)) / (2 * Double(epsilon))
    }

    /// Checks `analytic` (the gradient of `loss` at `x`) against central differences:
    /// a random direction over all of `x` (relative tolerance `tolerance`), and up to
    /// `coordinates` single coordinates, the largest gradients and random ones (`2.5 · tolerance`).
    /// Costs `2 + 2 · coordinates` evaluations of `loss`.
    public static func check(
        _ name: String, x: [Float], analytic: [Float], epsilon: Float = 1e-2, coordinates: Int = 6,
        tolerance: Double = 2e-2, seed: UInt64 = 99, loss: ([Float]) -> Double,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(x.count == analytic.count, "\(name): gradient size", sourceLocation: sourceLocation)
        var rng = SeededGenerator(seed: seed)
        // Directional derivative.
        let v = random(x.count, &rng)
        let plus = zip(x, v).map { $0 + epsilon * $1 }, minus = zip(x, v).map { $0 - epsilon * $1 }
        let numeric = (loss(plus) - loss(minus)) / (2 * Double(epsilon))
        let expected = dot(analytic, v)
        let scale = max(1e-3, abs(numeric) + abs(expected))
        #expect(abs(numeric - expected) / scale < tolerance,
                "\(name): directional derivative numeric \(numeric) vs analytic \(expected)", sourceLocation: sourceLocation)
        // Single coordinates: the largest gradients and a few random ones.
        let order = analytic.indices.sorted { abs(analytic[$0]) > abs(analytic[$1]) }
        var picks = Array(order.prefix(coordinates / 2))
        for _ in 0..<(coordinates - picks.count) where !x.isEmpty { picks.append(rng.nextInt(below: x.count)) }
        for i in picks {
            let num = centralDifference(at: x, coordinate: i, epsilon: epsilon, loss: loss)
            let a = Double(analytic[i])
            let s = max(2e-3, abs(num) + abs(a))
            #expect(abs(num - a) / s < tolerance * 2.5,
                    "\(name)[\(i)]: numeric \(num) vs analytic \(a)", sourceLocation: sourceLocation)
        }
    }
}

extension Array where Element == Float {
    /// Calls `body` with a mutable pointer to the elements (for the layers' pointer APIs).
    public mutating func ptr<R>(_ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else {
                var empty: Float = 0
                return body(&empty)
            }
            return body(base)
        }
    }
}
