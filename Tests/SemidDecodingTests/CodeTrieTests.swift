import Testing
import SemidMath
@testable import SemidDecoding

@Suite struct CodeTrieTests {
    // Items: 0=[1,0,2] 1=[0,1,1] 2=[1,0,0] 3=[0,1,0] 4=[2,2,2]
    let ids: [Int32] = [1, 0, 2, 0, 1, 1, 1, 0, 0, 0, 1, 0, 2, 2, 2]
    let sizes = [3, 3, 3]

    @Test func buildsTheExpectedFlatArrays() throws {
        let trie = try CodeTrie(ids: ids, codebookSizes: sizes)
        #expect(trie.itemCount == 5)
        #expect(trie.nodeCounts == [1, 3, 3, 5])
        let a = trie.arrays
        #expect(a.offsets == [[0, 3], [0, 1, 2, 3], [0, 2, 4, 5]])
        #expect(a.tokens == [[0, 1, 2], [1, 0, 2], [0, 1, 0, 2, 2]])
        // Sorted IDs: [0,1,0]=3 [0,1,1]=1 [1,0,0]=2 [1,0,2]=0 [2,2,2]=4
        #expect(a.leafItems == [3, 1, 2, 0, 4])
        #expect(trie.maxFanout == [3, 1, 2])
        #expect(trie.denseLevels == [false, false, false])  // 8 bytes of bitset per node > 2·fan-out
    }

    @Test func lookupsFindEveryItemAndNothingElse() throws {
        let trie = try CodeTrie(ids: ids, codebookSizes: sizes)
        for i in 0..<5 {
            let row = Array(ids[(i * 3)..<(i * 3 + 3)])
            #expect(trie.item(forID: row) == Int32(i))
            #expect(trie.id(ofItem: i) == row)
            let leaf = try #require(trie.leaf(ofItem: i))
            #expect(trie.item(atLeaf: leaf) == Int32(i))
            #expect(trie.leafRange(ofNode: leaf, atDepth: 3) == leaf..<(leaf + 1))
        }
        #expect(trie.item(forID: [0, 0, 0]) == nil)
        #expect(trie.item(forID: [2, 2]) == nil)
        #expect(trie.item(forID: [5, 0, 0]) == nil)
        #expect(trie.id(ofItem: 5) == nil)
        #expect(trie.id(ofItem: -1) == nil)
        #expect(trie.node(forPrefix: []) == 0)
        let n1 = try #require(trie.node(forPrefix: [1]))
        #expect(trie.leafRange(ofNode: n1, atDepth: 1) == 2..<4)
        #expect(trie.leafRange(ofNode: 0, atDepth: 0) == 0..<5)
        #expect(trie.children(ofNode: 0, atDepth: 0) == 0..<3)
        #expect(trie.children(ofNode: 7, atDepth: 0).isEmpty)
        #expect(trie.child(ofNode: 0, atDepth: 0, token: 3) == nil)
        #expect(trie.child(ofNode: 0, atDepth: 9, token: 0) == nil)
        #expect(trie.token(ofNode: 2, atDepth: 1) == 2)
    }

    @Test func randomIndexesRoundTripThroughLookupsAndArrays() throws {
        var rng = SeededGenerator(seed: 11)
        for round in 0..<60 {
            let sizes = RandomIndex.randomSizes(&rng)
            let index = RandomIndex.make(&rng, items: 1 + rng.nextInt(below: 300), sizes: sizes, skewed: round % 2 == 0)
            let trie = try CodeTrie(ids: index.ids, codebookSizes: sizes)
            try trie.validate()
            #expect(trie.itemCount == index.count)
            var valid = Set<[Int32]>()
            for i in 0..<index.count {
                let row = index.row(i)
                valid.insert(row)
                #expect(trie.item(forID: row) == Int32(i))
                #expect(trie.id(ofItem: i) == row)
            }
            // Random codes are found exactly when they are an item's ID.
            for _ in 0..<50 {
                let probe = sizes.map { Int32(rng.nextInt(below: $0)) }
                #expect((trie.item(forID: probe) != nil) == valid.contains(probe))
            }
            // Leaves are in lexicographic order and every node's leaf range holds exactly its prefix.
            let sortedRows = (0..<index.count).map { index.row(Int(trie.leafItems[$0])) }
            #expect(sortedRows == sortedRows.sorted { $0.lexicographicallyPrecedes($1) })
            for depth in 0...sizes.count {
                var covered = 0
                for v in 0..<trie.nodeCounts[depth] {
                    let range = trie.leafRange(ofNode: v, atDepth: depth)
                    #expect(!range.isEmpty)
                    #expect(range.lowerBound == covered)
                    covered = range.upperBound
                    let prefix = Array(sortedRows[range.lowerBound][0..<depth])
                    #expect(range.allSatisfy { Array(sortedRows[$0][0..<depth]) == prefix })
                }
                #expect(covered == index.count)
            }
            let reloaded = try CodeTrie(arrays: trie.arrays)
            #expect(reloaded.arrays == trie.arrays)
            #expect(reloaded.denseLevels == trie.denseLevels)
            #expect(reloaded.memoryBytes == trie.memoryBytes)
        }
    }

