import Testing
import SemidMath
@testable import SemidBenchmarks
@testable import SemidDecoding

@Suite struct ConstrainedBeamSearchTests {
    func randomHistory(_ rng: inout SeededGenerator, items: Int) -> [Int32] {
        (0..<(1 + rng.nextInt(below: 6))).map { _ in Int32(rng.nextInt(below: items)) }
    }

    @Test func fullBeamEqualsExhaustiveTopK() throws {
        var rng = SeededGenerator(seed: 101)
        for round in 0..<80 {
            let sizes = RandomIndex.randomSizes(&rng)
            let index = RandomIndex.make(&rng, items: 1 + rng.nextInt(below: 120), sizes: sizes, skewed: round % 3 == 0)
            let n = index.count
            let trie = try CodeTrie(ids: index.ids, codebookSizes: sizes)
            let scorer = HashScorer(codebookSizes: sizes, seed: UInt64(round), coarse: round % 2 == 0)
            let k = 1 + rng.nextInt(below: n)
            let beam = n + rng.nextInt(below: 3)
            let search = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(
                beamWidth: beam, topK: k, queriesPerScorerCall: 1 + rng.nextInt(below: 4)))
            let histories = (0..<5).map { _ in randomHistory(&rng, items: n) }
            let results = try search.search(histories: histories, scorer: scorer)
            for (q, history) in histories.enumerated() {
                let expected = scorer.exhaustiveTopK(index: index, history: history, k: k)
                let got = results[q]
                #expect(got.map(\.item) == expected.map(\.item), "round \(round) query \(q) sizes \(sizes) n \(n)")
                #expect(got.map(\.score) == expected.map(\.score))
                #expect(got.allSatisfy { index.row(Int($0.item)) == $0.codes })
            }
        }
    }

    @Test func fullBeamWithExclusionsAndSubsetEqualsExhaustiveTopK() throws {
        var rng = SeededGenerator(seed: 202)
        var checked = 0
        for round in 0..<80 {
            let sizes = RandomIndex.randomSizes(&rng)
            let index = RandomIndex.make(&rng, items: 2 + rng.nextInt(below: 100), sizes: sizes, skewed: round % 3 == 1)
            let n = index.count
            let trie = try CodeTrie(ids: index.ids, codebookSizes: sizes)
            let allowedItems = Set(rng.sample(1 + rng.nextInt(below: n), from: n).map(Int32.init))
            let useSubset = round % 2 == 0
            let subset = useSubset ? try ItemSubset(items: allowedItems, in: trie) : nil
            let scorer = HashScorer(codebookSizes: sizes, seed: UInt64(round) + 99, coarse: round % 4 < 2)
            let histories = (0..<4).map { _ in randomHistory(&rng, items: n) }
            let excluded = (0..<4).map { _ in rng.sample(rng.nextInt(below: n), from: n).map(Int32.init) }
            let excludeHistory = round % 3 == 0
            var remaining = Int.max
            for q in 0..<4 {
                var x = Set(excluded[q])
                if excludeHistory { x.formUnion(histories[q]) }
                let pool = useSubset ? allowedItems : Set((0..<n).map(Int32.init))
                remaining = min(remaining, pool.subtracting(x).count)
            }
            guard remaining >= 1 else { continue }
            let k = 1 + rng.nextInt(below: remaining)
            let search = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(
                beamWidth: n, topK: k, excludeHistory: excludeHistory, queriesPerScorerCall: 2))
            let results = try search.search(histories: histories, scorer: scorer, excluding: excluded, allowed: subset)
            for q in 0..<4 {
                var x = Set(excluded[q])
                if excludeHistory { x.formUnion(histories[q]) }
                let expected = scorer.exhaustiveTopK(index: index, history: histories[q], k: k, excluded: x,
                                                     allowed: useSubset ? allowedItems : nil)
                #expect(results[q].map(\.item) == expected.map(\.item), "round \(round) query \(q)")
                #expect(results[q].map(\.score) == expected.map(\.score))
            }
            checked += 1
        }
        #expect(checked > 40)
    }

    @Test func anyBeamReturnsExactlyKDistinctRealAllowedItems() throws {
        var rng = SeededGenerator(seed: 303)
        for round in 0..<120 {
            let sizes = RandomIndex.randomSizes(&rng)
            let index = RandomIndex.make(&rng, items: 1 + rng.nextInt(below: 400), sizes: sizes, skewed: round % 2 == 0)
            let n = index.count
            let trie = try CodeTrie(ids: index.ids, codebookSizes: sizes)
            var valid = [[Int32]: Int32]()
            for i in 0..<n { valid[index.row(i)] = Int32(i) }
            // A small allowed subset half of the time: pruning must still find K items.
            let subsetItems = round % 2 == 0 ? Set(rng.sample(1 + rng.nextInt(below: n), from: n).map(Int32.init)) : nil
            let subset = try subsetItems.map { try ItemSubset(items: $0, in: trie) }
            let pool = subsetItems ?? Set((0..<n).map(Int32.init))
            let histories = (0..<6).map { _ in randomHistory(&rng, items: n) }
            let excluded = (0..<6).map { _ in rng.sample(rng.nextInt(below: max(1, n / 2)), from: n).map(Int32.init) }
            let remaining = (0..<6).map { pool.subtracting(excluded[$0]).count }.min() ?? 0
            guard remaining >= 1 else { continue }
            let k = 1 + rng.nextInt(below: min(remaining, 12))
            let beam = k + rng.nextInt(below: 4)
            let scorer = HashScorer(codebookSizes: sizes, seed: UInt64(round), coarse: round % 3 == 0)
            let search = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(
                beamWidth: beam, topK: k, queriesPerScorerCall: 1 + rng.nextInt(below: 5)))
            let results = try search.search(histories: histories, scorer: scorer, excluding: excluded, allowed: subset)
            for q in 0..<6 {
                let got = results[q]
                #expect(got.count == k)
                #expect(Set(got.map(\.item)).count == k)
                for r in got {
                    #expect(valid[r.codes] == r.item, "returned ID \(r.codes) is not item \(r.item)'s")
                    #expect(!excluded[q].contains(r.item))
                    #expect(pool.contains(r.item))
                }
                #expect(zip(got, got.dropFirst()).allSatisfy { $0.score >= $1.score })
            }
        }
    }

    @Test func resultsDoNotDependOnBatchingOrWorkers() throws {
        var rng = SeededGenerator(seed: 404)
        let index = RandomIndex.make(&rng, items: 3000, sizes: [40, 30, 20])
        let trie = try CodeTrie(ids: index.ids, codebookSizes: index.sizes)
        let scorer = HashScorer(codebookSizes: index.sizes, seed: 1, coarse: true)
        let histories = (0..<37).map { _ in randomHistory(&rng, items: 3000) }
        var reference: BeamSearchResults? = nil
        for (q, parallel) in [(1, false), (3, true), (8, true), (64, false)] {
            let search = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(
                beamWidth: 7, topK: 5, excludeHistory: true, queriesPerScorerCall: q, parallel: parallel))
            let results = try search.search(histories: histories, scorer: scorer)
            if let reference { #expect(results == reference) } else { reference = results }
        }
    }

    @Test func beamLargerThanContinuationsAndDenseLevels() throws {
        var rng = SeededGenerator(seed: 505)
        // Level 0 full (K = 64 → vectorised scan), a fan-out-1 level, then a suffix level.
        let index = RandomIndex.make(&rng, items: 700, sizes: [64, 1, 50])
        let trie = try CodeTrie(ids: index.ids, codebookSizes: index.sizes)
        #expect(trie.denseLevels[0])
        let scorer = HashScorer(codebookSizes: index.sizes, seed: 3, coarse: false)
        let search = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(beamWidth: 5000, topK: 700))
        let histories: [[Int32]] = [[1, 2, 3], [699]]
        let results = try search.search(histories: histories, scorer: scorer)
        for q in 0..<2 {
            #expect(Set(results[q].map(\.item)).count == 700)
            #expect(results[q].map(\.item) == scorer.exhaustiveTopK(index: index, history: histories[q], k: 700).map(\.item))
        }
    }

    @Test func greedySearchFollowsTheBestChildAtEachLevel() throws {
        var rng = SeededGenerator(seed: 606)
        let index = RandomIndex.make(&rng, items: 500, sizes: [8, 8, 8])
        let trie = try CodeTrie(ids: index.ids, codebookSizes: index.sizes)
        let scorer = HashScorer(codebookSizes: index.sizes, seed: 9, coarse: false)
        let history: [Int32] = [4, 5]
        let got = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(beamWidth: 1, topK: 1))
            .search(histories: [history], scorer: scorer)[0][0]
        let hh = HashScorer.hash(history: history, seed: 9)
        var node = 0, prefix: [Int32] = []
        for depth in 0..<3 {
            let best = trie.children(ofNode: node, atDepth: depth).max { a, b in
                scorer.value(hh, prefix: prefix, token: trie.token(ofNode: a, atDepth: depth + 1)!) <
                    scorer.value(hh, prefix: prefix, token: trie.token(ofNode: b, atDepth: depth + 1)!)
            }!
            prefix.append(Int32(trie.token(ofNode: best, atDepth: depth + 1)!))
            node = best
        }
        #expect(got.codes == prefix)
        #expect(got.item == trie.item(forID: prefix))
    }

    @Test func scorerSeesConsistentPrefixesAndParents() throws {
        var rng = SeededGenerator(seed: 707)
        let index = RandomIndex.make(&rng, items: 900, sizes: [20, 9, 7])
        let trie = try CodeTrie(ids: index.ids, codebookSizes: index.sizes)
        let scorer = PrefixTrackingScorer(codebookSizes: index.sizes)
        let histories = (0..<20).map { _ in randomHistory(&rng, items: 900) }
        _ = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(beamWidth: 6, topK: 4, queriesPerScorerCall: 3))
            .search(histories: histories, scorer: scorer)
        #expect(scorer.calls % 3 == 0 && scorer.calls >= 7 * 3)
        #expect(scorer.mismatches == 0)
    }

    @Test func statisticsCountBeamSteps() throws {
        var rng = SeededGenerator(seed: 808)
        let index = RandomIndex.make(&rng, items: 2000, sizes: [16, 16, 16])
        let trie = try CodeTrie(ids: index.ids, codebookSizes: index.sizes)
        let search = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(
            beamWidth: 10, topK: 10, collectStatistics: true))
        let results = try search.search(histories: [[1], [2], [3]], scorer: TableScorer(codebookSizes: index.sizes))
        let stats = try #require(results.statistics)
        #expect(stats.beamStepsPerLevel == [3, 30, 30])
        #expect(stats.beamSteps == 63)
        #expect(stats.candidates >= 3 * 16)
        #expect(stats.constraintNanosPerBeamStepByLevel.count == 3)
    }

    @Test func badInputGivesClearErrors() throws {
        let sizes = [4, 4]
        let trie = try CodeTrie(ids: [0, 0, 0, 1, 1, 0, 2, 3, 3, 3], codebookSizes: sizes)
        let scorer = HashScorer(codebookSizes: sizes, seed: 1, coarse: true)
        func search(_ b: Int, _ k: Int, excludeHistory: Bool = false) throws -> ConstrainedBeamSearch {
            try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(beamWidth: b, topK: k, excludeHistory: excludeHistory))
        }
        #expect(throws: DecodingError.invalidBeamWidth(0)) { try search(0, 1) }
        #expect(throws: DecodingError.invalidTopK(0)) { try search(3, 0) }
        #expect(throws: DecodingError.beamSmallerThanTopK(beamWidth: 2, topK: 3)) { try search(2, 3) }
        #expect(throws: DecodingError.invalidQueriesPerScorerCall(0)) {
            try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(beamWidth: 2, topK: 1, queriesPerScorerCall: 0))
        }
        let s = try search(5, 2)
        #expect(throws: DecodingError.emptyHistory(query: 1)) { try s.search(histories: [[1], []], scorer: scorer) }
        #expect(throws: DecodingError.unknownItem(item: 5, itemCount: 5, context: "history of query 0")) {
            try s.search(histories: [[5]], scorer: scorer)
        }
        #expect(throws: DecodingError.unknownItem(item: -1, itemCount: 5, context: "exclusion list of query 0")) {
            try s.search(histories: [[1]], scorer: scorer, excluding: [[-1]])
        }
        #expect(throws: DecodingError.batchMismatch(histories: 1, other: 2, argument: "the exclusion list")) {
            try s.search(histories: [[1]], scorer: scorer, excluding: [[], []])
        }
        #expect(throws: DecodingError.notEnoughItems(query: 0, available: 5, topK: 6)) {
            try search(9, 6).search(histories: [[1]], scorer: scorer)
        }
        #expect(throws: DecodingError.notEnoughItems(query: 1, available: 1, topK: 2)) {
            try s.search(histories: [[1], [0]], scorer: scorer, excluding: [[], [1, 2, 3, 3, 4]])
        }
        #expect(throws: DecodingError.notEnoughItems(query: 0, available: 1, topK: 2)) {
            try search(5, 2, excludeHistory: true).search(histories: [[0, 1, 2, 3]], scorer: scorer)
        }
        #expect(throws: DecodingError.notEnoughItems(query: 0, available: 1, topK: 2)) {
            try s.search(histories: [[0]], scorer: scorer, allowed: try ItemSubset(items: [3, 3], in: trie))
        }
        #expect(throws: DecodingError.unknownItem(item: 7, itemCount: 5, context: "allowed subset")) {
            try ItemSubset(items: [1, 7], in: trie)
        }
        let other = try CodeTrie(ids: [0, 0, 1, 1], codebookSizes: sizes)
        #expect(throws: DecodingError.subsetMismatch(subsetItems: 2, trieItems: 5)) {
            try s.search(histories: [[0]], scorer: scorer, allowed: try ItemSubset(items: [0, 1], in: other))
        }
        #expect(throws: DecodingError.scorerMismatch(trie: sizes, scorer: [4, 5])) {
            try s.search(histories: [[0]], scorer: HashScorer(codebookSizes: [4, 5], seed: 1, coarse: true))
        }
        #expect(throws: FailingScorer.Failure()) {
            try s.search(histories: (0..<40).map { [Int32($0 % 5)] }, scorer: FailingScorer(codebookSizes: sizes))
        }
        #expect(try s.search(histories: [], scorer: scorer).queryCount == 0)
        // Excluding everything but the allowed items still returns K.
        let r = try s.search(histories: [[0]], scorer: scorer, excluding: [[0, 1, 2]], allowed: try ItemSubset(items: [2, 3, 4], in: trie))
        #expect(Set(r.items) == [3, 4])
    }

    @Test func nanScoresAreTreatedAsMinusInfinity() throws {
        struct NaNScorer: NextTokenScorer {
            let codebookSizes: [Int]
            func logProbabilities(_ beams: BeamBatch, state: inout Void, into output: UnsafeMutableBufferPointer<Float>) {
                for i in 0..<output.count { output[i] = i % 3 == 0 ? .nan : -Float(i % 7) }
            }
        }
        var rng = SeededGenerator(seed: 909)
        let index = RandomIndex.make(&rng, items: 300, sizes: [10, 10, 10])
        let trie = try CodeTrie(ids: index.ids, codebookSizes: index.sizes)
        let r = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(beamWidth: 8, topK: 8))
            .search(histories: [[1], [2]], scorer: NaNScorer(codebookSizes: index.sizes))
        for q in 0..<2 {
            #expect(Set(r[q].map(\.item)).count == 8)
            #expect(r[q].allSatisfy { trie.item(forID: $0.codes) == $0.item && !$0.score.isNaN })
        }
    }
}

