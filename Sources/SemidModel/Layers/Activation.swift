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
            for i in 0..<count { y[i] = Swift.max(0, x[i]) }
        case .gelu:
            typealias V = FastMath.V
            var i = 0
            let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
            while i + 16 <= count {
                let v = rx.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                ry.storeBytes(of: Self.gelu(v), toByteOffset: i * 4, as: V.self)
                i += 16
            }
            while i < count { y[i] = Self.gelu(V(repeating: x[i]))[0]; i += 1 }
        }
    }

    /// `dx = dy ⊙ f′(x)` over `count` values (`dx` may equal `dy`).
    public func backward(_ x: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>, count: Int,
                         into dx: UnsafeMutablePointer<Float>) {
        switch self {
        case .relu:
            for i in 0..<count { dx[i] = x[i] > 0 ? dy[i] : 0 }
        case .gelu:
            typealias V = FastMath.V
            var i = 0
            let rx = UnsafeRawPointer(x), rdy = UnsafeRawPointer(dy), rdx = UnsafeMutableRawPointer(dx)
            while i + 16 <= count {
                let v = rx.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                let g = rdy.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                rdx.storeBytes(of: g * Self.geluDerivative(v), toByteOffset: i * 4, as: V.self)
                i += 16
            }
            while i < count { dx[i] = dy[i] * Self.geluDerivative(V(repeating: x[i]))[0]; i += 1 }
        }
    }

    @inline(__always)
    static func gelu(_ x: FastMath.V) -> FastMath.V {
        typealias V = FastMath.V
        let u = V(repeating: c0) * (x + V(repeating: c1) * x * x * x)
        return V(repeating: 0.5) * x * (V(repeating: 1) + FastMath.tanh(u))
    }

    @inline(__always)
    static func geluDerivative(_ x: FastMath.V) -> FastMath.V {
        typealias V = FastMath.V
        let x2 = x * x
        let u = V(repeating: c0) * (x + V(repeating: c1) * x2 * x)
        let t = FastMath.tanh(u)
        let du = V(repeating: c0) * (V(repeating: 1) + V(repeating: 3 * c1) * x2)
        return V(repeating: 0.5) * (V(repeating: 1) + t) + V(repeating: 0.5) * x * (V(repeating: 1) - t * t) * du
    }
}
