import Foundation

/// Counts of values in consecutive bins `[edges[i], edges[i+1])` (the last bin is closed).
///
/// Building one is a single O(n) pass, so a million values become a few dozen numbers before any
/// markup is written.
public struct Histogram: Sendable, Equatable {
    /// Bin edges, increasing; `counts.count + 1` values.
    public var edges: [Double]
    /// Values per bin.
    public var counts: [Int]
    /// Values above the last edge that were counted in the last bin.
    public var clampedAbove: Int
    /// Values below the first edge that were counted in the first bin.
    public var clampedBelow: Int

    /// All values counted.
    public var total: Int { counts.reduce(0, +) }

    /// A histogram with the given edges and counts.
    public init(edges: [Double], counts: [Int], clampedAbove: Int = 0, clampedBelow: Int = 0) {
        precondition(edges.count == counts.count + 1, "edges must be one more than counts")
        self.edges = edges
        self.counts = counts
        self.clampedAbove = clampedAbove
        self.clampedBelow = clampedBelow
    }

    /// `bins` equal-width bins over `[lower, upper]`; values outside go to the first or last bin
    /// (and are counted in ``clampedBelow`` / ``clampedAbove``); non-finite values are skipped.
    /// A degenerate range widens to `lower … lower + 1`.
    public init<C: Collection>(values: C, bins: Int, lower: Double, upper: Double) where C.Element: BinaryFloatingPoint {
        let bins = max(1, bins)
        let lo = lower.isFinite ? lower : 0
        let hi = upper.isFinite && upper > lo ? upper : lo + 1
        let width = (hi - lo) / Double(bins)
        var counts = [Int](repeating: 0, count: bins)
        var above = 0, below = 0
        for value in values {
            let v = Double(value)
            guard v.isFinite else { continue }
            if v < lo { below += 1; counts[0] += 1; continue }
            if v > hi { above += 1; counts[bins - 1] += 1; continue }
            counts[min(bins - 1, Int((v - lo) / width))] += 1
        }
        self.init(edges: (0...bins).map { lo + Double($0) * width }, counts: counts, clampedAbove: above, clampedBelow: below)
    }

    /// A histogram of positive integers from `weights[value] = count`: one bin per value up to
    /// `exactUpTo`, then bins whose width grows by `growth` (equal widths on a logarithmic axis), so
    /// values up to 10⁶ need a few dozen bins. Edges are half-integers (`v − 0.5 … v + 0.5` for an
    /// exact bin); values below 1 are ignored. O(distinct values × log bins).
    public static func ofIntegers(_ weights: [Int: Int], exactUpTo: Int = 10, growth: Double = 1.26) -> Histogram {
        let largest = max(1, weights.keys.max() ?? 1)
        var lowers = Array(1...max(1, min(largest, exactUpTo)))
        var next = lowers[lowers.count - 1] + 1
        while next <= largest {
            lowers.append(next)
            next = max(next + 1, Int((Double(next) * max(1.01, growth)).rounded()))
        }
        // `next` is past the largest value: the last bin is lowers.last … next − 1.
        let edges = lowers.map { Double($0) - 0.5 } + [Double(next) - 0.5]
        var counts = [Int](repeating: 0, count: lowers.count)
        for (value, count) in weights where value >= 1 {
            var lo = 0, hi = lowers.count - 1
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if lowers[mid] <= value { lo = mid } else { hi = mid - 1 }
            }
            counts[lo] += count
        }
        return Histogram(edges: edges, counts: counts)
    }

    /// The value below which a fraction `q` of `sorted` (ascending) lies, by linear interpolation
    /// between order statistics; `nil` for no values.
    public static func quantile<C: RandomAccessCollection>(_ q: Double, ofSorted sorted: C) -> Double?
    where C.Element: BinaryFloatingPoint, C.Index == Int {
        guard !sorted.isEmpty else { return nil }
        let position = min(1, max(0, q)) * Double(sorted.count - 1)
        let i = Int(position), f = position - Double(i)
        let a = Double(sorted[sorted.startIndex + i])
        let b = Double(sorted[sorted.startIndex + min(sorted.count - 1, i + 1)])
        return a + (b - a) * f
    }
}
