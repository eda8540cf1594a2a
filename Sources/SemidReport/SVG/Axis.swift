/// One axis of a chart: its title and unit, spacing, domain and tick labels.
public struct Axis: Sendable {
    /// How tick values are written.
    public enum Format: Sendable, Equatable {
        /// Plain numbers (`0.25`, `12k`).
        case number
        /// Fractions as percentages (`0.25` → `25%`).
        case percent
    }

    /// What the axis measures, e.g. `"items per code"`.
    public var title: String
    /// The unit, shown in parentheses after the title (e.g. `"items"`, `"% of items"`); `nil` for none.
    public var unit: String?
    /// Linear or logarithmic spacing.
    public var kind: Scale.Kind
    /// A fixed lower end; `nil` to take it from the data (widened to a tick).
    public var lower: Double?
    /// A fixed upper end; `nil` to take it from the data (widened to a tick).
    public var upper: Double?
    /// Whether the domain must reach 0 (ignored on a logarithmic axis).
    public var includeZero: Bool
    /// How tick labels are written.
    public var format: Format
    /// About how many ticks.
    public var ticks: Int

    /// An axis.
    public init(_ title: String, unit: String? = nil, kind: Scale.Kind = .linear, lower: Double? = nil, upper: Double? = nil,
                includeZero: Bool = false, format: Format = .number, ticks: Int = 5) {
        self.title = title
        self.unit = unit
        self.kind = kind
        self.lower = lower
        self.upper = upper
        self.includeZero = includeZero
        self.format = format
        self.ticks = ticks
    }

    /// The title with its unit: `items per code (items)`.
    public var label: String { unit.map { "\(title) (\($0))" } ?? title }

    /// The scale over the data values `values` (only positive ones count on a logarithmic axis)
    /// mapped onto `range`. With no usable values the domain is `[0, 1]` (`[1, 10]` logarithmic).
    public func scale<S: Sequence>(for values: S, range: (start: Double, end: Double)) -> Scale where S.Element == Double {
        var lo = Double.infinity, hi = -Double.infinity
        for v in values where v.isFinite && (kind == .linear || v > 0) {
            lo = min(lo, v)
            hi = max(hi, v)
        }
        if lo > hi { (lo, hi) = kind == .linear ? (0, 1) : (1, 10) }
        if includeZero && kind == .linear { lo = min(lo, 0); hi = max(hi, 0) }
        if let lower { lo = lower }
        if let upper { hi = upper }
        if lower != nil && upper != nil && hi > lo { return Scale(kind, domain: (lo, hi), range: range) }
        var scale = Scale.nice(kind, lower: lo, upper: max(lo, hi), range: range, ticks: ticks)
        if let lower, lower < scale.domain.upper { scale.domain.lower = lower }
        if let upper, upper > scale.domain.lower { scale.domain.upper = upper }
        return scale
    }

    /// The labels of `ticks` on `scale`, in one style: on a logarithmic axis where a tick needs an
    /// exponent (below 0.001), every tick below 1 gets one too (`1e-3`, `1e-4`, not `0.001`, `1e-4`).
    public func tickLabels(_ ticks: [Double], on scale: Scale) -> [String] {
        let labels = ticks.map { tickLabel($0, on: scale) }
        guard scale.kind == .logarithmic, format == .number, labels.contains(where: { $0.contains("e") }) else { return labels }
        return zip(ticks, labels).map { t, label in t > 0 && t < 1 ? NumberFormat.scientific(t) : label }
    }

    /// The label of tick `value` on `scale`.
    public func tickLabel(_ value: Double, on scale: Scale) -> String {
        let step = scale.kind == .logarithmic ? value : scale.tickStep(count: ticks)
        switch format {
        case .number: return NumberFormat.tick(value, step: step)
        case .percent: return NumberFormat.tick(value * 100, step: step * 100) + "%"
        }
    }
}
