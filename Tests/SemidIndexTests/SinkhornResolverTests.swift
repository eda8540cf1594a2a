import Testing
@testable import SemidIndex
import SemidMath
import SemidQuantization

@Suite("sinkhorn collision policy")
struct SinkhornResolverTests {
    /// Random raw codes with many duplicates and a distance function that prefers each item's raw
    /// last-level code.
    static func fixture(rows: Int, levels: Int, k: Int, seed: UInt64) -> (raw: CodeMatrix, context: ResolutionContext, distances: Matrix) {
        var rng = SeededGenerator(seed: seed)
        var raw = CodeMatrix(rows: rows, levels: levels)
        for i in 0..<rows {
            for l in 0..<levels { raw[i, l] = Int32(rng.nextInt(below: l == levels - 1 ? max(1, k / 4) : 3)) }
        }
        var d = Matrix(rows: rows, cols: k)
        for i in 0..<rows {
            for j in 0..<k { d[i, j] = Int32(j) == raw[i, levels - 1] ? 0.1 * rng.nextUnitFloat() : 1 + rng.nextUnitFloat() }
        }
        let distances = d
        return (raw, ResolutionContext { rows in distances.gatheringRows(rows) }, distances)
    }

    @Test("IDs end unique, keep the quantizer's length, and only the last level changes", arguments: [UInt64(1), 2, 3, 4, 5])
    func resolvesEverything(seed: UInt64) throws {
        let (raw, context, _) = Self.fixture(rows: 120, levels: 3, k: 64, seed: seed)
        let resolution = try SinkhornResolver(settings: .init()).resolve(raw: raw, codebookSizes: Array(repeating: 64, count: raw.levels), context: context)
        #expect(resolution.ids.levels == 3)
        #expect(resolution.codeSizes == [64, 64, 64])
        #expect(Set((0..<120).map { Array(resolution.ids.row($0)) }).count == 120)
        for i in 0..<120 {
            #expect(Array(resolution.ids.row(i).prefix(2)) == Array(raw.row(i).prefix(2)))
            #expect(resolution.ids[i, 2] >= 0 && resolution.ids[i, 2] < 64)
        }
        // Items that did not collide keep their raw ID.
        var counts: [[Int32]: Int] = [:]
        for i in 0..<120 { counts[Array(raw.row(i)), default: 0] += 1 }
        for i in 0..<120 where counts[Array(raw.row(i))] == 1 {
            #expect(Array(resolution.ids.row(i)) == Array(raw.row(i)))
        }
        #expect(resolution.summary.itemsMoved == (0..<120).filter { resolution.ids[$0, 2] != raw[$0, 2] }.count)
        #expect(!resolution.summary.rounds.isEmpty)
    }

    @Test("same inputs give the same IDs")
    func deterministic() throws {
        let (raw, context, _) = Self.fixture(rows: 80, levels: 2, k: 64, seed: 9)
        let a = try SinkhornResolver(settings: .init()).resolve(raw: raw, codebookSizes: Array(repeating: 64, count: raw.levels), context: context)
        let b = try SinkhornResolver(settings: .init()).resolve(raw: raw, codebookSizes: Array(repeating: 64, count: raw.levels), context: context)
        #expect(a.ids == b.ids)
    }

    @Test("extend never changes an existing ID and keeps all IDs unique")
    func extendKeepsExisting() throws {
        let (raw, context, distances) = Self.fixture(rows: 150, levels: 3, k: 64, seed: 11)
        let resolver = SinkhornResolver(settings: .init())
        let oldRaw = CodeMatrix(rows: 100, levels: 3, values: Array(raw.values.prefix(300)))
        let newRaw = CodeMatrix(rows: 50, levels: 3, values: Array(raw.values.suffix(150)))
        let built = try resolver.resolve(raw: oldRaw, codebookSizes: Array(repeating: 64, count: oldRaw.levels), context: context)
        let newContext = ResolutionContext { rows in distances.gatheringRows(rows.map { $0 + 100 }) }
        let (added, sizes) = try resolver.extend(existingRaw: oldRaw, existingIDs: built.ids, codeSizes: built.codeSizes,
                                                 newRaw: newRaw, context: newContext)
        #expect(sizes == built.codeSizes)
        let all = built.ids.appendingRows(added)
        #expect(Set((0..<150).map { Array(all.row($0)) }).count == 150)
        // A new item whose raw ID was free keeps it.
        let existing = Set((0..<100).map { Array(built.ids.row($0)) })
        var seen = existing
        for j in 0..<50 where !seen.contains(Array(newRaw.row(j))) {
            #expect(Array(added.row(j)) == Array(newRaw.row(j)))
            seen.insert(Array(newRaw.row(j)))
        }
    }

    @Test("a prefix with more items than codes is an error that says what to do")
    func overfullPrefix() {
        let raw = CodeMatrix(rows: 5, levels: 2, values: [Int32](repeating: 0, count: 10))
        let context = ResolutionContext { rows in Matrix(rows: rows.count, cols: 4, repeating: 1) }
        #expect {
            _ = try SinkhornResolver(settings: .init()).resolve(raw: raw, codebookSizes: Array(repeating: 4, count: raw.levels), context: context)
        } throws: { error in
            "\(error)".contains("--collisions suffix")
        }
    }

    @Test("the policy round-trips through the manifest's JSON")
    func codable() throws {
        let policy = CollisionPolicy.sinkhorn(.init(epsilon: 0.01, iterations: 30, rounds: 5))
        let json = try JSONValue(encoding: policy)
        #expect(try json.decode(CollisionPolicy.self, source: "test") == policy)
    }
}