    @Test func denseLevelsUseBitsetsAndAgreeWithBinarySearch() throws {
        var rng = SeededGenerator(seed: 5)
        // Full fan-out at levels 0 and 1 (K = 40), sparse last level.
        let index = RandomIndex.make(&rng, items: 3000, sizes: [40, 40, 300])
        let trie = try CodeTrie(ids: index.ids, codebookSizes: index.sizes)
        #expect(trie.denseLevels == [true, true, false])
        #expect(trie.maxFanout[0] == 40)
        try trie.validate()
        for v in 0..<trie.nodeCounts[1] {
            let kids = trie.children(ofNode: v, atDepth: 1)
            var expected = [Int?](repeating: nil, count: 40)
            for c in kids { expected[trie.token(ofNode: c, atDepth: 2)!] = c }
            for t in 0..<40 { #expect(trie.child(ofNode: v, atDepth: 1, token: t) == expected[t]) }
        }
    }

    @Test func fanOutOneLevelsAndSingleLevelTries() throws {
        let trie = try CodeTrie(ids: [3, 0, 0, 1, 0, 0, 2, 0, 0], codebookSizes: [4, 1, 1])
        #expect(trie.nodeCounts == [1, 3, 3, 3])
        #expect(trie.maxFanout == [3, 1, 1])
        #expect(trie.item(forID: [2, 0, 0]) == 2)
        let flat = try CodeTrie(ids: [5, 0, 9], codebookSizes: [10])
        #expect(flat.nodeCounts == [1, 3])
        #expect(flat.item(forID: [9]) == 2)
        #expect(flat.id(ofItem: 0) == [5])
    }

    @Test func bothSortsAgreeWithAComparatorSort() throws {
        var rng = SeededGenerator(seed: 3)
        for sizes in [[7, 1, 300, 5], [2, 65536, 65536, 65536, 65536], [2, 3], [256, 256, 256, 256]] {
            let index = RandomIndex.make(&rng, items: 500, sizes: sizes)
            let expected = (0..<index.count).sorted { index.row($0).lexicographicallyPrecedes(index.row($1)) }
            for packed in [true, false] {
                let rows = TrieSort.sort(ids: index.ids, rows: index.count, codebookSizes: sizes, allowPacked: packed)
                #expect(rows.order.map(Int.init) == expected)
                #expect(rows.duplicate == nil)
                for (i, item) in rows.order.enumerated() {
                    #expect(rows.codes[(i * sizes.count)..<((i + 1) * sizes.count)].map(Int32.init) == index.row(Int(item)))
                }
            }
            let a = try CodeTrie(ids: index.ids, codebookSizes: sizes, allowPackedSort: true)
            let b = try CodeTrie(ids: index.ids, codebookSizes: sizes, allowPackedSort: false)
            #expect(a.arrays == b.arrays)
        }
        // Duplicates are found by both.
        for packed in [true, false] {
            #expect(throws: DecodingError.duplicateID(firstItem: 0, secondItem: 2, codes: [3, 1])) {
                try CodeTrie(ids: [3, 1, 0, 0, 3, 1], codebookSizes: [4, 2], allowPackedSort: packed)
            }
        }
    }

