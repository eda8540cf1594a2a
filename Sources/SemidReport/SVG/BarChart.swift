/// Grouped bars over categories: one bar per group (e.g. per index) in each category (e.g. per level).
public struct BarChart: Sendable {
    /// One group of bars: a value per category (`nil` = no bar there, e.g. an index with fewer levels).
    public struct Group: Sendable {
        /// The legend name.
        public var name: String
        /// Palette slot.
        public var slot: Int
        /// One value per category.
        public var values: [Double?]

        /// A group.
        public init(_ name: String, slot: Int, values: [Double?]) {
            self.name = name
            self.slot = slot
            self.values = values
        }
    }

    /// Category labels along the horizontal axis.
    public var categories: [String]
    /// The bar groups.
    public var groups: [Group]
    /// The title under the categories (e.g. `"level"`).
    public var categoryTitle: String
    /// The value axis.
    public var y: Axis
    /// `viewBox` width.
    public var width: Double = 560
    /// `viewBox` height.
    public var height: Double = 300
    /// The accessible description.
    public var label: String = ""
    /// Whether to write each bar's value above it (when bars are wide enough).
    public var valueLabels = true

    /// A chart.
    public init(categories: [String], groups: [Group], categoryTitle: String, y: Axis, label: String = "") {
        self.categories = categories
        self.groups = groups
        self.categoryTitle = categoryTitle
        self.y = y
        self.label = label
    }

    /// The SVG markup.
    public func render() -> String {
        var frame = ChartFrame(width: width, height: height)
        let legend = groups.count > 1 || !(groups.first?.name.isEmpty ?? true)
            ? groups.map { LegendEntry(name: $0.name, mark: .bar(slot: $0.slot)) } : []
        let rows = ChartFrame.legendRows(legend, width: width, left: frame.left)
        // Room for the legend rows and, above the tallest bars, their value labels.
        frame.top = (rows.isEmpty ? 10 : 12 + 16 * Double(rows.count)) + (valueLabels ? 12 : 0)
        let values = groups.flatMap { $0.values.compactMap { $0 } }
        let yScale = y.scale(for: values, range: (frame.plotBottom, frame.plotTop))
        var svg = SVGWriter()
        svg.raw(frame.open(label: label, kind: "bars"))
        var xAxis = Axis(categoryTitle)
        xAxis.unit = nil
        frame.drawAxes(x: xAxis, xScale: nil, xTicks: [], y: y, yScale: yScale, into: &svg)
        frame.drawLegend(rows, into: &svg)
        let hasData = !groups.isEmpty && !categories.isEmpty && values.contains { $0.isFinite }
        if !hasData {
            frame.drawEmpty("no data", into: &svg)
            svg.raw("</svg>")
            return svg.markup
        }
        let band = (frame.plotRight - frame.plotLeft) / Double(categories.count)
        let inner = band * 0.8, barWidth = inner / Double(max(1, groups.count))
        let base = yScale.position(yScale.kind == .logarithmic ? yScale.domain.lower : max(yScale.domain.lower, 0))
        let labelEvery = max(1, Int((Double(categories.count) * 34 / (frame.plotRight - frame.plotLeft)).rounded(.up)))
        for (c, category) in categories.enumerated() where c % labelEvery == 0 {
            svg.text(category, ["x": .number(frame.plotLeft + band * (Double(c) + 0.5)), "y": .number(frame.plotBottom + 18),
                                "class": "tick", "text-anchor": "middle"])
        }
        svg.group("g", ["class": "marks"]) { svg in
            for (g, group) in groups.enumerated() {
                for (c, value) in group.values.enumerated() where c < categories.count {
                    guard let value, value.isFinite else { continue }
                    let x0 = frame.plotLeft + band * Double(c) + (band - inner) / 2 + barWidth * Double(g)
                    let top = yScale.position(value)
                    svg.element("rect", ["x": .number(x0 + 0.5), "y": .number(min(top, base)), "width": .number(max(0.8, barWidth - 1)),
                                         "height": .number(max(0.8, abs(base - top))), "fill": .text(Palette.color(group.slot)),
                                         "class": "mark bar"],
                                tooltip: "\(group.name.isEmpty ? "" : group.name + ", ")\(categoryTitle) \(categories[c]): \(Self.valueText(value, y))")
                    if valueLabels && barWidth >= 22 {
                        svg.text(Self.valueText(value, y), ["x": .number(x0 + barWidth / 2), "y": .number(min(top, base) - 4),
                                                            "class": "value", "text-anchor": "middle"])
                    }
                }
            }
        }
        svg.raw("</svg>")
        return svg.markup
    }

    /// A bar's value as its label: percentages with one decimal, other numbers with 3 significant digits.
    static func valueText(_ value: Double, _ axis: Axis) -> String {
        axis.format == .percent ? NumberFormat.percent(value, value >= 0.995 || value == 0 ? 0 : 1) : NumberFormat.significant(value, 3)
    }
}
