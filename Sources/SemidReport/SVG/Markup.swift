/// Escaping for text placed in HTML or SVG.
public enum Markup {
    /// `text` safe as element content and as a double- or single-quoted attribute value in HTML
    /// and SVG: `&`, `<`, `>`, `"` and `'` become entities, and control characters other than tab,
    /// line feed and carriage return (which XML forbids) are dropped. O(length).
    public static func escape(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    continue
                }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
