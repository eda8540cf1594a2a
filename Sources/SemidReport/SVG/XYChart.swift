/// A chart with two numeric axes: lines, histograms and reference rules, overlaid.
///
/// ```swift
/// var chart = XYChart(x: Axis("epoch"), y: Axis("loss", kind: .logarithmic))
/// chart.layers = [.series(Series("reconstruction", points: points))]
/// let svg = chart.render()
/// ```
///
/// Rendering is O(points) after ``Series/decimated(maxPoints:)`` caps every series at about
/// two points per horizontal pixel, so the markup stays small for any amount of data.
public struct XYChart: Sendable {
    /// A drawn layer.
    public enum Layer: Sendable {
        /// A line, line with markers, or markers.
        case series(Series)
        /// A histogram drawn as a filled staircase in palette slot `slot`; with `asShare` the
        /// heights are fractions of the histogram's total (for comparing sets of different sizes).
        case histogram(Histogram, name: String, slot: Int, asShare: Bool, unit: String)
        /// A vertical reference line at `x`, labelled at the top (e.g. "kept epoch", "mean").
        case verticalRule(x: Double, label: String, slot: Int?)
        /// A horizontal reference line at `y`, labelled at the right (e.g. "uniform").
        case horizontalRule(y: Double, label: String)
    }

    /// The horizontal axis.
    public var x: Axis
    /// The vertical axis.
    public var y: Axis
    /// Layers, drawn in order.
    public var layers: [Layer] = []
    /// `viewBox` width.
    public var width: Double = 560
    /// `viewBox` height.
    public var height: Double = 300
    /// The accessible description (`aria-label`).
    public var label: String = ""
    /// Shown in the middle when no layer has data.
    public var emptyMessage = "no data"

    /// A chart with these axes and no layers.
    public init(x: Axis, y: Axis, layers: [Layer] = [], label: String = "") {
        self.x = x
        self.y = y
        self.layers = layers
        self.label = label
    }

    /// Whether any layer holds a point, a non-empty histogram or a rule.
    public var hasData: Bool {
        layers.contains { layer in
            switch layer {
            case .series(let s): return !s.points.isEmpty
            case .histogram(let h, _, _, _, _): return h.total > 0
            case .verticalRule, .horizontalRule: return false
            }
        }
    }

    /// Heights of a histogram layer's bins.
    static func heights(_ h: Histogram, asShare: Bool) -> [Double] {
        let total = Double(max(1, h.total))
        return h.counts.map { asShare ? Double($0) / total : Double($0) }
    }

    /// The SVG markup.
    public func render() -> String {
        var frame = ChartFrame(width: width, height: height)
        let legend = layers.compactMap { layer -> LegendEntry? in
            switch layer {
            case .series(let s) where !s.name.isEmpty:
                let mark: LegendEntry.Mark
                switch s.style {
                case .line: mark = .line(slot: s.colorSlot, dash: s.dashSlot)
                case .lineWithMarkers: mark = .lineWithMarker(slot: s.colorSlot, dash: s.dashSlot)
                case .markers, .stems: mark = .marker(slot: s.colorSlot)
                }
                return LegendEntry(name: s.name, mark: mark)
            case .histogram(_, let name, let slot, _, _) where !name.isEmpty:
                return LegendEntry(name: name, mark: .area(slot: slot))
            default: return nil
            }
        }
        let rows = ChartFrame.legendRows(legend, width: width, left: frame.left)
        frame.top = rows.isEmpty ? 14 : 18 + 16 * Double(rows.count)
        let pixels = Int(frame.plotRight - frame.plotLeft)

        // Data extents (decimated series first: the extent is the same, the work is not).
        var xs: [Double] = [], ys: [Double] = []
        var drawn: [Layer] = []
        for layer in layers {
            switch layer {
            case .series(let s):
                let d = s.decimated(maxPoints: 2 * pixels)
                xs += d.points.map(\.x); ys += d.points.map(\.y)
                // A stem needs room below its point: on a log axis the smallest one would sit on the bottom edge.
                if s.style == .stems, y.kind == .logarithmic, let lowest = d.points.map(\.y).filter({ $0 > 0 }).min() { ys.append(lowest / 2) }
                drawn.append(.series(d))
            case let .histogram(h, _, _, asShare, _):
                if h.total > 0 {
                    xs += [h.edges.first!, h.edges.last!]
                    ys += Self.heights(h, asShare: asShare)
                }
                drawn.append(layer)
            case .verticalRule(let v, _, _):
                if hasData { xs.append(v) }
                drawn.append(layer)
            case .horizontalRule(let v, _):
                if hasData { ys.append(v) }
                drawn.append(layer)
            }
        }
        let xScale = x.scale(for: xs, range: (frame.plotLeft, frame.plotRight))
        let yScale = y.scale(for: ys, range: (frame.plotBottom, frame.plotTop))
        let yBase = yScale.position(yScale.kind == .logarithmic ? yScale.domain.lower : max(yScale.domain.lower, min(0, yScale.domain.upper)))

        var svg = SVGWriter()
        svg.raw(frame.open(label: label, kind: "xy"))
        frame.drawAxes(x: x, xScale: xScale, xTicks: xScale.ticks(count: x.ticks), y: y, yScale: yScale, into: &svg)
        frame.drawLegend(rows, into: &svg)
        if !hasData {
            frame.drawEmpty(emptyMessage, into: &svg)
        } else {
            var ruleIndex = 0
            svg.group("g", ["class": "marks"]) { svg in
                for layer in drawn {
                    switch layer {
                    case .series(let s):
                        Self.draw(s, x: xScale, y: yScale, base: yBase, into: &svg)
                    case let .histogram(h, name, slot, asShare, unit):
                        Self.draw(h, name: name, slot: slot, asShare: asShare, unit: unit, base: yBase, x: xScale, y: yScale, into: &svg)
                    case let .verticalRule(v, label, slot):
                        let px = xScale.position(v)
                        let color = slot.map(Palette.color) ?? Palette.muted
                        svg.element("line", ["x1": .number(px), "y1": .number(frame.plotTop), "x2": .number(px), "y2": .number(frame.plotBottom),
                                             "stroke": .text(color), "stroke-width": 1.3, "stroke-dasharray": "4 3", "class": "rule"])
                        let anchor = px > (frame.plotLeft + frame.plotRight) / 2 ? "end" : "start"
                        svg.text(label, ["x": .number(px + (anchor == "end" ? -4 : 4)), "y": .number(frame.plotTop + 12 + 13 * Double(ruleIndex % 3)),
                                         "class": "rule-label", "fill": .text(color), "text-anchor": .text(anchor)])
                        ruleIndex += 1
                    case let .horizontalRule(v, label):
                        let py = yScale.position(v)
                        svg.element("line", ["x1": .number(frame.plotLeft), "y1": .number(py), "x2": .number(frame.plotRight), "y2": .number(py),
                                             "stroke": .text(Palette.muted), "stroke-width": 1.2, "stroke-dasharray": "3 3", "class": "rule"])
                        svg.text(label, ["x": .number(frame.plotRight - 4), "y": .number(py - 5), "class": "rule-label",
                                         "fill": .text(Palette.muted), "text-anchor": "end"])
                    }
                }
            }
        }
        svg.raw("</svg>")
        return svg.markup
    }

