/// Point markers whose shape, like their colour and the line's dash, depends on the series slot
/// (circle, square, triangle, diamond, …), so overlaid series stay apart without colour.
enum Marker {
    /// The shapes by slot (wrapping around).
    enum Shape: CaseIterable { case circle, square, triangle, diamond }

    /// The shape of slot `slot`.
    static func shape(_ slot: Int) -> Shape {
        let all = Shape.allCases
        return all[((slot % all.count) + all.count) % all.count]
    }

    /// Draws slot `slot`'s marker centred on (`x`, `y`) with about `radius` px, filled with the
    /// slot's colour; `classes` and `tooltip` as for any mark.
    static func draw(at x: Double, _ y: Double, slot: Int, radius r: Double = 3.2, classes: String? = "mark",
                     tooltip: String? = nil, into svg: inout SVGWriter) {
        let color = Palette.color(slot)
        switch shape(slot) {
        case .circle:
            svg.element("circle", ["cx": .number(x), "cy": .number(y), "r": .number(r), "fill": .text(color), "class": classes.map(SVGWriter.Value.text)],
                        tooltip: tooltip)
        case .square:
            let s = r * 0.9
            svg.element("rect", ["x": .number(x - s), "y": .number(y - s), "width": .number(2 * s), "height": .number(2 * s),
                                 "fill": .text(color), "class": classes.map(SVGWriter.Value.text)], tooltip: tooltip)
        case .triangle:
            let s = r * 1.25
            let d = SVGWriter.polyline([(x, y - s), (x + s * 0.95, y + s * 0.7), (x - s * 0.95, y + s * 0.7)]) + "Z"
            svg.element("path", ["d": .text(d), "fill": .text(color), "class": classes.map(SVGWriter.Value.text)], tooltip: tooltip)
        case .diamond:
            let s = r * 1.25
            let d = SVGWriter.polyline([(x, y - s), (x + s, y), (x, y + s), (x - s, y)]) + "Z"
            svg.element("path", ["d": .text(d), "fill": .text(color), "class": classes.map(SVGWriter.Value.text)], tooltip: tooltip)
        }
    }
}
