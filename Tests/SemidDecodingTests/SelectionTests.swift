import Testing
import SemidMath
@testable import SemidDecoding

@Suite struct SelectionTests {
    @Test func entryKeysOrderByScoreThenLowerTie() {
        let scores: [Float] = [-.infinity, -1e30, -3, -1, -0.0, 0, 1e-30, 2, .infinity]
        var keys: [UInt64] = []
        for s in scores { for tie: Int32 in [0, 1, 7, Int32.max] { keys.append(EntryKey.make(score: s, tie: tie)) } }
        for i in 0..<keys.count {
            for j in 0..<keys.count {
                let (si, ti) = (scores[i / 4], [Int32(0), 1, 7, Int32.max][i % 4])
                let (sj, tj) = (scores[j / 4], [Int32(0), 1, 7, Int32.max][j % 4])
                let better = si > sj || (si == sj && ti < tj)
                #expect((keys[i] > keys[j]) == better, "\(si),\(ti) vs \(sj),\(tj)")
            }
        }
        for s in scores where s != 0 {
            #expect(EntryKey.score(EntryKey.make(score: s, tie: 3)) == s)
        }
        #expect(EntryKey.tie(EntryKey.make(score: -2, tie: 123_456)) == 123_456)
        let nan = EntryKey.make(score: .nan, tie: 0)
        #expect(nan < EntryKey.make(score: -.infinity, tie: Int32.max))
        #expect(EntryKey.score(nan) == -.infinity)
    }

    @Test func selectLargestKeepsTheTopKeys() {
        var rng = SeededGenerator(seed: 4)
        let slots = UnsafeMutablePointer<Entry>.allocate(capacity: 500)
        defer { slots.deallocate() }
        for _ in 0..<300 {
            let count = 2 + rng.nextInt(below: 300)
            let keep = 1 + rng.nextInt(below: count - 1)
            let keys = rng.sample(count, from: 1_000_000).map { UInt64($0) }
            for (i, k) in keys.enumerated() { slots[i] = Entry(key: k, payload: UInt64(i)) }
            TopSelector.selectLargest(slots, count: count, keep: keep)
            let expected = Array(keys.sorted(by: >).prefix(keep))
            let got = (0..<keep).map { slots[$0].key }
            #expect(Set(got) == Set(expected))
            #expect(slots[keep - 1].key == expected.last)
            #expect((0..<count).allSatisfy { keys[Int(slots[$0].payload)] == slots[$0].key })
        }
    }

    @Test func topSelectorStreamsToTheExactTopKeep() {
        var rng = SeededGenerator(seed: 6)
        let slots = UnsafeMutablePointer<Entry>.allocate(capacity: 200)
        defer { slots.deallocate() }
        for _ in 0..<200 {
            let keep = 1 + rng.nextInt(below: 40)
            var top = TopSelector(slots: slots, capacity: 2 * keep + 32)
            top.reset(keep: keep)
            var all: [UInt64] = []
            for i in 0..<(rng.nextInt(below: 400)) {
                // Coarse scores: many ties, broken by the (unique) tie key.
                let s = -Float(rng.nextInt(below: 20)) / 4
                let key = EntryKey.make(score: s, tie: Int32(i))
                all.append(key)
                if s < top.thresholdScore || key < top.minimumKey { continue }
                top.append(key: key, payload: 0)
            }
            top.finish()
            top.sortDescending()
            let got = (0..<top.count).map { slots[$0].key }
            #expect(got == Array(all.sorted(by: >).prefix(keep)))
        }
    }

    @Test func columnMaxFloorIsALowerBoundOfTheKeepThBest() {
        var rng = SeededGenerator(seed: 10)
        for _ in 0..<300 {
            let k = [32, 64, 100, 128, 256, 300][rng.nextInt(below: 6)]
            let keep = 1 + rng.nextInt(below: 64)
            var row = (0..<k).map { _ in rng.nextGaussian() }
            if rng.nextInt(below: 4) == 0 { for _ in 0..<5 { row[rng.nextInt(below: k)] = .nan } }
            if rng.nextInt(below: 4) == 0 { for j in 0..<k where j % 3 == 0 { row[j] = -Float(j % 7) } }  // ties
            let floor = row.withUnsafeBufferPointer { LevelSelector.columnMaxFloor(row: $0.baseAddress!, codebookSize: k, keep: keep) }
            guard let floor else { continue }
            let finite = row.filter { !$0.isNaN }.sorted(by: >)
            #expect(finite.count >= keep)
            #expect(floor <= finite[keep - 1])
        }
    }
}
