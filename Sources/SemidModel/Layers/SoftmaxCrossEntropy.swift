import Foundation
import SemidMath

/// Softmax cross-entropy over classes, fused with its gradient, with an optional mask of allowed
/// classes per row (the masked softmax normalises over the allowed classes only).
public enum SoftmaxCrossEntropy {
    /// For every row `r` of `logits` `[rows, classes]`: `loss_r = log Σ_allowed exp(z) − z[target_r]`,
    /// written to `rowLoss[r]`; the row is overwritten by `weight · (softmax(z) − onehot(target))`,
    /// which is `∂(weight·loss_r)/∂z`. A row whose target is negative is skipped (loss and
    /// gradient 0). Rows run in parallel.
    ///
    /// - Parameter allowed: optional `[rows, classes]` of `1` (allowed) or `0` (masked out); the
    ///   target must be allowed.
    ///   - bias: optional `[classes]` added to every row first (the logits are `z + bias`).
    ///   - parallel: split the rows across cores (off when the caller already runs in parallel).
    /// - Returns: `Σ_r loss_r` (unweighted).
    @discardableResult
    public static func lossAndGradient(
        logits: UnsafeMutablePointer<Float>, rows: Int, classes: Int, targets: UnsafePointer<Int32>,
        weight: Float, allowed: UnsafePointer<Float>? = nil, bias: UnsafePointer<Float>? = nil,
        rowLoss: UnsafeMutablePointer<Float>, parallel: Bool = true
    ) -> Double {
        let z = SharedMutablePointer(logits), lossOut = SharedMutablePointer(rowLoss)
        let al = allowed.map { SharedMutablePointer(UnsafeMutablePointer(mutating: $0)) }
        let bi = bias.map { SharedMutablePointer(UnsafeMutablePointer(mutating: $0)) }
        Parallel.forEachChunk(count: rows, minimumChunk: parallel ? max(1, 65536 / max(1, classes)) : Int.max / 2) { range in
            for r in range {
                let row = z.pointer + r * classes
                if let bi { for j in 0..<classes { row[j] += bi.pointer[j] } }
                let target = Int(targets[r])
                guard target >= 0 else {
                    row.update(repeating: 0, count: classes)
                    lossOut.pointer[r] = 0
                    continue
                }
                let picked = row[target]
                if let al {
                    let a = al.pointer + r * classes
                    for j in 0..<classes where a[j] == 0 { row[j] = -.infinity }
                }
                let logPartition = FastMath.softmaxInPlace(row, count: classes)
                if let al {
                    let a = al.pointer + r * classes
                    for j in 0..<classes { row[j] *= a[j] }
                }
                lossOut.pointer[r] = logPartition - picked
                FastMath.scale(row, count: classes, by: weight)
                row[target] -= weight
            }
        }
        var total = 0.0
        for r in 0..<rows { total += Double(rowLoss[r]) }
        return total
    }
}