@Suite struct ReferenceBeamSearchTests {
    /// With any beam width, the search keeps exactly what a naive beam search keeps at each level
    /// (same tie rules), including pruning of subtrees without returnable items.
    @Test func anyBeamMatchesANaiveBeamSearch() throws {
        var rng = SeededGenerator(seed: 1_001)
        var compared = 0
        for round in 0..<70 {
            var sizes = RandomIndex.randomSizes(&rng)
            if round % 4 == 0 { sizes = [64 + rng.nextInt(below: 80), 1 + rng.nextInt(below: 40), 2 + rng.nextInt(below: 5)] }
            let index = RandomIndex.make(&rng, items: 1 + rng.nextInt(below: 600), sizes: sizes, skewed: round % 3 == 0)
            let n = index.count
            let trie = try CodeTrie(ids: index.ids, codebookSizes: sizes)
            let scorer = HashScorer(codebookSizes: sizes, seed: UInt64(round) &* 7, coarse: round % 2 == 0)
            let useSubset = round % 3 == 1
            let subsetItems = Set(rng.sample(1 + rng.nextInt(below: n), from: n).map(Int32.init))
            let histories = (0..<3).map { _ in (0..<(1 + rng.nextInt(below: 4))).map { _ in Int32(rng.nextInt(below: n)) } }
            let excluded = (0..<3).map { _ in rng.sample(rng.nextInt(below: max(1, n / 3)), from: n).map(Int32.init) }
            let returnable = (0..<3).map { q in (useSubset ? subsetItems : Set((0..<n).map(Int32.init))).subtracting(excluded[q]) }
            let remaining = returnable.map(\.count).min() ?? 0
            guard remaining >= 1 else { continue }
            let k = 1 + rng.nextInt(below: min(remaining, 15))
            let beam = k + rng.nextInt(below: 30)
            let search = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(
                beamWidth: beam, topK: k, queriesPerScorerCall: 2))
            let results = try search.search(histories: histories, scorer: scorer, excluding: excluded,
                                            allowed: useSubset ? try ItemSubset(items: subsetItems, in: trie) : nil)
            for q in 0..<3 {
                let expected = referenceBeamSearch(index: index, scorer: scorer, history: histories[q], beam: beam, k: k,
                                                   returnable: returnable[q])
                #expect(results[q].map(\.item) == expected.map(\.item), "round \(round) query \(q) sizes \(sizes)")
                #expect(results[q].map(\.score) == expected.map(\.score))
            }
            compared += 1
        }
        #expect(compared > 50)
    }

    /// A scorer with positive values must say so; the search then never skips a beam and stays exact.
    @Test func positiveScoresAreExactWhenDeclared() throws {
        var rng = SeededGenerator(seed: 77)
        for round in 0..<20 {
            let sizes = [40, 3 + rng.nextInt(below: 6), 4]
            let index = RandomIndex.make(&rng, items: 50 + rng.nextInt(below: 300), sizes: sizes)
            let trie = try CodeTrie(ids: index.ids, codebookSizes: sizes)
            let inner = HashScorer(codebookSizes: sizes, seed: UInt64(round), coarse: false)
            let history: [Int32] = [Int32(rng.nextInt(below: index.count))]
            let beam = 5 + rng.nextInt(below: 10)
            let got = try ConstrainedBeamSearch(trie: trie, configuration: BeamSearchConfiguration(beamWidth: beam, topK: 5))
                .search(histories: [history], scorer: PositiveScorer(inner: inner))[0]
            // Reference: the same naive search on the shifted values (+20 per level).
            let shifted = referenceBeamSearchShifted(index: index, inner: inner, history: history, beam: beam, k: 5)
            #expect(got.map(\.item) == shifted)
        }
    }

    func referenceBeamSearchShifted(index: RandomIndex, inner: HashScorer, history: [Int32], beam: Int, k: Int) -> [Int32] {
        let levels = index.sizes.count
        let hh = HashScorer.hash(history: history, seed: inner.seed)
        var beams: [(prefix: [Int32], score: Float)] = [([], 0)]
        let rows = (0..<index.count).map { index.row($0) }
        for level in 0..<levels {
            var candidates: [(prefix: [Int32], score: Float)] = []
            for b in beams {
                let codes = Set(rows.filter { Array($0[0..<level]) == b.prefix }.map { $0[level] })
                for c in codes.sorted() {
                    candidates.append((b.prefix + [c], b.score + (inner.value(hh, prefix: b.prefix, token: Int(c)) + 20)))
                }
            }
            if level == levels - 1 {
                let items = candidates.map { c in (item: Int32(rows.firstIndex(of: c.prefix)!), score: c.score) }
                return items.sorted { $0.score > $1.score || ($0.score == $1.score && $0.item < $1.item) }.prefix(k).map(\.item)
            }
            candidates.sort { $0.score > $1.score || ($0.score == $1.score && $0.prefix.lexicographicallyPrecedes($1.prefix)) }
            beams = Array(candidates.prefix(beam))
        }
        return []
    }
}
