import Foundation
import SemidQuantization
import Testing
@testable import SemidReport

/// Histograms, decimation and the SVG charts: shapes, empty data, one value, a million points.
@Suite("SVG charts")
struct ChartTests {
    /// Every number in an SVG's attribute values and text, so that none is NaN or infinite.
    static func checkWellFormed(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(svg.hasPrefix("<svg class=\"plot"), sourceLocation: sourceLocation)
        #expect(svg.hasSuffix("</svg>"), sourceLocation: sourceLocation)
        for bad in ["nan", "NaN", "inf", "Optional("] {
            #expect(!svg.contains(bad), "the SVG contains \(bad)", sourceLocation: sourceLocation)
        }
        #expect(svg.components(separatedBy: "<g").count == svg.components(separatedBy: "</g>").count, sourceLocation: sourceLocation)
    }

    /// How many elements with class `mark` (data marks) the SVG has.
    static func marks(_ svg: String) -> Int {
        svg.components(separatedBy: "class=\"mark\"").count + svg.components(separatedBy: "class=\"mark ").count - 2
    }

    @Test("histogram: equal bins, edges, clamping outside the range, non-finite values skipped")
    func histogram() {
        let h = Histogram(values: [0, 0.1, 0.49, 0.5, 0.99, 1, 1.5, -1, Float.nan] as [Float], bins: 2, lower: 0, upper: 1)
        #expect(h.edges == [0, 0.5, 1])
        #expect(h.counts == [4, 4], "−1 joins the first bin, 1.5 the last; NaN is skipped")
        #expect(h.clampedBelow == 1 && h.clampedAbove == 1)
        #expect(h.total == 8)
        let flat = Histogram(values: [3, 3, 3] as [Double], bins: 4, lower: 3, upper: 3)
        #expect(flat.total == 3 && flat.edges.first == 3 && flat.edges.last == 4, "a degenerate range widens")
        let none = Histogram(values: [Double](), bins: 5, lower: 0, upper: 1)
        #expect(none.total == 0 && none.counts.count == 5)
    }

    @Test("quantiles interpolate between order statistics")
    func quantiles() {
        let sorted: [Float] = [1, 2, 3, 4, 5]
        #expect(Histogram.quantile(0, ofSorted: sorted) == 1)
        #expect(Histogram.quantile(0.5, ofSorted: sorted) == 3)
        #expect(Histogram.quantile(0.875, ofSorted: sorted) == 4.5)
        #expect(Histogram.quantile(1, ofSorted: sorted) == 5)
        #expect(Histogram.quantile(0.5, ofSorted: [Float]()) == nil)
    }

    @Test("1M values become 50 bins; 1M points are decimated to the pixel budget with their extremes kept")
    func millionPoints() {
        var generator = SystemRandomNumberGenerator()
        let values = (0..<1_000_000).map { _ in Float.random(in: 0..<2, using: &generator) }
        let h = Histogram(values: values, bins: 50, lower: 0, upper: 2)
        #expect(h.total == 1_000_000 && h.counts.count == 50)

        var points = (0..<1_000_000).map { Point(Double($0), sin(Double($0) / 1000)) }
        points[123_456].y = 7
        points[654_321].y = -9
        let series = Series("s", points: points)
        let small = series.decimated(maxPoints: 1000)
        #expect(small.points.count <= 1000)
        #expect(small.points.first == points.first && small.points.last == points.last)
        #expect(small.points.contains(points[123_456]) && small.points.contains(points[654_321]), "spikes survive")
        #expect(zip(small.points, small.points.dropFirst()).allSatisfy { $0.x < $1.x }, "x order is kept")
        #expect(Series("s", points: Array(points.prefix(10))).decimated(maxPoints: 1000).points.count == 10, "short series are kept")

        // The charts stay small however many values went in.
        let chart = XYChart(x: Axis("x"), y: Axis("y"), layers: [.series(series)]).render()
        let histogram = XYChart(x: Axis("error"), y: Axis("share", format: .percent),
                                layers: [.histogram(h, name: "all", slot: 0, asShare: true, unit: "items")]).render()
        Self.checkWellFormed(chart)
        Self.checkWellFormed(histogram)
        #expect(chart.utf8.count < 40_000, "a million points drew \(chart.utf8.count) bytes")
        #expect(histogram.utf8.count < 20_000)
        // A usage map over 65,536 codes draws at most maxColumns cells per row.
        let map = HeatMap(rowLabels: ["level 1"], values: [(0..<65_536).map { Double($0 % 7) }], columnTitle: "code",
                          valueTitle: "items", zeroLabel: "dead").render()
        Self.checkWellFormed(map)
        #expect(Self.marks(map) == 256)
    }

    @Test("heat map runs: sums and zero counts over equal runs of columns")
    func heatMapRuns() {
        let cells = HeatMap.cells([1, 0, 2, 0, 0, 3, 4, 0], maxColumns: 4)
        #expect(cells.map(\.value) == [1, 2, 3, 4])
        #expect(cells.map(\.zeros) == [1, 1, 1, 1])
        #expect(cells.map(\.first) == [0, 2, 4, 6] && cells.map(\.last) == [1, 3, 5, 7])
        #expect(HeatMap.cells([5, 0], maxColumns: 4).count == 2, "fewer columns than the budget: one cell each")
    }

