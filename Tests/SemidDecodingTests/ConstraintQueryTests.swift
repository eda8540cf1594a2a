import SemidMath
import Testing
@testable import SemidDecoding

/// The batched constraint queries (CodeTrie+Constraint) against a brute-force reference: the set
/// of codes that follow a prefix among the IDs themselves.
@Suite struct ConstraintQueryTests {
    /// The codes allowed after `prefix` by scanning every ID.
    static func bruteForce(_ index: RandomIndex, prefix: [Int32]) -> [Int32] {
        let l = prefix.count
        guard l < index.sizes.count else { return [] }
        var next = Set<Int32>()
        for i in 0..<index.count {
            let row = index.row(i)
            if Array(row[0..<l]) == prefix { next.insert(row[l]) }
        }
        return next.sorted()
    }

    /// Random prefixes of `length` codes: half of them prefixes of real IDs, the rest random codes
    /// (some outside their position's range).
    static func prefixes(_ rng: inout SeededGenerator, index: RandomIndex, rows: Int, length: Int) -> [Int32] {
        var out: [Int32] = []
        for _ in 0..<rows {
            if rng.nextInt(below: 2) == 0 {
                out += index.row(rng.nextInt(below: index.count)).prefix(length)
            } else {
                for l in 0..<length { out.append(Int32(rng.nextInt(below: index.sizes[l] + 2)) - 1) }
            }
        }
        return out
    }

    @Test func allowedNextCodesEqualBruteForceOnRandomPrefixes() throws {
        var rng = SeededGenerator(seed: 5)
        for round in 0..<80 {
            let sizes = RandomIndex.randomSizes(&rng)
            let index = RandomIndex.make(&rng, items: 1 + rng.nextInt(below: 200), sizes: sizes, skewed: round % 3 == 0)
            let trie = try CodeTrie(ids: index.ids, codebookSizes: sizes)
            for length in 0...sizes.count {
                let rows = rng.nextInt(below: 40)
                let batch = Self.prefixes(&rng, index: index, rows: rows, length: length)
                var indptr = [Int64](repeating: -7, count: rows + 1)
                let bound = rows * (length < sizes.count ? sizes[length] : 0)
                var codes = [Int32](repeating: -7, count: bound)
                let total = try batch.withUnsafeBufferPointer { p in
                    try indptr.withUnsafeMutableBufferPointer { ip in
                        try codes.withUnsafeMutableBufferPointer { try trie.allowedNextCodes(prefixes: p, length: length, indptr: ip, codes: $0) }
                    }
                }
                #expect(total <= bound)
                #expect(indptr[0] == 0 && indptr[rows] == Int64(total))
                for r in 0..<rows {
                    let prefix = Array(batch[(r * length)..<((r + 1) * length)])
                    let got = Array(codes[Int(indptr[r])..<Int(indptr[r + 1])])
                    #expect(got == Self.bruteForce(index, prefix: prefix), "round \(round), prefix \(prefix)")
                }
            }
        }
    }

    @Test func aTooSmallBufferOnlyReportsTheSize() throws {
        // Items: [0,0] [0,1] [1,1]
        let trie = try CodeTrie(ids: [0, 0, 0, 1, 1, 1], codebookSizes: [2, 2])
        let prefixes: [Int32] = [0, 1, 0]
        var indptr = [Int64](repeating: 0, count: 4)
        var codes = [Int32](repeating: -1, count: 2)
        let total = try prefixes.withUnsafeBufferPointer { p in
            try indptr.withUnsafeMutableBufferPointer { ip in
                try codes.withUnsafeMutableBufferPointer { try trie.allowedNextCodes(prefixes: p, length: 1, indptr: ip, codes: $0) }
            }
        }
        #expect(total == 5)
        #expect(indptr == [0, 2, 3, 5])
        #expect(codes == [-1, -1])
    }