    /// Draws `s`; stems start at `base` (the plot's bottom, or 0 on a linear axis that holds it).
    static func draw(_ s: Series, x: Scale, y: Scale, base: Double, into svg: inout SVGWriter) {
        let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite }.map { (x.position($0.x), y.position($0.y)) }
        guard !pts.isEmpty else { return }
        let color = Palette.color(s.colorSlot)
        if s.style == .stems {
            var d = ""
            for (px, py) in pts { d += "M" + NumberFormat.coordinate(px) + " " + NumberFormat.coordinate(base) + "V" + NumberFormat.coordinate(py) }
            svg.element("path", ["d": .text(d), "fill": "none", "stroke": .text(color), "stroke-width": 1.6, "class": "mark stem"])
        } else if s.style != .markers {
            svg.element("path", ["d": .text(SVGWriter.polyline(pts)), "fill": "none", "stroke": .text(color), "stroke-width": 2,
                                 "stroke-dasharray": .text(Palette.dash(s.dashSlot)), "stroke-linejoin": "round", "class": "mark line"])
        }
        if s.style != .line || pts.count == 1 {
            for (p, (px, py)) in zip(s.points.filter { $0.x.isFinite && $0.y.isFinite }, pts) {
                Marker.draw(at: px, py, slot: s.colorSlot, tooltip: p.label ?? "\(s.name.isEmpty ? "" : s.name + ": ")\(NumberFormat.compact(p.x)) → \(NumberFormat.compact(p.y))",
                            into: &svg)
            }
        }
    }

    static func draw(_ h: Histogram, name: String, slot: Int, asShare: Bool, unit: String, base: Double,
                     x: Scale, y: Scale, into svg: inout SVGWriter) {
        guard h.total > 0 else { return }
        let heights = Self.heights(h, asShare: asShare)
        var outline: [(Double, Double)] = [(x.position(h.edges[0]), base)]
        for (i, v) in heights.enumerated() {
            let py = v > 0 || y.kind == .linear ? y.position(v) : base
            outline.append((x.position(h.edges[i]), py))
            outline.append((x.position(h.edges[i + 1]), py))
        }
        outline.append((x.position(h.edges.last!), base))
        let color = Palette.color(slot)
        svg.element("path", ["d": .text(SVGWriter.polyline(outline) + "Z"), "fill": .text(color), "fill-opacity": 0.22,
                             "stroke": .text(color), "stroke-width": 1.8, "stroke-dasharray": .text(Palette.dash(slot)),
                             "stroke-linejoin": "round", "class": "mark histogram"])
        // Invisible bins carry the exact figures as tooltips.
        for (i, count) in h.counts.enumerated() where count > 0 {
            let x0 = x.position(h.edges[i]), x1 = x.position(h.edges[i + 1])
            let share = Double(count) / Double(h.total)
            svg.element("rect", ["x": .number(x0), "y": .number(y.range.end), "width": .number(max(0.5, x1 - x0)),
                                 "height": .number(y.range.start - y.range.end), "fill": "transparent", "class": "hit"],
                        tooltip: "\(name.isEmpty ? "" : name + ": ")\(NumberFormat.significant(h.edges[i], 3))–\(NumberFormat.significant(h.edges[i + 1], 3)): "
                            + "\(NumberFormat.integer(count)) \(unit) (\(NumberFormat.percent(share, 2)))")
        }
    }
}
