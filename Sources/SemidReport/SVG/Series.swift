/// A point of a data series.
public struct Point: Sendable, Equatable {
    /// Horizontal data value.
    public var x: Double
    /// Vertical data value.
    public var y: Double
    /// The marker's tooltip, when it should say more than `x → y` (e.g. the exact value of a
    /// point drawn slightly beside its `x`).
    public var label: String?

    /// A point.
    public init(_ x: Double, _ y: Double, label: String? = nil) {
        self.x = x
        self.y = y
        self.label = label
    }
}

/// A named sequence of points drawn as a line, steps or markers.
public struct Series: Sendable {
    /// How the points are joined.
    public enum Style: Sendable, Equatable {
        /// Straight segments between points.
        case line
        /// Straight segments with a marker on every point (for few points, e.g. one per level).
        case lineWithMarkers
        /// Markers only (e.g. evaluations every few epochs).
        case markers
        /// A vertical stem from the bottom of the plot to each point, with a marker on top
        /// ("lollipops"): discrete values where joining neighbours would invent the values between.
        case stems
    }

    /// The legend name; empty for no legend entry.
    public var name: String
    /// The points, in increasing `x`.
    public var points: [Point]
    /// How the points are joined.
    public var style: Style
    /// Palette slot of the colour (``Palette/color(_:)``).
    public var colorSlot: Int
    /// Palette slot of the dash pattern (``Palette/dash(_:)``); defaults to the colour's.
    public var dashSlot: Int

    /// A series; `dashSlot` defaults to `colorSlot`.
    public init(_ name: String, points: [Point], style: Style = .line, colorSlot: Int = 0, dashSlot: Int? = nil) {
        self.name = name
        self.points = points
        self.style = style
        self.colorSlot = colorSlot
        self.dashSlot = dashSlot ?? colorSlot
    }

    /// The same series with at most about `maxPoints` points: the points (in `x` order) split into
    /// `maxPoints / 2` equal runs and each run keeps its lowest and highest point in their order,
    /// so spikes survive (min–max decimation). The first and last points are always kept. O(n).
    public func decimated(maxPoints: Int) -> Series {
        let n = points.count, budget = max(4, maxPoints)
        guard n > budget else { return self }
        let buckets = (budget - 2) / 2
        var kept: [Point] = [points[0]]
        kept.reserveCapacity(budget)
        for b in 0..<buckets {
            let start = 1 + b * (n - 2) / buckets, end = 1 + (b + 1) * (n - 2) / buckets
            guard start < end else { continue }
            var lo = start, hi = start
            for i in start..<end {
                if points[i].y < points[lo].y { lo = i }
                if points[i].y > points[hi].y { hi = i }
            }
            if lo == hi { kept.append(points[lo]) } else { kept += lo < hi ? [points[lo], points[hi]] : [points[hi], points[lo]] }
        }
        kept.append(points[n - 1])
        var copy = self
        copy.points = kept
        return copy
    }
}
