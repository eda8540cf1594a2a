import Foundation

/// Locale-independent number formatting for plots and readings.
public enum NumberFormat {
    /// An SVG coordinate: rounded to 0.1, never `-0`, never an exponent; non-finite values become `0`
    /// (callers never pass them; the fallback keeps the document well-formed).
    public static func coordinate(_ x: Double) -> String {
        guard x.isFinite else { return "0" }
        let tenths = (x * 10).rounded()
        if tenths == 0 { return "0" }
        if tenths.truncatingRemainder(dividingBy: 10) == 0 { return String(Int64(tenths / 10)) }
        return String(format: "%.1f", tenths / 10)
    }

    /// The label of a tick at `value` on an axis whose ticks are `step` apart: just enough decimals
    /// to tell neighbours apart; millions as `M` and billions as `G`, thousands as `k` from 10,000
    /// (or from 1,000 when the ticks are thousands apart): `12k`, `1.5M`; below 0.001 `2e-5`.
    public static func tick(_ value: Double, step: Double) -> String {
        guard value.isFinite else { return "" }
        let magnitude = abs(value)
        if magnitude > 0 && magnitude < 1e-3 { return scientific(value) }
        for (scale, suffix) in [(1e9, "G"), (1e6, "M")] where magnitude >= scale {
            return trimmed(value / scale, decimals: min(decimals(for: step / scale), 3)) + suffix
        }
        if magnitude >= 1e4 || (magnitude >= 1e3 && step >= 1e3) {
            return trimmed(value / 1e3, decimals: min(decimals(for: step / 1e3), 3)) + "k"
        }
        return trimmed(value, decimals: decimals(for: step))
    }

    /// `value` as `2e-5` (or `2.5e-5`): a mantissa with at most 2 significant digits and an exponent.
    static func scientific(_ value: Double) -> String {
        let exponent = Int(Foundation.floor(Foundation.log10(abs(value)) + 1e-9))
        let mantissa = value / Foundation.pow(10, Double(exponent))
        let m = abs(mantissa - mantissa.rounded()) < 1e-6 ? String(Int(mantissa.rounded())) : String(format: "%.1f", mantissa)
        return "\(m)e\(exponent)"
    }

    /// Decimals needed to show multiples of `step` (0 for steps ≥ 1; 1 for 0.5; 2 for 0.25).
    static func decimals(for step: Double) -> Int {
        guard step.isFinite, step > 0 else { return 0 }
        for digits in 0...12 {
            let scaled = step * Foundation.pow(10, Double(digits))
            if abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled) { return digits }
        }
        return 12
    }

    /// `value` with `decimals` decimals, never `-0`.
    static func trimmed(_ value: Double, decimals: Int) -> String {
        let text = String(format: "%.\(decimals)f", value)
        if text.hasPrefix("-"), Double(text) == 0 { return String(text.dropFirst()) }
        return text
    }

    /// An integer with thousands separators: `12,101`.
    public static func integer(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// `x` with `digits` decimals.
    public static func fixed(_ x: Double, _ digits: Int = 3) -> String {
        guard x.isFinite else { return "–" }
        return trimmed(x, decimals: digits)
    }

    /// `x` (a fraction) as a percentage with `digits` decimals: `0.0053` → `0.53%`.
    public static func percent(_ x: Double, _ digits: Int = 1) -> String {
        guard x.isFinite else { return "–" }
        return trimmed(x * 100, decimals: digits) + "%"
    }

    /// ``significant(_:_:)`` without trailing zeros after the decimal point (`0.1`, not `0.1000`),
    /// for tooltips.
    public static func compact(_ x: Double, _ digits: Int = 4) -> String {
        let text = significant(x, digits)
        guard text.contains("."), !text.contains("e") else { return text }
        var trimmed = Substring(text)
        while trimmed.hasSuffix("0") { trimmed = trimmed.dropLast() }
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }

    /// `x` with `digits` significant digits, without an exponent for |x| in [1e-4, 1e7).
    public static func significant(_ x: Double, _ digits: Int = 3) -> String {
        guard x.isFinite else { return "–" }
        if x == 0 { return "0" }
        let magnitude = abs(x)
        if x == x.rounded() && magnitude < 1e7 { return integer(Int(x)) }
        if magnitude >= 1e7 || magnitude < 1e-4 { return String(format: "%.\(max(0, digits - 1))e", x) }
        let exponent = Int(Foundation.floor(Foundation.log10(magnitude)))
        let decimals = max(0, digits - 1 - exponent)
        if decimals == 0 && magnitude >= 1000 { return integer(Int(x.rounded())) }
        return trimmed(x, decimals: decimals)
    }
}
