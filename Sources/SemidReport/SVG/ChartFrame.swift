/// The geometry shared by every chart: the SVG's size, the plot area inside its margins, the
/// legend row above it, and the drawing of axes, grid and legend.
struct ChartFrame {
    /// SVG width and height (the `viewBox`; the page scales it to the column width).
    var width: Double
    var height: Double
    /// Margins around the plot area.
    var left = 62.0, right = 18.0, top = 30.0, bottom = 46.0

    /// The plot area's left, right, top and bottom edges.
    var plotLeft: Double { left }
    var plotRight: Double { width - right }
    var plotTop: Double { top }
    var plotBottom: Double { height - bottom }

    /// Legend entries laid out left to right from the plot's left edge, wrapping; returns the rows
    /// needed (the caller sets `top` from it before drawing).
    static func legendRows(_ entries: [LegendEntry], width: Double, left: Double) -> [[(LegendEntry, Double)]] {
        var rows: [[(LegendEntry, Double)]] = [[]]
        var x = left
        for entry in entries {
            let w = 29 + TextWidth.estimate(entry.name, fontSize: 12)
            if x + w > width - 8, !rows[rows.count - 1].isEmpty {
                rows.append([])
                x = left
            }
            rows[rows.count - 1].append((entry, x))
            x += w + 14
        }
        return rows.filter { !$0.isEmpty }
    }

    /// Draws the legend rows above the plot area.
    func drawLegend(_ rows: [[(LegendEntry, Double)]], into svg: inout SVGWriter) {
        for (r, row) in rows.enumerated() {
            let y = 13 + Double(r) * 16
            for (entry, x) in row {
                switch entry.mark {
                case .line(let slot, let dash):
                    svg.element("line", ["x1": .number(x), "y1": .number(y), "x2": .number(x + 24), "y2": .number(y),
                                         "stroke": .text(Palette.color(slot)), "stroke-width": 2.5,
                                         "stroke-dasharray": .text(Palette.dash(dash))])
                case .lineWithMarker(let slot, let dash):
                    svg.element("line", ["x1": .number(x), "y1": .number(y), "x2": .number(x + 24), "y2": .number(y),
                                         "stroke": .text(Palette.color(slot)), "stroke-width": 2.5,
                                         "stroke-dasharray": .text(Palette.dash(dash))])
                    Marker.draw(at: x + 12, y, slot: slot, radius: 3.6, classes: nil, into: &svg)
                case .bar(let slot):
                    svg.element("rect", ["x": .number(x + 6), "y": .number(y - 5), "width": 12, "height": 10,
                                         "fill": .text(Palette.color(slot))])
                case .area(let slot):
                    svg.element("rect", ["x": .number(x + 2), "y": .number(y - 5), "width": 20, "height": 10,
                                         "fill": .text(Palette.color(slot)), "fill-opacity": 0.35,
                                         "stroke": .text(Palette.color(slot)), "stroke-width": 1.5])
                case .marker(let slot):
                    Marker.draw(at: x + 12, y, slot: slot, radius: 3.6, classes: nil, into: &svg)
                case .rule:
                    svg.element("line", ["x1": .number(x), "y1": .number(y), "x2": .number(x + 24), "y2": .number(y),
                                         "stroke": .text(Palette.muted), "stroke-width": 1.2, "stroke-dasharray": "3 3"])
                }
                svg.text(entry.name, ["x": .number(x + 29), "y": .number(y + 4), "class": "legend"])
            }
        }
    }

    /// Draws horizontal grid lines and tick labels for `y`, tick marks and labels for `x` (when
    /// `xTicks` is given; category charts label their own), the axis lines and both axis titles.
    func drawAxes(x: Axis, xScale: Scale?, xTicks: [Double], y: Axis, yScale: Scale, into svg: inout SVGWriter) {
        let yTicks = yScale.ticks(count: y.ticks)
        for (t, label) in zip(yTicks, y.tickLabels(yTicks, on: yScale)) {
            let py = yScale.position(t)
            svg.element("line", ["x1": .number(plotLeft), "y1": .number(py), "x2": .number(plotRight), "y2": .number(py),
                                 "class": "grid"])
            svg.text(label, ["x": .number(plotLeft - 6), "y": .number(py + 4), "class": "tick", "text-anchor": "end"])
        }
        if let xScale {
            for (t, label) in zip(xTicks, x.tickLabels(xTicks, on: xScale)) {
                let px = xScale.position(t)
                svg.element("line", ["x1": .number(px), "y1": .number(plotBottom), "x2": .number(px), "y2": .number(plotBottom + 5),
                                     "class": "axis"])
                svg.text(label, ["x": .number(px), "y": .number(plotBottom + 18), "class": "tick",
                                                      "text-anchor": "middle"])
            }
        }
        svg.element("line", ["x1": .number(plotLeft), "y1": .number(plotBottom), "x2": .number(plotRight), "y2": .number(plotBottom),
                             "class": "axis"])
        svg.element("line", ["x1": .number(plotLeft), "y1": .number(plotTop), "x2": .number(plotLeft), "y2": .number(plotBottom),
                             "class": "axis"])
        svg.text(x.label, ["x": .number((plotLeft + plotRight) / 2), "y": .number(height - 8), "class": "axis-title",
                           "text-anchor": "middle"])
        let cy = (plotTop + plotBottom) / 2
        svg.text(y.label, ["x": 14, "y": .number(cy), "class": "axis-title", "text-anchor": "middle",
                           "transform": .text("rotate(-90 14 \(NumberFormat.coordinate(cy)))")])
    }

    /// Writes "no data" in the middle of the plot area.
    func drawEmpty(_ message: String, into svg: inout SVGWriter) {
        svg.text(message, ["x": .number((plotLeft + plotRight) / 2), "y": .number((plotTop + plotBottom) / 2),
                           "class": "empty", "text-anchor": "middle"])
    }

    /// The opening `<svg>` tag: responsive `viewBox`, accessible name, the `plot` class the page's
    /// CSS and the browser test look for.
    func open(label: String, kind: String) -> String {
        "<svg class=\"plot \(kind)\" viewBox=\"0 0 \(NumberFormat.coordinate(width)) \(NumberFormat.coordinate(height))\" "
            + "role=\"img\" aria-label=\"\(Markup.escape(label))\" xmlns=\"http://www.w3.org/2000/svg\">"
    }
}

/// A legend entry: a name and the mark that stands for it.
struct LegendEntry {
    enum Mark {
        case line(slot: Int, dash: Int)
        case area(slot: Int)
        case bar(slot: Int)
        case marker(slot: Int)
        /// A line and the slot's marker (a line with markers).
        case lineWithMarker(slot: Int, dash: Int)
        case rule
    }
    var name: String
    var mark: Mark
}
