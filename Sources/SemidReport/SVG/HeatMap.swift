import Foundation

/// A grid of coloured cells: one row per label (e.g. quantizer level), one column per position
/// (e.g. code), colour = value on the viridis map (logarithmic by default); zero cells are pale.
///
/// More than ``maxColumns`` columns are summed into equal runs first, so a 65,536-code level
/// still draws ``maxColumns`` cells per row.
public struct HeatMap: Sendable {
    /// Row labels, top to bottom.
    public var rowLabels: [String]
    /// Values per row (rows may differ in length; missing cells are not drawn).
    public var values: [[Double]]
    /// What a column is, e.g. `"code id"`.
    public var columnTitle: String
    /// What a value is, e.g. `"items per code"` (legend and tooltips).
    public var valueTitle: String
    /// Name of a zero cell in the legend, e.g. `"dead code"`.
    public var zeroLabel: String
    /// Colour by the logarithm of the value (counts spanning decades) or linearly.
    public var logarithmic = true
    /// Columns drawn at most per row.
    public var maxColumns = 256
    /// `viewBox` width.
    public var width: Double = 560
    /// Height of one row of cells.
    public var rowHeight: Double = 22
    /// The accessible description.
    public var label: String = ""

    /// A heat map.
    public init(rowLabels: [String], values: [[Double]], columnTitle: String, valueTitle: String, zeroLabel: String, label: String = "") {
        self.rowLabels = rowLabels
        self.values = values
        self.columnTitle = columnTitle
        self.valueTitle = valueTitle
        self.zeroLabel = zeroLabel
        self.label = label
    }

    /// One drawn cell: columns `first…last` summed, and how many of them were zero.
    struct Cell { var first: Int; var last: Int; var value: Double; var zeros: Int }

    /// The cells of `row`: one per column, or sums over equal runs when it has more than `maxColumns`.
    static func cells(_ row: [Double], maxColumns: Int) -> [Cell] {
        let n = row.count, m = max(1, maxColumns)
        guard n > m else { return row.enumerated().map { Cell(first: $0, last: $0, value: $1, zeros: $1 == 0 ? 1 : 0) } }
        return (0..<m).map { b in
            let start = b * n / m, end = (b + 1) * n / m
            var sum = 0.0, zeros = 0
            for v in row[start..<end] { sum += v; if v == 0 { zeros += 1 } }
            return Cell(first: start, last: end - 1, value: sum, zeros: zeros)
        }
    }

    /// The SVG height for the rows.
    public var height: Double { 40 + rowHeight * Double(max(1, rowLabels.count)) + 46 }

    /// The SVG markup.
    public func render() -> String {
        var frame = ChartFrame(width: width, height: height)
        frame.top = 40
        let rows = values.map { Self.cells($0, maxColumns: maxColumns) }
        let positives = rows.flatMap { $0.map(\.value) }.filter { $0 > 0 && $0.isFinite }
        let lo = positives.min() ?? 1, hi = positives.max() ?? 1
        let columns = values.map(\.count).max() ?? 0
        func t(_ v: Double) -> Double {
            guard hi > lo else { return 0.6 }
            return logarithmic ? (Foundation.log(v) - Foundation.log(lo)) / (Foundation.log(hi) - Foundation.log(lo)) : (v - lo) / (hi - lo)
        }
        var svg = SVGWriter()
        svg.raw(frame.open(label: label, kind: "heat"))
        // Legend: the colour ramp from the smallest to the largest value, and the zero swatch.
        let rampX = frame.plotLeft, rampW = 150.0
        for i in 0..<30 {
            svg.element("rect", ["x": .number(rampX + rampW * Double(i) / 30), "y": 8, "width": .number(rampW / 30 + 0.4), "height": 10,
                                 "fill": .text(Palette.sequential(Double(i) / 29))])
        }
        func legendText(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? NumberFormat.integer(Int(v)) : NumberFormat.significant(v, 3) }
        svg.text(legendText(lo), ["x": .number(rampX), "y": 31, "class": "tick", "text-anchor": "start"])
        svg.text(legendText(hi), ["x": .number(rampX + rampW), "y": 31, "class": "tick", "text-anchor": "end"])
        svg.text("\(valueTitle)\(logarithmic ? " (log colour)" : "")", ["x": .number(rampX + rampW + 10), "y": 17, "class": "legend"])
        let zeroX = frame.plotRight - 8 - TextWidth.estimate(zeroLabel, fontSize: 12) - 18
        svg.element("rect", ["x": .number(zeroX), "y": 8, "width": 12, "height": 10, "fill": .text(Palette.empty), "stroke": .text(Palette.axis),
                             "stroke-width": 0.6])
        svg.text(zeroLabel, ["x": .number(zeroX + 17), "y": 17, "class": "legend"])

        let plotW = frame.plotRight - frame.plotLeft
        if columns == 0 || rows.isEmpty {
            frame.drawEmpty("no data", into: &svg)
        }
        svg.group("g", ["class": "marks"]) { svg in
            for (r, cells) in rows.enumerated() {
                let y = frame.plotTop + rowHeight * Double(r)
                let cellW = plotW / Double(max(1, cells.count))
                svg.text(r < rowLabels.count ? rowLabels[r] : "", ["x": .number(frame.plotLeft - 6), "y": .number(y + rowHeight / 2 + 4),
                                                                   "class": "tick", "text-anchor": "end"])
                for (c, cell) in cells.enumerated() {
                    let fill = cell.value > 0 ? Palette.sequential(t(cell.value)) : Palette.empty
                    let what = cell.first == cell.last ? "\(columnTitle) \(cell.first)" : "\(columnTitle)s \(cell.first)–\(cell.last)"
                    let zeros = cell.first == cell.last ? "" : ", \(cell.zeros) with none"
                    svg.element("rect", ["x": .number(frame.plotLeft + cellW * Double(c)), "y": .number(y + 1),
                                         "width": .number(cellW + 0.3), "height": .number(rowHeight - 2), "fill": .text(fill),
                                         "class": "mark cell"],
                                tooltip: "\(r < rowLabels.count ? rowLabels[r] + ", " : "")\(what): \(NumberFormat.significant(cell.value, 4)) \(valueTitle)\(zeros)")
                }
            }
        }
        // Column axis: ticks at column indices.
        let bottom = frame.plotTop + rowHeight * Double(rows.count)
        let scale = Scale(.linear, domain: (0, Double(max(1, columns))), range: (frame.plotLeft, frame.plotRight))
        for tick in Ticks.linear(0, Double(max(0, columns - 1)), count: 6) {
            let px = scale.position(tick + 0.5)
            svg.element("line", ["x1": .number(px), "y1": .number(bottom), "x2": .number(px), "y2": .number(bottom + 5), "class": "axis"])
            svg.text(NumberFormat.tick(tick, step: 1), ["x": .number(px), "y": .number(bottom + 18), "class": "tick", "text-anchor": "middle"])
        }
        svg.text(columnTitle, ["x": .number((frame.plotLeft + frame.plotRight) / 2), "y": .number(bottom + 36), "class": "axis-title",
                               "text-anchor": "middle"])
        svg.raw("</svg>")
        return svg.markup
    }
}
