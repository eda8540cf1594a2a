import SemidMath
import Foundation

/// Layer normalisation over the last axis: `y = γ ⊙ (x − μ)/√(σ² + ε) + β`, per row.
///
/// The forward pass keeps the normalised rows `x̂` and `1/√(σ² + ε)` for the backward pass.
public enum LayerNorm {
    /// The `ε` added to the variance.
    public static let epsilon: Float = 1e-5

    /// Normalises `rows` rows of `x` `[rows, dim]` into `y`, storing `x̂` in `normalized` and the
    /// inverse standard deviations in `inverseStd` (`[rows]`).
    package static func forward(
        _ x: UnsafePointer<Float>, rows: Int, dim: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        into y: UnsafeMutablePointer<Float>, normalized: UnsafeMutablePointer<Float>, inverseStd: UnsafeMutablePointer<Float>
    ) {
        let invDim = 1 / Float(dim)
        for r in 0..<rows {
            let xr = x + r * dim, yr = y + r * dim, nr = normalized + r * dim
            var mean: Float = 0
            for j in 0..<dim { mean += xr[j] }
            mean *= invDim
            var variance: Float = 0
            for j in 0..<dim { let c = xr[j] - mean; variance += c * c }
            variance *= invDim
            let rstd = 1 / (variance + epsilon).squareRoot()
            inverseStd[r] = rstd
            for j in 0..<dim {
                let n = (xr[j] - mean) * rstd
                nr[j] = n
                yr[j] = n * gamma[j] + beta[j]
            }
        }
    }

    /// Back-propagates `dy`: accumulates `dγ`, `dβ` and writes (or, with `accumulate`, adds) `dx`.
    ///
    /// `dx = rstd/d · (d·ĝ − Σĝ − x̂·Σ(ĝ⊙x̂))` with `ĝ = dy ⊙ γ`.
    package static func backward(
        gradient dy: UnsafePointer<Float>, rows: Int, dim: Int, gamma: UnsafePointer<Float>,
        normalized: UnsafePointer<Float>, inverseStd: UnsafePointer<Float>,
        gammaGradient: UnsafeMutablePointer<Float>, betaGradient: UnsafeMutablePointer<Float>,
        inputGradient dx: UnsafeMutablePointer<Float>, accumulate: Bool = false
    ) {
        let invDim = 1 / Float(dim)
        for r in 0..<rows {
            let dyr = dy + r * dim, nr = normalized + r * dim, dxr = dx + r * dim
            var sumG: Float = 0, sumGN: Float = 0
            for j in 0..<dim {
                let g = dyr[j] * gamma[j]
                sumG += g
                sumGN += g * nr[j]
                gammaGradient[j] += dyr[j] * nr[j]
                betaGradient[j] += dyr[j]
            }
            let rstd = inverseStd[r]
            let meanG = sumG * invDim, meanGN = sumGN * invDim
            if accumulate {
                for j in 0..<dim { dxr[j] += rstd * (dyr[j] * gamma[j] - meanG - nr[j] * meanGN) }
            } else {
                for j in 0..<dim { dxr[j] = rstd * (dyr[j] * gamma[j] - meanG - nr[j] * meanGN) }
            }
        }
    }
}
