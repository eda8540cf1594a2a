import Foundation

/// Maps data values to pixel positions, linearly or logarithmically.
public struct Scale: Sendable, Equatable {
    /// How values are spaced.
    public enum Kind: Sendable, Equatable {
        /// Equal differences are equal distances.
        case linear
        /// Equal ratios are equal distances; values ≤ 0 sit at the lower end of the domain.
        case logarithmic
    }

    /// How values are spaced.
    public var kind: Kind
    /// The data values at the two ends (`lower < upper` once made with ``init(_:domain:range:)``).
    public var domain: (lower: Double, upper: Double)
    /// The pixel positions of `domain.lower` and `domain.upper` (`range.start > range.end` for a y axis
    /// drawn upwards).
    public var range: (start: Double, end: Double)

    /// A scale over `domain` (kept as given if valid; for a logarithmic scale both ends must be
    /// positive, else the domain falls back to `[1, 10]`).
    public init(_ kind: Kind, domain: (lower: Double, upper: Double), range: (start: Double, end: Double)) {
        self.kind = kind
        var d = domain
        if !(d.lower.isFinite && d.upper.isFinite) { d = (0, 1) }
        if kind == .logarithmic && !(d.lower > 0 && d.upper > 0) { d = (1, 10) }
        if d.lower > d.upper { d = (d.upper, d.lower) }
        self.domain = d
        self.range = range
    }

    /// A scale whose domain is the nice widening of `lower … upper` (see ``Ticks/niceDomain(_:_:count:)``
    /// and ``Ticks/logDomain(_:_:)``).
    public static func nice(_ kind: Kind, lower: Double, upper: Double, range: (start: Double, end: Double),
                            ticks: Int = 5) -> Scale {
        switch kind {
        case .linear: return Scale(.linear, domain: Ticks.niceDomain(lower, upper, count: ticks), range: range)
        case .logarithmic: return Scale(.logarithmic, domain: Ticks.logDomain(lower, upper), range: range)
        }
    }

    /// The pixel position of `value`, clamped to the range (non-finite values map to the start).
    public func position(_ value: Double) -> Double {
        let t: Double
        switch kind {
        case .linear:
            let span = domain.upper - domain.lower
            t = span > 0 ? (value - domain.lower) / span : 0.5
        case .logarithmic:
            let lo = Foundation.log10(domain.lower), hi = Foundation.log10(domain.upper)
            t = value > 0 && hi > lo ? (Foundation.log10(value) - lo) / (hi - lo) : 0
        }
        let clamped = t.isFinite ? min(1, max(0, t)) : 0
        return range.start + clamped * (range.end - range.start)
    }

    /// Tick values inside the domain (about `count` for a linear scale).
    public func ticks(count: Int = 5) -> [Double] {
        switch kind {
        case .linear: return Ticks.linear(domain.lower, domain.upper, count: count)
        case .logarithmic: return Ticks.logarithmic(domain.lower, domain.upper, maxCount: count + 2)
        }
    }

    /// The distance between neighbouring linear ticks (for labels), or 1 on a logarithmic scale.
    public func tickStep(count: Int = 5) -> Double {
        let t = ticks(count: count)
        guard kind == .linear, t.count >= 2 else { return kind == .linear ? Ticks.niceStep(span: domain.upper - domain.lower, count: count) : 1 }
        return t[1] - t[0]
    }

    public static func == (a: Scale, b: Scale) -> Bool {
        a.kind == b.kind && a.domain == b.domain && a.range == b.range
    }
}
