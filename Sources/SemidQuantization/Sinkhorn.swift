import Foundation
import SemidMath

/// Sinkhorn–Knopp balanced assignment (as in LC-Rec's "uniform semantic mapping").
///
/// Given a cost matrix `[n, K]` (squared distances of n vectors to K codes), it finds the
/// transport plan `Q = diag(u)·exp(−C/ε)·diag(v)` whose rows each carry mass `1/n` and whose columns
/// each carry `1/K`, i.e. a soft assignment that spreads the vectors evenly over the codes, and
/// assigns each vector to its row's largest entry. Costs are centred and scaled (zero mean, unit
/// standard deviation over the matrix) first, so `ε` does not depend on the data's scale.
/// Computed in the log domain, so small `ε` (LC-Rec uses 0.003) does not overflow.
public enum Sinkhorn {
    /// Parameters of the balanced assignment.
    public struct Configuration: Codable, Equatable, Sendable {
        /// Entropic regularisation on standardised costs (smaller = closer to a hard balanced assignment).
        public var epsilon: Double
        /// Sinkhorn–Knopp iterations (row + column normalisation each).
        public var iterations: Int

        /// LC-Rec's defaults: ε = 0.003, 50 iterations.
        public init(epsilon: Double = 0.003, iterations: Int = 50) {
            self.epsilon = epsilon
            self.iterations = iterations
        }

        /// Throws for non-positive `epsilon` or fewer than one iteration.
        public func validate() throws {
            if !(epsilon > 0) || !epsilon.isFinite {
                throw QuantizationError.invalidParameter(name: "sinkhorn.epsilon", value: "\(epsilon)", expected: "a positive number")
            }
            if iterations < 1 {
                throw QuantizationError.invalidParameter(name: "sinkhorn.iterations", value: "\(iterations)", expected: "at least 1")
            }
        }
    }

    /// For each row of `costs` (`[n, K]`), the column it is assigned to by the balanced plan.
    /// Ties go to the lower column. Deterministic.
    public static func assign(costs: Matrix, configuration: Configuration) -> [Int] {
        let n = costs.rows, k = costs.cols
        guard n > 0, k > 0 else { return [] }
        // Standardise the costs.
        var mean = 0.0
        for c in costs.values { mean += Double(c) }
        mean /= Double(n * k)
        var variance = 0.0
        for c in costs.values { variance += (Double(c) - mean) * (Double(c) - mean) }
        let std = max((variance / Double(n * k)).squareRoot(), 1e-12)
        // log K(i, j) = −C'(i, j)/ε
        var logKernel = [Double](repeating: 0, count: n * k)
        for i in 0..<(n * k) { logKernel[i] = -((Double(costs.values[i]) - mean) / std) / configuration.epsilon }
        var logU = [Double](repeating: 0, count: n)
        var logV = [Double](repeating: 0, count: k)
        let logRowMass = -ExactMath.log(Double(n)), logColumnMass = -ExactMath.log(Double(k))
        var scratch = [Double](repeating: 0, count: max(n, k))
        for _ in 0..<configuration.iterations {
            // Rows: u_i = r_i / Σ_j K_ij v_j
            for i in 0..<n {
                for j in 0..<k { scratch[j] = logKernel[i * k + j] + logV[j] }
                logU[i] = logRowMass - logSumExp(scratch, count: k)
            }
            // Columns: v_j = c_j / Σ_i K_ij u_i
            for j in 0..<k {
                for i in 0..<n { scratch[i] = logKernel[i * k + j] + logU[i] }
                logV[j] = logColumnMass - logSumExp(scratch, count: n)
            }
        }
        var out = [Int](repeating: 0, count: n)
        for i in 0..<n {
            var best = 0
            var bestValue = -Double.infinity
            for j in 0..<k {
                let v = logKernel[i * k + j] + logV[j]   // + logU[i], constant per row
                if v > bestValue { bestValue = v; best = j }
            }
            out[i] = best
        }
        return out
    }

    static func logSumExp(_ values: [Double], count: Int) -> Double {
        var m = -Double.infinity
        for i in 0..<count { m = max(m, values[i]) }
        guard m.isFinite else { return m }
        var s = 0.0
        for i in 0..<count { s += ExactMath.exp(values[i] - m) }
        return m + ExactMath.log(s)
    }
}
