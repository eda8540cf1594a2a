import Foundation

extension ModelConfiguration {
    /// A lower bound on the bytes training this model needs over `items` items with `batch`
    /// sequences per step: weights with their gradients and AdamW moments (4 copies), the
    /// activations kept for the backward pass of every block (`≈ (12·d + 4·f)` floats per
    /// position, and the attention probabilities `heads × T²` per sequence, twice), and the items
    /// head's logit chunks. `nil` when the count overflows.
    public func trainingBytesLowerBound(items: Int, batch: Int) -> Int? {
        let t = maxHistory + 1
        let d = dimension, f = feedForward
        func product(_ factors: Int...) -> Int? {
            var total = 1
            for x in factors {
                let (p, overflow) = total.multipliedReportingOverflow(by: x)
                if overflow || x < 0 { return nil }
                total = p
            }
            return total
        }
        func sum(_ terms: Int?...) -> Int? {
            var total = 0
            for case let x? in terms {
                let (s, overflow) = total.addingReportingOverflow(x)
                if overflow { return nil }
                total = s
            }
            return terms.contains { $0 == nil } ? nil : total
        }
        let weights = sum(product(layers, 4 * d * d + 2 * d * f), itemEmbeddings ? product(items, d) : 0,
                          product(t, d), product(contentDimension, d))
        let positions = product(batch, t)
        let perBlock = sum(positions.flatMap { product($0, 12 * d + 4 * f) }, product(batch, heads, t, t, 2))
        let activations = perBlock.flatMap { product(layers, $0) }
        let head = hasItemHead ? product(4, 256 + d, items) : 0
        guard let floats = sum(weights.flatMap { product(4, $0) }, activations, head) else { return nil }
        return product(4, floats)
    }

    /// Throws ``ModelError/invalidConfiguration(_:)`` when training this model over `items` items
    /// with `batch` sequences per step cannot fit in this machine's memory, naming the settings
    /// to lower; checked before anything is allocated.
    public func checkTrainingMemory(items: Int, batch: Int) throws {
        let available = ProcessInfo.processInfo.physicalMemory
        let gib = { (bytes: Double) in String(format: "%.1f GiB", bytes / Double(1 << 30)) }
        guard let needed = trainingBytesLowerBound(items: items, batch: batch) else {
            throw ModelError.invalidConfiguration("training with --dim \(dimension), --feed-forward \(feedForward), --layers \(layers), --max-history \(maxHistory) and --batch \(batch) over \(items) items needs more memory than can be counted; lower them")
        }
        guard UInt64(needed) <= available else {
            throw ModelError.invalidConfiguration("training with --dim \(dimension), --feed-forward \(feedForward), --layers \(layers), --max-history \(maxHistory) and --batch \(batch) over \(items) items needs at least \(gib(Double(needed))) of memory, this machine has \(gib(Double(available))); lower them")
        }
    }
}