    @Test func prefixesLongerThanTheIDAreRejected() throws {
        let trie = try CodeTrie(ids: [0, 0, 0, 1], codebookSizes: [2, 2])
        let prefixes: [Int32] = [0, 0, 0]
        var indptr = [Int64](repeating: 0, count: 2)
        var codes = [Int32](repeating: 0, count: 4)
        #expect(throws: DecodingError.self) {
            try prefixes.withUnsafeBufferPointer { p in
                try indptr.withUnsafeMutableBufferPointer { ip in
                    try codes.withUnsafeMutableBufferPointer { _ = try trie.allowedNextCodes(prefixes: p, length: 3, indptr: ip, codes: $0) }
                }
            }
        }
    }

    @Test func itemsOfIDsFindEveryItemAndRejectOtherCodes() throws {
        var rng = SeededGenerator(seed: 9)
        let sizes = [5, 3, 4]
        let index = RandomIndex.make(&rng, items: 40, sizes: sizes)
        let trie = try CodeTrie(ids: index.ids, codebookSizes: sizes)
        var items = [Int64](repeating: 0, count: index.count)
        try index.ids.withUnsafeBufferPointer { p in try items.withUnsafeMutableBufferPointer { try trie.items(forIDs: p, into: $0) } }
        #expect(items == (0..<Int64(index.count)).map { $0 })
        let known = Set((0..<index.count).map { index.row($0) })
        var probes: [[Int32]] = []
        for _ in 0..<200 { probes.append(sizes.map { Int32(rng.nextInt(below: $0 + 2)) - 1 }) }
        var found = [Int64](repeating: 0, count: probes.count)
        try probes.flatMap { $0 }.withUnsafeBufferPointer { p in try found.withUnsafeMutableBufferPointer { try trie.items(forIDs: p, into: $0) } }
        for (probe, item) in zip(probes, found) {
            if known.contains(probe) {
                #expect(index.row(Int(item)) == probe)
            } else {
                #expect(item == -1)
            }
        }
    }

    // MARK: Tokens and masks

    /// Items [0,1] [0,2] [2,0] [2,1] over sizes [3, 3]; tokens: position 0 at 10, position 1 at 20,
    /// end token 5, vocabulary 30.
    let ids: [Int32] = [0, 1, 0, 2, 2, 0, 2, 1]
    let layout = TokenLayout(positionBases: [10, 20], endToken: 5)

    func maskedRows(_ trie: CodeTrie, generated: [Int64], length: Int, layout: TokenLayout, inPlace: Bool) throws -> [[Float]] {
        let rows = length == 0 ? 3 : generated.count / length
        let vocabulary = 30, stride = 32
        var scores = [Float](repeating: 0, count: rows * stride)
        for i in scores.indices { scores[i] = Float(i % stride) + 0.5 }
        let original = scores
        var out = [Float](repeating: .nan, count: rows * stride)
        try generated.withUnsafeBufferPointer { g in
            try original.withUnsafeBufferPointer { src in
                if inPlace {
                    try scores.withUnsafeMutableBufferPointer { s in
                        try trie.maskScores(generated: g.baseAddress, rows: rows, rowStride: length, length: length, layout: layout,
                                            source: UnsafePointer(s.baseAddress), destination: s.baseAddress,
                                            vocabularySize: vocabulary, scoreRowStride: stride)
                    }
                } else {
                    try out.withUnsafeMutableBufferPointer { o in
                        try trie.maskScores(generated: g.baseAddress, rows: rows, rowStride: length, length: length, layout: layout,
                                            source: src.baseAddress, destination: o.baseAddress,
                                            vocabularySize: vocabulary, scoreRowStride: stride)
                    }
                }
            }
        }
        let result = inPlace ? scores : out
        // The padding between rows is never written.
        for r in 0..<rows {
            for j in vocabulary..<stride {
                let value = result[r * stride + j]
                if inPlace { #expect(value == original[r * stride + j]) } else { #expect(value.isNaN) }
            }
        }
        return (0..<rows).map { Array(result[($0 * stride)..<($0 * stride + vocabulary)]) }
    }

    /// The token ids whose score survived in `row`.
    func kept(_ row: [Float]) -> [Int] { row.indices.filter { row[$0] != -.infinity } }

    @Test func maskKeepsExactlyTheAllowedTokensWithTheirScores() throws {
        let trie = try CodeTrie(ids: ids, codebookSizes: [3, 3])
        for inPlace in [true, false] {
            // Step 0: codes 0 and 2 at position 0.
            let step0 = try maskedRows(trie, generated: [], length: 0, layout: layout, inPlace: inPlace)
            for row in step0 {
                #expect(kept(row) == [10, 12])
                #expect(row[10] == 10.5 && row[12] == 12.5)
            }
            // Step 1: after code 0 (token 10): codes 1, 2 -> tokens 21, 22; after code 2: 20, 21;
            // after code 1 (no item) or a token outside the block: only the end token.
            let step1 = try maskedRows(trie, generated: [10, 12, 11, 3], length: 1, layout: layout, inPlace: inPlace)
            #expect(step1.map(kept) == [[21, 22], [20, 21], [5], [5]])
            #expect(step1[0][21] == 21.5)
            // Step 2: complete IDs allow only the end token; a dead prefix too.
            let step2 = try maskedRows(trie, generated: [10, 21, 12, 22], length: 2, layout: layout, inPlace: inPlace)
            #expect(step2.map(kept) == [[5], [5]])
            #expect(step2[0][5] == 5.5)
            // Without an end token nothing survives there.
            let noEnd = try maskedRows(trie, generated: [10, 21, 11, 21], length: 2,
                                       layout: TokenLayout(positionBases: [10, 20]), inPlace: inPlace)
            #expect(noEnd.map(kept) == [[], []])
        }
    }

    @Test func maskAndTokenCSRAgreeOnRandomTries() throws {
        var rng = SeededGenerator(seed: 21)
        for _ in 0..<40 {
            let sizes = RandomIndex.randomSizes(&rng)
            let index = RandomIndex.make(&rng, items: 1 + rng.nextInt(below: 150), sizes: sizes, skewed: true)
            let trie = try CodeTrie(ids: index.ids, codebookSizes: sizes)
            var bases: [Int] = []
            var next = 3
            for k in sizes { bases.append(next); next += k + rng.nextInt(below: 3) }
            let vocabulary = next + 2
            let layout = TokenLayout(positionBases: bases, endToken: rng.nextInt(below: 2) == 0 ? 1 : nil)
            for length in 0...sizes.count {
                let rows = 1 + rng.nextInt(below: 30)
                let codes = Self.prefixes(&rng, index: index, rows: rows, length: length)
                let generated = codes.enumerated().map { Int64($0.element) + Int64(bases[$0.offset % max(length, 1)]) }
                var indptr = [Int64](repeating: 0, count: rows + 1)
                var tokens = [Int64](repeating: 0, count: rows * ((sizes.max() ?? 1) + 1))
                _ = try generated.withUnsafeBufferPointer { g in
                    try indptr.withUnsafeMutableBufferPointer { ip in
                        try tokens.withUnsafeMutableBufferPointer {
                            try trie.allowedNextTokens(generated: g.baseAddress, rowStride: length, length: length, layout: layout, indptr: ip, tokens: $0)
                        }
                    }
                }
                var scores = (0..<(rows * vocabulary)).map { Float($0 % vocabulary) + 0.5 }
                let original = scores
                var copied = [Float](repeating: .nan, count: rows * vocabulary)
                try generated.withUnsafeBufferPointer { g in
                    try scores.withUnsafeMutableBufferPointer { s in
                        try trie.maskScores(generated: g.baseAddress, rows: rows, rowStride: length, length: length, layout: layout,
                                            source: UnsafePointer(s.baseAddress), destination: s.baseAddress,
                                            vocabularySize: vocabulary, scoreRowStride: vocabulary)
                    }
                    try original.withUnsafeBufferPointer { o in
                        try copied.withUnsafeMutableBufferPointer { c in
                            try trie.maskScores(generated: g.baseAddress, rows: rows, rowStride: length, length: length,
                                                layout: layout, source: o.baseAddress, destination: c.baseAddress,
                                                vocabularySize: vocabulary, scoreRowStride: vocabulary)
                        }
                    }
                }
                // In place and into another buffer: the same values, the allowed ones unchanged.
                #expect(scores == copied)
                #expect(scores.indices.allSatisfy { scores[$0] == -.infinity || scores[$0] == original[$0] })
                for r in 0..<rows {
                    let prefix = Array(codes[(r * length)..<((r + 1) * length)])
                    let reference = Self.bruteForce(index, prefix: prefix)
                    let live = length < sizes.count && !reference.isEmpty
                    let expected: [Int64] = live ? reference.map { Int64($0) + Int64(bases[length]) }
                                                 : (layout.endToken.map { [Int64($0)] } ?? [])
                    #expect(Array(tokens[Int(indptr[r])..<Int(indptr[r + 1])]) == expected, "prefix \(prefix)")
                    let row = Array(scores[(r * vocabulary)..<((r + 1) * vocabulary)])
                    #expect(kept(row).map { Int64($0) } == expected)
                }
            }
        }
    }

    @Test func layoutsThatDoNotFitAreRejected() throws {
        let trie = try CodeTrie(ids: ids, codebookSizes: [3, 3])
        let sizes = trie.codebookSizes
        #expect(throws: DecodingError.self) { try TokenLayout(positionBases: [0]).validate(codeSizes: sizes, vocabularySize: 30) }
        #expect(throws: DecodingError.self) { try TokenLayout(positionBases: [0, 28]).validate(codeSizes: sizes, vocabularySize: 30) }
        #expect(throws: DecodingError.self) { try TokenLayout(positionBases: [-1, 5]).validate(codeSizes: sizes, vocabularySize: nil) }
        #expect(throws: DecodingError.self) { try TokenLayout(positionBases: [0, 3], endToken: 4).validate(codeSizes: sizes, vocabularySize: 30) }
        #expect(throws: DecodingError.self) { try TokenLayout(positionBases: [0, 3], endToken: 30).validate(codeSizes: sizes, vocabularySize: 30) }
        try TokenLayout(positionBases: [0, 27], endToken: 6).validate(codeSizes: sizes, vocabularySize: 30)
        #expect(TokenLayout(base: 7, codeSizes: [3, 4, 2]).positionBases == [7, 10, 14])
    }
}
