import Testing
@testable import SemidReport

/// Number formatting and text escaping.
@Suite("Number formatting and escaping")
struct NumberFormatTests {
    @Test("tick labels: enough decimals for the step, k / M for large values, exponents for tiny ones")
    func tickLabels() {
        #expect(NumberFormat.tick(0.25, step: 0.05) == "0.25")
        #expect(NumberFormat.tick(0.2, step: 0.2) == "0.2")
        #expect(NumberFormat.tick(100, step: 50) == "100")
        #expect(NumberFormat.tick(12_000, step: 2_000) == "12k")
        #expect(NumberFormat.tick(1_500_000, step: 500_000) == "1.5M")
        #expect(NumberFormat.tick(5_000, step: 1_000) == "5k")
        #expect(NumberFormat.tick(2e-5, step: 2e-5) == "2e-5")
        #expect(NumberFormat.tick(-0.0, step: 1) == "0")
        #expect(NumberFormat.tick(.nan, step: 1) == "")
    }

    @Test("coordinates: 0.1 px, no −0, no exponent, non-finite as 0")
    func coordinates() {
        #expect(NumberFormat.coordinate(12.345) == "12.3")
        #expect(NumberFormat.coordinate(12.0) == "12")
        #expect(NumberFormat.coordinate(-0.04) == "0")
        #expect(NumberFormat.coordinate(1e-12) == "0")
        #expect(NumberFormat.coordinate(1e9) == "1000000000")
        #expect(NumberFormat.coordinate(.infinity) == "0" && NumberFormat.coordinate(.nan) == "0")
    }

    @Test("integers, percentages, significant digits")
    func readings() {
        #expect(NumberFormat.integer(12_101) == "12,101")
        #expect(NumberFormat.integer(-1_000_000) == "-1,000,000")
        #expect(NumberFormat.integer(7) == "7")
        #expect(NumberFormat.percent(0.0053, 2) == "0.53%")
        #expect(NumberFormat.percent(1) == "100.0%")
        #expect(NumberFormat.significant(0.012345) == "0.0123")
        #expect(NumberFormat.significant(47.27) == "47.3")
        #expect(NumberFormat.significant(26) == "26", "integers print without decimals")
        #expect(NumberFormat.significant(12_345.6) == "12,346")
        #expect(NumberFormat.significant(3e-7) == "3.00e-07")
        #expect(NumberFormat.compact(0.1) == "0.1" && NumberFormat.compact(0.002) == "0.002" && NumberFormat.compact(2.5) == "2.5")
        #expect(NumberFormat.compact(12_101) == "12,101" && NumberFormat.compact(3e-7) == "3.000e-07", "integers and exponents stay as they are")
        #expect(NumberFormat.fixed(.nan) == "–")
    }

    @Test("escaping: markup characters become entities, control characters disappear, the rest stays")
    func escaping() {
        #expect(Markup.escape("<script>alert('x') & \"y\"</script>") == "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;")
        #expect(Markup.escape("a\u{0}b\u{7}c\td\ne") == "abc\td\ne")
        #expect(Markup.escape("Crème · 日本 · 💄") == "Crème · 日本 · 💄")
        #expect(Markup.escape("") == "")
    }
}