    @Test("empty data: axes and a 'no data' message, no marks, nothing undefined")
    func emptyData() {
        let xy = XYChart(x: Axis("epoch"), y: Axis("loss", kind: .logarithmic), layers: [.series(Series("a", points: []))]).render()
        Self.checkWellFormed(xy)
        #expect(xy.contains("no data") && Self.marks(xy) == 0)
        let bars = BarChart(categories: [], groups: [], categoryTitle: "level", y: Axis("used", format: .percent)).render()
        Self.checkWellFormed(bars)
        #expect(bars.contains("no data"))
        let map = HeatMap(rowLabels: [], values: [], columnTitle: "code", valueTitle: "items", zeroLabel: "dead").render()
        Self.checkWellFormed(map)
        let emptyHistogram = XYChart(x: Axis("e"), y: Axis("s"), layers: [
            .histogram(Histogram(values: [Float](), bins: 10, lower: 0, upper: 1), name: "a", slot: 0, asShare: true, unit: "items"),
        ]).render()
        #expect(emptyHistogram.contains("no data"))
    }

    @Test("a level with one code: a single point still draws a marker, a one-code usage map one cell")
    func oneCode() {
        let usage = CodeSetFigures.usage(.init(rows: 5, levels: 2, values: [0, 3, 0, 3, 0, 1, 0, 3, 0, 3]), codebookSize: 4)
        #expect(usage == [[5, 0, 0, 0], [0, 1, 0, 4]])
        let single = XYChart(x: Axis("rank", lower: 1), y: Axis("items", kind: .logarithmic),
                             layers: [.series(Series("level 1", points: [Point(1, 5)]))]).render()
        Self.checkWellFormed(single)
        #expect(single.contains("<circle") && Self.marks(single) >= 1)
        let map = HeatMap(rowLabels: ["level 1"], values: [[5]], columnTitle: "code", valueTitle: "items", zeroLabel: "dead").render()
        Self.checkWellFormed(map)
        #expect(Self.marks(map) == 1)
        let bars = BarChart(categories: ["1"], groups: [.init("a", slot: 0, values: [1 / 256])], categoryTitle: "level",
                            y: Axis("codes used", lower: 0, upper: 1, format: .percent)).render()
        Self.checkWellFormed(bars)
        #expect(Self.marks(bars) == 1)
    }

    @Test("charts: legend entries, axis titles with units, tick labels, rules, escaped names")
    func chartParts() {
        let chart = XYChart(x: Axis("epoch", unit: "epochs", lower: 0, upper: 10),
                            y: Axis("share", unit: "%", lower: 0, upper: 1, format: .percent),
                            layers: [.series(Series("a <b> & c", points: [Point(1, 0.2), Point(10, 0.9)])),
                                     .verticalRule(x: 5, label: "kept epoch 5", slot: nil),
                                     .horizontalRule(y: 0.5, label: "half")]).render()
        Self.checkWellFormed(chart)
        #expect(chart.contains("epoch (epochs)") && chart.contains("share (%)"))
        #expect(chart.contains(">100%<") && chart.contains(">0%<") && chart.contains(">10<"))
        #expect(chart.contains("a &lt;b&gt; &amp; c") && !chart.contains("<b>"))
        #expect(chart.contains("kept epoch 5") && chart.contains(">half<"))
    }

    @Test("raw-ID group sizes: packed keys and the dictionary path agree with a hand count")
    func groupSizes() {
        // Rows: (1,2) ×3, (1,3) ×1, (4,2) ×2.
        let codes = CodeMatrix(rows: 6, levels: 2, values: [1, 2, 1, 3, 1, 2, 4, 2, 1, 2, 4, 2])
        #expect(CodeSetFigures.groupSizes(codes, codebookSize: 8) == [3: 1, 1: 1, 2: 1])
        // 5 levels of 2^17 codes need 85 bits: the dictionary path.
        #expect(CodeSetFigures.groupSizes(codes.widened(levels: 5), codebookSize: 1 << 17) == [3: 1, 1: 1, 2: 1])
        #expect(CodeSetFigures.groupSizes(CodeMatrix(rows: 0, levels: 2), codebookSize: 8).isEmpty)
    }
}



extension CodeMatrix {
    /// The same rows with zero codes appended up to `levels` columns.
    fileprivate func widened(levels wide: Int) -> CodeMatrix {
        var values: [Int32] = []
        for i in 0..<rows { values += Array(row(i)) + [Int32](repeating: 0, count: wide - levels) }
        return CodeMatrix(rows: rows, levels: wide, values: values)
    }
}

/// Integer histograms (group sizes).
@Suite("Integer histograms")
struct IntegerHistogramTests {
    @Test("exact bins up to the limit, then growing bins; every value lands in the bin that covers it")
    func bins() {
        let h = Histogram.ofIntegers([1: 10, 2: 4, 3: 1, 12: 7, 100: 2, 570: 1], exactUpTo: 10, growth: 1.26)
        #expect(Array(h.edges.prefix(11)) == (0...10).map { Double($0) + 0.5 })
        #expect(h.total == 25)
        #expect(h.counts[0] == 10 && h.counts[1] == 4 && h.counts[2] == 1)
        for (value, count) in [12: 7, 100: 2, 570: 1] {
            let bin = h.edges.indices.dropLast().first { h.edges[$0] <= Double(value) && Double(value) < h.edges[$0 + 1] }
            #expect(bin.map { h.counts[$0] } == count, "value \(value)")
        }
        #expect(h.edges.last! > 570 && h.counts.count < 40, "570 needs few bins (\(h.counts.count))")
        #expect(zip(h.edges, h.edges.dropFirst()).allSatisfy { $0 < $1 })
        let one = Histogram.ofIntegers([1: 5])
        #expect(one.edges == [0.5, 1.5] && one.counts == [5])
        #expect(Histogram.ofIntegers([:]).total == 0)
    }
}
