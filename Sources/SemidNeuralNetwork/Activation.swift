import SemidMath

/// Element-wise activations with their derivatives.
///
/// The forward pass reads the pre-activation `x` and writes `y`; the backward pass needs `x`
/// again (kept by the caller), except ReLU's, which can also read its output
/// (``reluBackward(output:gradient:count:)``). Every pass is O(count).
public enum Activation: String, Codable, Sendable, CaseIterable {
    /// `max(0, x)`.
    case relu
    /// GELU, tanh approximation: `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`.
    case gelu

    static let c0: Float = 0.797_884_56   // √(2/π)
    static let c1: Float = 0.044_715

    /// `y = f(x)` over `count` values (`y` may equal `x`).
    package func forward(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        switch self {
        case .relu:
            for i in 0..<count { y[i] = x[i] > 0 ? x[i] : 0 }
        case .gelu:
            for i in 0..<count { y[i] = Self.gelu(x[i]) }
        }
    }

    /// `dx = dy ⊙ f′(x)` over `count` values, from the pre-activation `x` (`dx` may equal `dy`).
    package func backward(_ x: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>, count: Int,
                          into dx: UnsafeMutablePointer<Float>) {
        switch self {
        case .relu:
            for i in 0..<count { dx[i] = x[i] > 0 ? dy[i] : 0 }
        case .gelu:
            for i in 0..<count { dx[i] = dy[i] * Self.geluDerivative(x[i]) }
        }
    }

    /// ReLU's backward pass from its output: `g[i] = 0` where `y[i] = max(0, x[i])` is 0 (the
    /// derivative taken as 0 at 0), in place, eight lanes at a time.
    package static func reluBackward(output y: UnsafePointer<Float>, gradient g: UnsafeMutablePointer<Float>, count: Int) {
        let zero = SIMD8<Float>(repeating: 0)
        let ry = UnsafeRawPointer(y), rg = UnsafeMutableRawPointer(g)
        var i = 0
        while i + 8 <= count {
            let yv = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            var gv = rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            gv = gv.replacing(with: zero, where: yv .<= zero)
            rg.storeBytes(of: gv, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            if y[i] <= 0 { g[i] = 0 }
            i += 1
        }
    }

    @inline(__always)
    static func gelu(_ x: Float) -> Float {
        let u = c0 * (x + c1 * x * x * x)
        return 0.5 * x * (1 + FastMath.tanh(u))
    }

    @inline(__always)
    static func geluDerivative(_ x: Float) -> Float {
        let x2 = x * x
        let t = FastMath.tanh(c0 * (x + c1 * x2 * x))
        let du = c0 * (1 + 3 * c1 * x2)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du
    }
}
