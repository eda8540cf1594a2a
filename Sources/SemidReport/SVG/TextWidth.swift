/// An estimate of how wide a line of text is drawn, for laying out legends and labels before
/// the browser measures anything (the page has no script).
///
/// Widths are those of DejaVu Sans, the widest of the page's fallback fonts (Debian's default
/// sans-serif), per character class in ems, so a layout that fits with it fits with narrower
/// system fonts too. O(characters).
enum TextWidth {
    /// The width of `text` at `fontSize` (px).
    static func estimate(_ text: String, fontSize: Double) -> Double {
        var ems = 0.0
        for c in text {
            ems += width(of: c)
        }
        return ems * fontSize
    }

    /// One character's advance in ems.
    static func width(of c: Character) -> Double {
        switch c {
        case "i", "j", "l", ".", ",", ":", ";", "'", "|", "!", "(", ")", "[", "]", " ": return 0.32
        case "f", "t", "r", "I", "-", "/": return 0.42
        case "m", "w", "M", "W", "@", "%": return 0.95
        case "A"..."Z", "×", "÷", "≥", "≤", "–", "—", "…": return 0.72
        case "0"..."9", "a"..."z", "+", "=", "<", ">", "#", "$", "&", "?", "_", "~", "^", "*": return 0.62
        default: return 0.7
        }
    }
}