    @Test func duplicateIDsAreNamed() {
        let ids: [Int32] = [0, 1, 1, 1, 0, 0, 1, 1]
        #expect(throws: DecodingError.duplicateID(firstItem: 1, secondItem: 3, codes: [1, 1])) {
            try CodeTrie(ids: ids, codebookSizes: [2, 2])
        }
    }

    @Test func badShapesAndCodesAreRejected() {
        #expect(throws: DecodingError.emptyIndex) { try CodeTrie(ids: [], codebookSizes: [4]) }
        #expect(throws: DecodingError.self) { try CodeTrie(ids: [0, 1], codebookSizes: []) }
        #expect(throws: DecodingError.self) { try CodeTrie(ids: [0, 1, 2], codebookSizes: [4, 4]) }
        #expect(throws: DecodingError.self) { try CodeTrie(ids: [0, 1], codebookSizes: [0, 4]) }
        #expect(throws: DecodingError.self) { try CodeTrie(ids: [0, 1], codebookSizes: [70000, 4]) }
        #expect(throws: DecodingError.codeOutOfRange(item: 1, level: 1, code: 4, codebookSize: 4)) {
            try CodeTrie(ids: [0, 1, 0, 4], codebookSizes: [4, 4])
        }
        #expect(throws: DecodingError.codeOutOfRange(item: 0, level: 0, code: -1, codebookSize: 4)) {
            try CodeTrie(ids: [-1, 1], codebookSizes: [4, 4])
        }
    }

    @Test func corruptedArraysThrowInsteadOfCrashing() throws {
        var rng = SeededGenerator(seed: 21)
        let index = RandomIndex.make(&rng, items: 200, sizes: [20, 6, 9])
        let good = try CodeTrie(ids: index.ids, codebookSizes: index.sizes).arrays
        var cases: [(String, CodeTrieArrays)] = []
        var a = good; a.offsets[1][3] = a.offsets[1][2]; cases.append(("empty node", a))
        a = good; a.offsets[1][2] = 100_000; cases.append(("offset beyond", a))
        a = good; a.offsets[0][0] = 1; cases.append(("first offset", a))
        a = good; a.offsets[2].removeLast(); cases.append(("short offsets", a))
        a = good; a.tokens[2][0] = 9; cases.append(("token out of range", a))
        a = good; a.tokens[1].swapAt(0, 1); cases.append(("tokens not sorted", a))
        a = good; a.leafItems[0] = a.leafItems[1]; cases.append(("repeated leaf item", a))
        a = good; a.leafItems[0] = -3; cases.append(("negative leaf item", a))
        a = good; a.leafItems.removeLast(); cases.append(("missing leaf item", a))
        a = good; a.codebookSizes[0] = 0; cases.append(("codebook size 0", a))
        a = good; a.codebookSizes.removeLast(); cases.append(("levels disagree", a))
        a = good; a.tokens[2] = []; cases.append(("no leaves", a))
        a = good; a.offsets = []; a.tokens = []; a.codebookSizes = []; cases.append(("nothing", a))
        for (name, arrays) in cases {
            #expect(throws: DecodingError.self, "\(name)") { try CodeTrie(arrays: arrays) }
        }
        // Random single-value corruptions: either still a valid trie of the same items, or an error.
        for _ in 0..<300 {
            var c = good
            let l = rng.nextInt(below: 3)
            switch rng.nextInt(below: 3) {
            case 0: let i = rng.nextInt(below: c.offsets[l].count); c.offsets[l][i] = Int32(rng.nextInt(below: 400)) - 100
            case 1: let i = rng.nextInt(below: c.tokens[l].count); c.tokens[l][i] = UInt16(rng.nextInt(below: 40))
            default: let i = rng.nextInt(below: c.leafItems.count); c.leafItems[i] = Int32(rng.nextInt(below: 260)) - 30
            }
            if let trie = try? CodeTrie(arrays: c) { try trie.validate() }
        }
    }

    @Test func memoryIsAccountedPerArray() throws {
        var rng = SeededGenerator(seed: 8)
        let index = RandomIndex.make(&rng, items: 1000, sizes: [16, 16, 16])
        let trie = try CodeTrie(ids: index.ids, codebookSizes: index.sizes)
        let a = trie.arrays
        let offsets = a.offsets.reduce(0) { $0 + $1.count } * 4
        let tokens = a.tokens.reduce(0) { $0 + $1.count } * 2
        let denseNodes = (0..<3).filter { trie.denseLevels[$0] }.reduce(0) { $0 + trie.nodeCounts[$1] }
        #expect(trie.memoryBytes == offsets + tokens + denseNodes * 8 + 1000 * 8)
        #expect(trie.bytesPerItem == Double(trie.memoryBytes) / 1000)
    }
}
