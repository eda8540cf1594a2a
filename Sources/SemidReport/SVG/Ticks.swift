import Foundation

/// "Nice" axis ticks: round numbers (1, 2 or 5 × 10ᵏ apart on linear axes, powers of ten on
/// logarithmic ones) that cover a data range, after Heckbert's "Nice numbers for graph labels".
public enum Ticks {
    /// The nice step (1, 2 or 5 × 10ᵏ) nearest to `span / count` (on a log scale: the thresholds are
    /// 1.5, 3 and 7), so the axis gets about `count` ticks; 1 for an empty or non-finite span.
    public static func niceStep(span: Double, count: Int) -> Double {
        guard span.isFinite, span > 0, count > 0 else { return 1 }
        let raw = span / Double(count)
        let power = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let fraction = raw / power
        let nice: Double = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        return nice * power
    }

    /// The multiples of a nice step (about `count` of them) that lie in `[lower, upper]`, in
    /// increasing order. A degenerate range gives its one value; a non-finite one gives none.
    public static func linear(_ lower: Double, _ upper: Double, count: Int = 5) -> [Double] {
        guard lower.isFinite, upper.isFinite else { return [] }
        let (lo, hi) = (min(lower, upper), max(lower, upper))
        if lo == hi { return [lo] }
        let step = niceStep(span: hi - lo, count: max(1, count))
        return multiples(of: step, from: lo, to: hi)
    }

    /// Multiples of `step` within `[lo, hi]` (with a tolerance of 1e-9 steps), rounded to the
    /// step's precision so that `0.1 + 0.2` prints as `0.3`.
    static func multiples(of step: Double, from lo: Double, to hi: Double) -> [Double] {
        let first = (lo / step - 1e-9).rounded(.up), last = (hi / step + 1e-9).rounded(.down)
        guard first <= last, last - first < 10_000 else { return [] }
        let digits = Double(NumberFormat.decimals(for: step))
        let unit = Foundation.pow(10, digits)
        return stride(from: first, through: last, by: 1).map { i in
            let v = ((i * step) * unit).rounded() / unit
            return v == 0 ? 0 : v
        }
    }

    /// `[lower, upper]` widened outwards to multiples of the nice step for `count` ticks, so the
    /// axis starts and ends on a tick. A degenerate range `[v, v]` widens to `v ± 10%` (or `±0.5`
    /// around 0) first, so one value still gets an axis with ticks.
    public static func niceDomain(_ lower: Double, _ upper: Double, count: Int = 5) -> (lower: Double, upper: Double) {
        guard lower.isFinite, upper.isFinite else { return (0, 1) }
        var (lo, hi) = (min(lower, upper), max(lower, upper))
        if lo == hi {
            let pad = lo == 0 ? 0.5 : abs(lo) * 0.1
            (lo, hi) = (lo - pad, hi + pad)
        }
        let step = niceStep(span: hi - lo, count: max(1, count))
        // The tolerance keeps an end that already is a multiple (up to rounding) where it is.
        let unit = Foundation.pow(10, Double(NumberFormat.decimals(for: step)))
        func clean(_ v: Double) -> Double { let r = (v * unit).rounded() / unit; return r == 0 ? 0 : r }
        return (clean((lo / step + 1e-9).rounded(.down) * step), clean((hi / step - 1e-9).rounded(.up) * step))
    }

    /// Ticks of a logarithmic axis over `[lower, upper]` (both > 0): the powers of ten inside it,
    /// with 2× and 5× added when it spans at most 2.5 decades, thinned to every second, third, …
    /// power when it spans more than `maxCount` decades. Falls back to ``linear(_:_:count:)``
    /// inside a range too narrow to hold two such ticks.
    public static func logarithmic(_ lower: Double, _ upper: Double, maxCount: Int = 7) -> [Double] {
        guard lower.isFinite, upper.isFinite, lower > 0, upper > 0 else { return [] }
        let (lo, hi) = (min(lower, upper), max(lower, upper))
        let first = Int(Foundation.floor(Foundation.log10(lo) + 1e-9)), last = Int(Foundation.ceil(Foundation.log10(hi) - 1e-9))
        let decades = last - first
        let dense = Foundation.log10(hi / lo) <= 2.5
        let multipliers: [Double] = dense ? [1, 2, 5] : [1]
        let every = max(1, Int((Double(decades + 1) / Double(max(1, maxCount))).rounded(.up)))
        var ticks: [Double] = []
        for e in first...max(first, last) where (e - first) % every == 0 || dense {
            for m in multipliers {
                let v = m * Foundation.pow(10, Double(e))
                if v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9) { ticks.append(v) }
            }
        }
        return ticks.count >= 2 ? ticks : linear(lo, hi, count: 4).filter { $0 > 0 }
    }

    /// `[lower, upper]` (both > 0) widened to the nearest 1, 2 or 5 × 10ᵏ outside it; a degenerate
    /// range widens to the neighbouring such values.
    public static func logDomain(_ lower: Double, _ upper: Double) -> (lower: Double, upper: Double) {
        guard lower.isFinite, upper.isFinite, lower > 0, upper > 0 else { return (1, 10) }
        let (a, b) = (min(lower, upper), max(lower, upper))
        func steps(around v: Double) -> [Double] {
            let decade = Foundation.pow(10, Foundation.floor(Foundation.log10(v)))
            return [0.5, 1, 2, 5, 10, 20].map { $0 * decade }
        }
        var lo = steps(around: a).last { $0 <= a * (1 + 1e-9) } ?? a
        var hi = steps(around: b).first { $0 >= b * (1 - 1e-9) } ?? b
        if hi <= lo {
            lo = steps(around: a).last { $0 < a * (1 - 1e-9) } ?? a / 2
            hi = steps(around: b).first { $0 > b * (1 + 1e-9) } ?? b * 2
        }
        return (lo, hi)
    }
}
