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
        let usage = CodeSetFigures.usage(.init(rows: 5, levels: 2, values: [0, 3, 0, 3, 0, 1, 0, 3, 0, 3]), codebookSizes: [4, 4])
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
        #expect(CodeSetFigures.groupSizes(codes, codebookSizes: [8, 8]) == [3: 1, 1: 1, 2: 1])
        // 5 levels of 2^17 codes need 85 bits: the dictionary path.
        #expect(CodeSetFigures.groupSizes(codes.widened(levels: 5), codebookSizes: Array(repeating: 1 << 17, count: 5)) == [3: 1, 1: 1, 2: 1])
        #expect(CodeSetFigures.groupSizes(CodeMatrix(rows: 0, levels: 2), codebookSizes: [8, 8]).isEmpty)
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
        #expect((h.edges.last ?? 0) > 570 && h.counts.count < 40, "570 needs few bins (\(h.counts.count))")
        #expect(zip(h.edges, h.edges.dropFirst()).allSatisfy { $0 < $1 })
        let one = Histogram.ofIntegers([1: 5])
        #expect(one.edges == [0.5, 1.5] && one.counts == [5])
        #expect(Histogram.ofIntegers([:]).total == 0)
    }
}

/// Legend layout, stems, marker shapes and log-axis tick labels.
@Suite("Chart details")
struct ChartDetailTests {
    @Test("legend entries never overlap: each starts after the previous one's estimated text, wide names wrap")
    func legendLayout() {
        let names = ["NDCG@10", "Recall@10", "beauty-rqvae-4x256.semid", "WWWWWWWWWWWW", "iiii", "commitment (× β)"]
        let entries = names.map { LegendEntry(name: $0, mark: .line(slot: 0, dash: 0)) }
        let rows = ChartFrame.legendRows(entries, width: 560, left: 62)
        #expect(rows.flatMap { $0 }.count == names.count)
        for row in rows {
            for ((a, x), (_, next)) in zip(row, row.dropFirst()) {
                #expect(next >= x + 29 + TextWidth.estimate(a.name, fontSize: 12), "\(a.name) runs into the next entry")
            }
            if let (last, x) = row.last { #expect(x + 29 + TextWidth.estimate(last.name, fontSize: 12) <= 560, "\(last.name) leaves the chart") }
        }
        // Capitals and @ are wider than lower case: the estimate must say so.
        #expect(TextWidth.estimate("NDCG@10", fontSize: 12) > TextWidth.estimate("ndcg.10", fontSize: 12) + 10)
        #expect(TextWidth.estimate("", fontSize: 12) == 0)
    }

    @Test("stems: one vertical segment per point from the plot's bottom, a marker on each, exact tooltips")
    func stems() {
        let points = [Point(1, 0.8, label: "902 groups of 1"), Point(2, 0.1), Point(25, 0.002)]
        let svg = XYChart(x: Axis("size", lower: 0, upper: 26), y: Axis("share", kind: .logarithmic, format: .percent),
                          layers: [.series(Series("a", points: points, style: .stems))]).render()
        ChartTests.checkWellFormed(svg)
        let stem = svg.components(separatedBy: "class=\"mark stem\"")
        #expect(stem.count == 2, "one path holds every stem")
        let d = svg.components(separatedBy: "<path d=\"").dropFirst().first { $0.contains("mark stem") } ?? ""
        #expect(d.components(separatedBy: "M").count - 1 == 3 && d.components(separatedBy: "V").count - 1 == 3)
        #expect(svg.contains("<title>902 groups of 1</title>"), "a point's label is its tooltip")
        #expect(svg.contains("<title>a: 2 → 0.1</title>"), "other points say x → y")
        #expect(!d.contains("V254\""), "the smallest value still has a stem above the bottom edge: \(d.prefix(80))")
    }

    @Test("marker shapes differ by slot: circle, square, triangle, diamond, then again")
    func markerShapes() {
        func tag(_ slot: Int) -> String {
            var svg = SVGWriter()
            Marker.draw(at: 10, 10, slot: slot, into: &svg)
            return String(svg.markup.prefix(while: { $0 != " " }))
        }
        #expect([0, 1, 2, 3, 4].map(tag) == ["<circle", "<rect", "<path", "<path", "<circle"])
        #expect(Marker.shape(2) != Marker.shape(3) && Marker.shape(-1) == .diamond)
    }

    @Test("log-axis tick labels share one style: exponents for every tick below 1 once one needs it")
    func logTickLabels() {
        let axis = Axis("loss", kind: .logarithmic)
        let scale = Scale(.logarithmic, domain: (1e-6, 1e-2), range: (0, 100))
        let labels = axis.tickLabels([1e-6, 1e-5, 1e-4, 1e-3, 1e-2], on: scale)
        #expect(labels == ["1e-6", "1e-5", "1e-4", "1e-3", "1e-2"])
        let plain = axis.tickLabels([0.1, 1, 10], on: Scale(.logarithmic, domain: (0.1, 10), range: (0, 100)))
        #expect(plain == ["0.1", "1", "10"], "no exponent needed, none written")
        let percent = Axis("rate", kind: .logarithmic, format: .percent)
            .tickLabels([0.001, 0.01, 0.1, 1], on: Scale(.logarithmic, domain: (0.001, 1), range: (0, 100)))
        #expect(percent == ["0.1%", "1%", "10%", "100%"])
    }
}
