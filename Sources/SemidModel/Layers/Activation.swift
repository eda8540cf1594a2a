import SemidMath
/// Elementwise activations with their derivatives. The forward pass reads the pre-activation
/// `x` and writes `y`; the backward pass needs `x` again (kept by the caller).
public enum Activation: String, Codable, Sendable, CaseIterable {
    /// `max(0, x)`.
    case relu
    /// GELU, tanh approximation: `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`.
    case gelu

    static let c0: Float = 0.797_884_56   // √(2/π)
    static let c1: Float = 0.044_715

    /// `y = f(x)` over `count` values (`y` may equal `x`).
    public func forward(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        switch self {
        case .relu:
            for i in 0..<count { y[i] = x[i] > 0 ? x[i] : 0 }
        case .gelu:
            for i in 0..<count { y[i] = Self.gelu(x[i]) }
        }
    }

    /// `dx = dy ⊙ f′(x)` over `count` values (`dx` may equal `dy`).
    public func backward(_ x: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>, count: Int,
                         into dx: UnsafeMutablePointer<Float>) {
        switch self {
        case .relu:
            for i in 0..<count { dx[i] = x[i] > 0 ? dy[i] : 0 }
        case .gelu:
            for i in 0..<count { dx[i] = dy[i] * Self.geluDerivative(x[i]) }
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
