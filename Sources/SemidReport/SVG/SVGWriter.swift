/// Builds SVG markup: elements with escaped attributes, appended to one growing string.
///
/// Coordinates go through ``NumberFormat/coordinate(_:)`` (0.1 px) to keep documents small.
public struct SVGWriter {
    /// The markup so far.
    public private(set) var markup = ""

    /// An empty writer.
    public init() {}

    /// An attribute value: a number (written as a coordinate) or text (escaped).
    public enum Value: ExpressibleByStringLiteral, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
        /// A coordinate or length.
        case number(Double)
        /// Any other value.
        case text(String)

        public init(stringLiteral value: String) { self = .text(value) }
        public init(floatLiteral value: Double) { self = .number(value) }
        public init(integerLiteral value: Int) { self = .number(Double(value)) }

        var rendered: String {
            switch self {
            case .number(let x): return NumberFormat.coordinate(x)
            case .text(let s): return Markup.escape(s)
            }
        }
    }

    /// `name="value"` pairs in the given order; `nil` values and empty text values are left out.
    static func attributes(_ pairs: KeyValuePairs<String, Value?>) -> String {
        var out = ""
        for (key, value) in pairs {
            guard let value else { continue }
            if case .text(let s) = value, s.isEmpty { continue }
            out += " \(key)=\"\(value.rendered)\""
        }
        return out
    }

    /// Appends `<name attributes/>`, or `<name attributes><title>tooltip</title></name>` with a tooltip.
    public mutating func element(_ name: String, _ pairs: KeyValuePairs<String, Value?>, tooltip: String? = nil) {
        if let tooltip {
            markup += "<\(name)\(Self.attributes(pairs))><title>\(Markup.escape(tooltip))</title></\(name)>"
        } else {
            markup += "<\(name)\(Self.attributes(pairs))/>"
        }
    }

    /// Appends `<text attributes>content</text>` (content escaped).
    public mutating func text(_ content: String, _ pairs: KeyValuePairs<String, Value?>) {
        markup += "<text\(Self.attributes(pairs))>\(Markup.escape(content))</text>"
    }

    /// Appends `<name attributes>`, runs `body`, then appends `</name>`.
    public mutating func group(_ name: String = "g", _ pairs: KeyValuePairs<String, Value?> = [:], _ body: (inout SVGWriter) -> Void) {
        markup += "<\(name)\(Self.attributes(pairs))>"
        body(&self)
        markup += "</\(name)>"
    }

    /// Appends already-built markup as is.
    public mutating func raw(_ markup: String) { self.markup += markup }

    /// An SVG path's `d` through `points` (`M x y L x y …`), or empty for no points.
    public static func polyline(_ points: [(Double, Double)]) -> String {
        var d = ""
        d.reserveCapacity(points.count * 12)
        for (i, p) in points.enumerated() {
            d += (i == 0 ? "M" : "L") + NumberFormat.coordinate(p.0) + " " + NumberFormat.coordinate(p.1)
        }
        return d
    }
}
