import Testing
@testable import SemidMath

@Suite struct SeededGeneratorTests {
    @Test func sameSeedSameStreamDifferentSeedDifferentStream() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let xa = (0..<16).map { _ in a.next() }
        let xb = (0..<16).map { _ in b.next() }
        let xc = (0..<16).map { _ in c.next() }
        #expect(xa == xb)
        #expect(xa != xc)
    }

    @Test func derivedStreamsAreIndependentAndDoNotAdvanceParent() {
        let parent = SeededGenerator(seed: 1)
        var copy = parent
        var d1 = parent.derived(1), d2 = parent.derived(2)
        #expect(d1.next() != d2.next())
        var p2 = parent
        #expect(copy.next() == p2.next())
    }

    @Test func sampleGivesDistinctInRangeIndices() {
        var rng = SeededGenerator(seed: 9)
        for (count, population) in [(10, 1000), (900, 1000), (5, 5), (7, 3)] {
            let s = rng.sample(count, from: population)
            #expect(s.count == min(count, population))
            #expect(Set(s).count == s.count)
            #expect(s.allSatisfy { $0 >= 0 && $0 < population })
        }
    }

    @Test func uniformAndGaussianMomentsAreSane() {
        var rng = SeededGenerator(seed: 5)
        let n = 200_000
        var sum = 0.0, sumSq = 0.0, uSum = 0.0
        for _ in 0..<n {
            let g = Double(rng.nextGaussian())
            sum += g; sumSq += g * g
            let u = rng.nextUnitFloat()
            #expect(u >= 0 && u < 1)
            uSum += Double(u)
        }
        #expect(abs(sum / Double(n)) < 0.01)
        #expect(abs(sumSq / Double(n) - 1) < 0.02)
        #expect(abs(uSum / Double(n) - 0.5) < 0.01)
    }
}
