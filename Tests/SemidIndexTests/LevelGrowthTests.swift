import SemidIndex
import Testing

/// The per-level gain behind `semid build`'s near-degenerate-level warning, on hand-computed cases.
@Suite("LevelGrowth")
struct LevelGrowthTests {
    @Test("gain = new prefixes over the new prefixes possible, capped by the item count")
    func handComputed() {
        // 1,000 items, 3 levels of 16 codes: 16 → 200 → 210 distinct prefixes.
        let g = LevelGrowth.levels(distinctPrefixes: [16, 200, 210], codebookSizes: [16, 16, 16], items: 1000)
        #expect(g.map(\.possiblePrefixes) == [16, 256, 1000])
        #expect(g[0].gain == 1)                              // (16 − 1) / (16 − 1)
        #expect(abs(g[1].gain - 184.0 / 240.0) < 1e-12)     // (200 − 16) / (256 − 16)
        #expect(abs(g[2].gain - 10.0 / 800.0) < 1e-12)      // (210 − 200) / (1000 − 200)
        #expect(g.map(\.isNearDegenerate) == [false, false, true])
        #expect(g.map(\.previousPrefixes) == [1, 16, 200])
    }

    @Test("a level after unique prefixes has nothing to add (gain 1); per-level sizes; huge products do not overflow")
    func edges() {
        let unique = LevelGrowth.levels(distinctPrefixes: [50, 50], codebookSizes: [64, 8], items: 50)
        #expect(unique[1].possiblePrefixes == 50 && unique[1].gain == 1 && !unique[1].isNearDegenerate)
        let mixed = LevelGrowth.levels(distinctPrefixes: [1024, 1100], codebookSizes: [1024, 256], items: 1_000_000)
        #expect(mixed[1].possiblePrefixes == 262_144)
        #expect(mixed[1].isNearDegenerate)                   // 76 of 261,120 possible
        let big = LevelGrowth.levels(distinctPrefixes: [Int.max / 2, Int.max / 2], codebookSizes: [65_536, 65_536], items: Int.max)
        #expect(big[1].possiblePrefixes == Int.max && big[1].gain == 0)
    }
}
