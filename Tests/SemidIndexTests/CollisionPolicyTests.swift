import Foundation
import SemidMath
import SemidQuantization
import Testing
@testable import SemidIndex

@Suite("Collision policies")
struct CollisionPolicyTests {
    /// Random raw code matrices with many duplicates: (seed, levels, codebook size).
    static let shapes: [(UInt64, Int, Int)] = [(1, 1, 5), (2, 2, 2), (3, 2, 3), (4, 3, 2), (5, 3, 3), (6, 4, 2), (7, 2, 8), (8, 1, 2)]

    /// Rows of `ids` as arrays.
    static func rows(_ ids: CodeMatrix) -> [[Int32]] { (0..<ids.rows).map { Array(ids.row($0)) } }

    @Test("suffix: unique IDs, suffix = rank by item id within the raw group, size = largest group", arguments: shapes)
    func suffixProperties(seed: UInt64, levels: Int, k: Int) throws {
        var generator = SeededGenerator(seed: seed)
        let n = 150 + generator.nextInt(below: 150)
        let raw = IndexFixture.randomCodes(rows: n, levels: levels, codebookSize: k, generator: &generator)
        let resolution = try SuffixResolver().resolve(raw: raw, codebookSizes: Array(repeating: k, count: raw.levels), context: IndexFixture.noDistances)
        let ids = resolution.ids

        #expect(ids.rows == n && ids.levels == levels + 1)
        #expect(ids.prefix(levels: levels) == raw, "the first L codes are the raw codes")
        #expect(Set(Self.rows(ids)).count == n, "final IDs are unique")

        var groups: [[Int32]: [Int]] = [:]
        for i in 0..<n { groups[Array(raw.row(i)), default: []].append(i) }
        let largest = groups.values.map(\.count).max()!
        #expect(largest > 1, "the fixture must have collisions")
        for members in groups.values {
            // Members are collected in increasing item order; their suffixes must be 0, 1, 2, …
            #expect(members.map { ids[$0, levels] } == (0..<members.count).map(Int32.init))
        }
        #expect(resolution.codeSizes == Array(repeating: k, count: levels) + [largest])
        #expect(resolution.summary.suffixSize == largest)
        #expect(resolution.summary.itemsMoved == 0)
    }

    /// `extend` returns only the new IDs (existing ones cannot be touched through the API); what can
    /// go wrong is a new ID equal to an existing one, or ranks that differ from a one-shot build.
    @Test("suffix extend: new IDs unique against the existing ones and equal to resolving everything at once", arguments: shapes)
    func suffixExtend(seed: UInt64, levels: Int, k: Int) throws {
        var generator = SeededGenerator(seed: seed &+ 100)
        let n = 150 + generator.nextInt(below: 150)
        let all = IndexFixture.randomCodes(rows: n, levels: levels, codebookSize: k, generator: &generator)
        let cut1 = generator.nextInt(below: n / 2) + 1
        let cut2 = cut1 + generator.nextInt(below: n - cut1)
        let batches = [0..<cut1, cut1..<cut2, cut2..<n].map { all.gatheringRows(Array($0)) }
        let resolver = SuffixResolver()

        let first = try resolver.resolve(raw: batches[0], codebookSizes: Array(repeating: k, count: batches[0].levels), context: IndexFixture.noDistances)
        var raw = batches[0], ids = first.ids, sizes = first.codeSizes
        for batch in batches.dropFirst() {
            let added = try resolver.extend(existingRaw: raw, existingIDs: ids, codeSizes: sizes, newRaw: batch,
                                            context: IndexFixture.noDistances)
            #expect(added.ids.rows == batch.rows && added.ids.levels == levels + 1)
            #expect(added.ids.prefix(levels: levels) == batch, "new IDs keep the raw codes")
            #expect(Array(added.codeSizes.prefix(levels)) == Array(sizes.prefix(levels)))
            #expect(added.codeSizes[levels] >= sizes[levels], "the suffix level never shrinks")
            raw = raw.appendingRows(batch)
            ids = ids.appendingRows(added.ids)
            sizes = added.codeSizes
            #expect(Set(Self.rows(ids)).count == ids.rows, "all IDs stay unique")
            #expect(Self.rows(ids).allSatisfy { Int($0[levels]) < sizes[levels] }, "suffixes fit the suffix level")
        }
        // Items are added in id order, so ranks are the same as a single resolve over all items.
        let once = try resolver.resolve(raw: all, codebookSizes: Array(repeating: k, count: all.levels), context: IndexFixture.noDistances)
        #expect(ids == once.ids)
        #expect(sizes == once.codeSizes)
    }

    @Test("suffix extend on a hand-made example takes the next free rank of each group")
    func suffixExtendByHand() throws {
        let existingRaw = CodeMatrix(rows: 3, levels: 2, values: [0, 0, 0, 0, 1, 1])
        let existingIDs = CodeMatrix(rows: 3, levels: 3, values: [0, 0, 0, 0, 0, 1, 1, 1, 0])
        let newRaw = CodeMatrix(rows: 4, levels: 2, values: [0, 0, 2, 2, 1, 1, 0, 0])
        let added = try SuffixResolver().extend(existingRaw: existingRaw, existingIDs: existingIDs, codeSizes: [4, 4, 2],
                                                newRaw: newRaw, context: IndexFixture.noDistances)
        #expect(added.ids.column(2) == [2, 0, 1, 3])
        #expect(added.codeSizes == [4, 4, 4])
    }

    @Test("none keeps the raw codes and reports K per level")
    func noneKeepsRawCodes() throws {
        var generator = SeededGenerator(seed: 9)
        let raw = IndexFixture.randomCodes(rows: 50, levels: 2, codebookSize: 3, generator: &generator)
        let resolution = try UnresolvedCollisions().resolve(raw: raw, codebookSizes: Array(repeating: 3, count: raw.levels), context: IndexFixture.noDistances)
        #expect(resolution.ids == raw)
        #expect(resolution.codeSizes == [3, 3])
        #expect(resolution.summary.suffixSize == nil)
        let more = IndexFixture.randomCodes(rows: 5, levels: 2, codebookSize: 3, generator: &generator)
        let added = try UnresolvedCollisions().extend(existingRaw: raw, existingIDs: raw, codeSizes: [3, 3], newRaw: more,
                                                      context: IndexFixture.noDistances)
        #expect(added.ids == more && added.codeSizes == [3, 3])
    }

    @Test("policies are stored as {\"name\": …} and unknown names are rejected with the known ones")
    func codable() throws {
        let encoded = try JSONEncoder().encode(CollisionPolicy.suffix)
        #expect(String(decoding: encoded, as: UTF8.self) == #"{"name":"suffix"}"#)
        #expect(try JSONDecoder().decode(CollisionPolicy.self, from: Data(#"{"name":"none"}"#.utf8)) == CollisionPolicy.none)
        #expect(CollisionPolicy(name: "sinkhorn-typo") == nil)
        let error = #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(CollisionPolicy.self, from: Data(#"{"name":"bogus"}"#.utf8))
        }
        #expect(String(describing: error).contains("none, suffix"))
    }
}
