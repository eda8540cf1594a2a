import Foundation

/// Colours and line dashes that stay distinguishable for colour-blind readers and in grey print.
///
/// Series colours are Okabe & Ito's palette ("Color Universal Design", 2008); every series slot
/// also has its own dash pattern, so overlaid lines differ in two ways. The sequential map of heat
/// maps is viridis (perceptually uniform, readable in every common form of colour blindness).
public enum Palette {
    /// Series colours by slot: blue, orange, bluish green, reddish purple, sky blue, vermillion, yellow, grey.
    public static let series = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#C9B400", "#666666"]
    /// Dash patterns by slot (`stroke-dasharray`; empty = solid).
    public static let dashes = ["", "7 3", "2 2.5", "9 3 2 3", "4 2", "1 3", "12 3", "5 2 1 2"]

    /// The colour of series slot `slot` (wrapping around).
    public static func color(_ slot: Int) -> String { series[((slot % series.count) + series.count) % series.count] }
    /// The dash pattern of series slot `slot` (wrapping around).
    public static func dash(_ slot: Int) -> String { dashes[((slot % dashes.count) + dashes.count) % dashes.count] }

    /// Text and axis colours.
    public static let ink = "#1f2328", muted = "#57606a", grid = "#e4e7eb", axis = "#8c959f"
    /// The fill of heat-map cells with no items (dead codes): pale, outside the sequential map.
    public static let empty = "#f3f0ea"

    /// viridis at 9 evenly spaced stops, dark purple (0) to yellow (1).
    static let viridis: [(Double, Double, Double)] = [
        (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
        (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
    ]

    /// The sequential colour at `t` in `[0, 1]` (clamped), as `#rrggbb`.
    public static func sequential(_ t: Double) -> String {
        let x = (t.isFinite ? min(1, max(0, t)) : 0) * Double(viridis.count - 1)
        let i = min(viridis.count - 2, Int(x)), f = x - Double(i)
        let (a, b) = (viridis[i], viridis[i + 1])
        func channel(_ u: Double, _ v: Double) -> Int { Int((u + (v - u) * f).rounded()) }
        return String(format: "#%02x%02x%02x", channel(a.0, b.0), channel(a.1, b.1), channel(a.2, b.2))
    }
}
