import Testing
@testable import SemidReport

/// Nice ticks, domains and scales.
@Suite("Ticks and scales")
struct ScaleTests {
    @Test("nice steps are the 1, 2 or 5 × 10^k nearest to span / count")
    func niceSteps() {
        #expect(Ticks.niceStep(span: 1, count: 5) == 0.2)
        #expect(Ticks.niceStep(span: 0.73, count: 5) == 0.1)
        #expect(Ticks.niceStep(span: 12_101, count: 5) == 2_000)
        #expect(Ticks.niceStep(span: 255, count: 5) == 50)
        #expect(Ticks.niceStep(span: 100, count: 4) == 20)
        #expect(Ticks.niceStep(span: 70, count: 1) == 100)
        #expect(Ticks.niceStep(span: 0, count: 5) == 1)
        #expect(Ticks.niceStep(span: .nan, count: 5) == 1)
    }

    @Test("linear ticks: multiples of the step inside the range, without float noise")
    func linearTicks() {
        #expect(Ticks.linear(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(Ticks.linear(0.1, 0.3) == [0.1, 0.15, 0.2, 0.25, 0.3])
        #expect(Ticks.linear(1, 256) == [50, 100, 150, 200, 250])
        #expect(Ticks.linear(-3, 3, count: 3) == [-2, 0, 2])
        #expect(Ticks.linear(7, 7) == [7], "a degenerate range is its one value")
        #expect(Ticks.linear(.nan, 1).isEmpty)
        #expect(Ticks.linear(5, 1) == Ticks.linear(1, 5), "order does not matter")
    }

    @Test("nice domains end on ticks and keep ends that already are multiples")
    func niceDomains() {
        #expect(Ticks.niceDomain(0, 0.075) == (0, 0.08), "0 stays 0 (not −0.02)")
        #expect(Ticks.niceDomain(0.013, 0.0547) == (0.01, 0.06))
        #expect(Ticks.niceDomain(1, 31) == (0, 35))
        let one = Ticks.niceDomain(3, 3)
        #expect(one.lower < 3 && one.upper > 3, "one value still gets an axis")
        #expect(Ticks.niceDomain(0, 0) == (-0.6, 0.6))
        #expect(Ticks.niceDomain(.infinity, 1) == (0, 1))
    }

    @Test("logarithmic ticks: powers of ten, with 2 and 5 over at most two decades, thinned over many")
    func logTicks() {
        #expect(Ticks.logarithmic(1, 1000) == [1, 10, 100, 1000])
        #expect(Ticks.logarithmic(3, 40) == [5, 10, 20])
        #expect(Ticks.logarithmic(200, 20_000) == [200, 500, 1_000, 2_000, 5_000, 10_000, 20_000], "2 decades by ratio get 2× and 5×")
        #expect(Ticks.logarithmic(1e-6, 1e6, maxCount: 7) == [1e-6, 1e-4, 1e-2, 1, 1e2, 1e4, 1e6])
        #expect(Ticks.logarithmic(0, 10).isEmpty, "non-positive ends have no log ticks")
        let narrow = Ticks.logarithmic(3, 4)
        #expect(!narrow.isEmpty && narrow.allSatisfy { $0 >= 3 && $0 <= 4 }, "a narrow range falls back to linear ticks")
    }

    @Test("log domains widen to 1, 2 or 5 × 10^k")
    func logDomains() {
        #expect(Ticks.logDomain(6, 208) == (5, 500))
        #expect(Ticks.logDomain(1, 100) == (1, 100))
        #expect(Ticks.logDomain(0.0003, 0.9) == (0.0002, 1))
        let one = Ticks.logDomain(47, 47)
        #expect(one.lower < 47 && one.upper > 47)
        #expect(Ticks.logDomain(0, 5) == (1, 10), "invalid input falls back")
    }

    @Test("linear scale maps the domain onto the range, clamps outside, and handles a reversed range")
    func linearScale() {
        let x = Scale(.linear, domain: (0, 10), range: (100, 200))
        #expect(x.position(0) == 100 && x.position(10) == 200 && x.position(5) == 150)
        #expect(x.position(-5) == 100 && x.position(50) == 200, "clamped")
        #expect(x.position(.nan) == 100)
        let y = Scale(.linear, domain: (0, 1), range: (300, 20))
        #expect(y.position(0) == 300 && y.position(1) == 20 && y.position(0.5) == 160)
        let flat = Scale(.linear, domain: (4, 4), range: (0, 100))
        #expect(flat.position(4) == 50, "a degenerate domain maps to the middle")
    }

    @Test("log scale: decades are equal distances; zero and negatives sit at the start")
    func logScale() {
        let s = Scale(.logarithmic, domain: (1, 1000), range: (0, 300))
        #expect(abs(s.position(10) - 100) < 1e-9 && abs(s.position(100) - 200) < 1e-9)
        #expect(s.position(0) == 0 && s.position(-3) == 0)
        #expect(s.ticks() == [1, 10, 100, 1000])
        let bad = Scale(.logarithmic, domain: (0, 10), range: (0, 1))
        #expect(bad.domain == (1, 10), "a log scale never has a non-positive end")
    }

    @Test("axis domains: from the data, with fixed ends and zero kept where asked")
    func axisDomains() {
        let counts = Axis("items", includeZero: true).scale(for: [3, 47, 208], range: (0, 1))
        #expect(counts.domain == (0, 250))
        let fixed = Axis("share", lower: 0, upper: 1).scale(for: [0.2, 0.3], range: (0, 1))
        #expect(fixed.domain == (0, 1))
        let log = Axis("items", kind: .logarithmic).scale(for: [0, 6, 208], range: (0, 1))
        #expect(log.domain == (5, 500), "zeros do not drag a log axis to 0")
        let empty = Axis("x").scale(for: [], range: (0, 1))
        #expect(empty.domain == (0, 1))
        let lowerOnly = Axis("rank", lower: 1).scale(for: [1, 256], range: (0, 1))
        #expect(lowerOnly.domain.lower == 1 && lowerOnly.domain.upper >= 256)
    }
}
