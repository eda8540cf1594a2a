import Foundation
import Testing
@testable import SemidIndex
import SemidMath
import SemidQuantization
import SemidStorage

@Suite("user IDs, collaborative vectors and baseline IDs")
struct UserAndSourceTests {
    /// Histories over `items` items: user u's items cluster around u mod 5.
    static func sequences(users: Int, items: Int, length: Int = 8, seed: UInt64 = 1) -> [UserSequence] {
        var rng = SeededGenerator(seed: seed)
        return (0..<users).map { u in
            var seen = Set<Int>()
            var list: [Int] = []
            while list.count < length {
                let item = ((u % 5) * (items / 5) + rng.nextInt(below: items / 5)) % items
                if seen.insert(item).inserted { list.append(item) }
            }
            return UserSequence(user: u, items: list)
        }
    }

    @Test("the user vector is the recency-weighted mean of the training items, held-out items excluded")
    func userVectorByHand() throws {
        let items = Matrix(rows: 4, cols: 2, values: [1, 0, 0, 1, 5, 5, 7, 7])
        // Training part of [0, 1, 2, 3] with 2 held out: items 0 then 1; weights 0.5 (older) and 1.
        let vectors = try UserIDBuilder.userVectors(
            sequences: [UserSequence(user: 0, items: [0, 1, 2, 3])], itemVectors: items, textEmbeddings: nil,
            configuration: UserIDConfiguration(recencyHalfLife: 1))
        let expected: [Float] = [0.5 / 1.5, 1 / 1.5]
        let norm = (expected[0] * expected[0] + expected[1] * expected[1]).squareRoot()
        #expect(abs(vectors[0, 0] - expected[0] / norm) < 1e-6)
        #expect(abs(vectors[0, 1] - expected[1] / norm) < 1e-6)
    }

    @Test("users with no training items, unknown items and mismatched text rows are clear errors")
    func userVectorErrors() {
        let items = Matrix(rows: 3, cols: 2, values: [1, 0, 0, 1, 1, 1])
        #expect { try UserIDBuilder.userVectors(sequences: [UserSequence(user: 7, items: [0, 1])], itemVectors: items,
                                                 textEmbeddings: nil, configuration: .init()) }
            throws: { "\($0)".contains("user 7 has no training items") }
        #expect { try UserIDBuilder.userVectors(sequences: [UserSequence(user: 2, items: [9, 0, 1])], itemVectors: items,
                                                 textEmbeddings: nil, configuration: .init()) }
            throws: { "\($0)".contains("user 2 mentions item 9") }
        #expect { try UserIDBuilder.userVectors(sequences: [UserSequence(user: 0, items: [0, 1, 2])], itemVectors: items,
                                                 textEmbeddings: Matrix(rows: 2, cols: 3), configuration: .init()) }
            throws: { "\($0)".contains("2 rows but there are 1 users") }
    }

    @Test("user IDs are unique after the policy, and adding users changes no existing ID", arguments: ["suffix", "sinkhorn"])
    func userIDsAndAdd(policy: String) throws {
        var index = try IndexFixture.build(rows: 200, levels: 2, codebookSize: 8).index
        let itemVectors = IndexFixture.embeddings(rows: 200, cols: 8)
        let all = Self.sequences(users: 300, items: 200)
        // sinkhorn keeps the ID length: give it room under every prefix.
        let size = policy == "sinkhorn" ? 32 : 16
        var config = UserIDConfiguration(levels: 2, codebookSize: size, collisionPolicy: CollisionPolicy(name: policy)!, seed: 3)
        config.kmeans = .init(clusters: size)
        let (users, rows) = try UserIDBuilder.build(index: &index, sequences: Array(all.prefix(250)), itemVectors: itemVectors,
                                                    itemVectorsFingerprint: nil, textEmbeddings: nil, inputs: [],
                                                    configuration: config)
        #expect(users.section.users == 250 && rows.count == 250)
        #expect(Set((0..<250).map { Array(users.ids.row($0)) }).count == 250)
        #expect(users.report().final.collisionRate == 0)
        let reloaded = try #require(try UserIDs.load(from: index))
        #expect(reloaded.ids == users.ids && reloaded.quantizer == users.quantizer)
        let (grown, added) = try UserIDBuilder.add(index: &index, sequences: Array(all.suffix(50)), itemVectors: itemVectors,
                                                  textEmbeddings: nil, inputs: [])
        #expect(added.map(\.id) == Array(250..<300))
        #expect(Array(grown.ids.values.prefix(users.ids.values.count)) == users.ids.values)
        #expect(Set((0..<300).map { Array(grown.ids.row($0)) }).count == 300)
        #expect(grown.section.batches.map(\.batch) == [0, 1])
        // Users that already have IDs are refused by add.
        #expect { _ = try UserIDBuilder.add(index: &index, sequences: [all[3]], itemVectors: itemVectors, textEmbeddings: nil, inputs: []) }
            throws: { "\($0)".contains("user 3 already has an ID") }
    }

    @Test("the encoder re-derives each user's stored codes from their training items, with and without text embeddings",
          arguments: [false, true])
    func encoderMatchesStoredCodes(text: Bool) throws {
        var index = try IndexFixture.build(rows: 200, levels: 2, codebookSize: 8).index
        let itemVectors = IndexFixture.embeddings(rows: 200, cols: 8)
        let sequences = Self.sequences(users: 120, items: 200)
        let textEmbeddings = text ? IndexFixture.embeddings(rows: 120, cols: 4, seed: 9) : nil
        var config = UserIDConfiguration(levels: 2, codebookSize: 8, seed: 3)
        config.kmeans = .init(clusters: 8)
        let (users, _) = try UserIDBuilder.build(index: &index, sequences: sequences, itemVectors: itemVectors,
                                                 itemVectorsFingerprint: nil, textEmbeddings: textEmbeddings, inputs: [],
                                                 configuration: config)
        let encoder = try UserIDEncoder(users: users, itemVectors: itemVectors, textEmbeddings: textEmbeddings)
        let codes = try encoder.encode(sequences.map { (user: $0.user, items: $0.trainingItems(heldOut: config.heldOutPerUser)) })
        let expected = try users.quantizer.encode(try UserIDBuilder.userVectors(
            sequences: sequences, itemVectors: itemVectors, textEmbeddings: textEmbeddings, configuration: config))
        #expect(codes == expected)
        // The stored raw codes are the quantizer's own assignment of the same vectors.
        let agree = (0..<codes.rows).filter { codes.row($0) == users.rawCodes.row($0) }.count
        #expect(agree == codes.rows)
        // A shorter history gives a different vector (and so, for some users, different codes).
        let short = try encoder.encode(sequences.map { (user: $0.user, items: $0.items.prefix(2)) })
        #expect(short != codes)
    }

    @Test("the encoder rejects inputs that do not match the user IDs")
    func encoderErrors() throws {
        var index = try IndexFixture.build(rows: 200, levels: 2, codebookSize: 8).index
        let itemVectors = IndexFixture.embeddings(rows: 200, cols: 8)
        let sequences = Self.sequences(users: 60, items: 200)
        var config = UserIDConfiguration(levels: 2, codebookSize: 8, seed: 3)
        config.kmeans = .init(clusters: 8)
        let (users, _) = try UserIDBuilder.build(index: &index, sequences: sequences, itemVectors: itemVectors,
                                                 itemVectorsFingerprint: nil, textEmbeddings: nil, inputs: [], configuration: config)
        #expect { _ = try UserIDEncoder(users: users, itemVectors: itemVectors, textEmbeddings: Matrix(rows: 60, cols: 3)) }
            throws: { "\($0)".contains("built without per-user text embeddings") }
        #expect { _ = try UserIDEncoder(users: users, itemVectors: IndexFixture.embeddings(rows: 200, cols: 6), textEmbeddings: nil) }
            throws: { "\($0)".contains("dimension 6") }
        let encoder = try UserIDEncoder(users: users, itemVectors: itemVectors, textEmbeddings: nil)
        #expect { _ = try encoder.encode([(user: 4, items: [Int]())]) } throws: { "\($0)".contains("user 4: a user ID needs at least one") }
        #expect { _ = try encoder.encode([(user: 5, items: [1, 500])]) } throws: { "\($0)".contains("user 5 mentions item 500") }
    }

    @Test("collaborative vectors put items that co-occur close together, and never use held-out items")
    func collaborativeVectors() throws {
        let sequences = Self.sequences(users: 400, items: 100, length: 10)
        let (vectors, stats) = try ItemVectors.collaborative(sequences: sequences, itemCount: 100,
                                                             configuration: .init(dimension: 8), seed: 1)
        #expect(vectors.rows == 100 && vectors.cols == 8)
        #expect(stats.users == 400)
        // Items of the same user group (same fifth of the catalog) are closer than items of others.
        func cosine(_ a: Int, _ b: Int) -> Float { (0..<8).reduce(0) { $0 + vectors[a, $1] * vectors[b, $1] } }
        var same: Float = 0, other: Float = 0
        for a in 0..<20 { for b in 0..<20 where a != b { same += cosine(a, b) }; for b in 40..<60 { other += cosine(a, b) } }
        #expect(same / 380 > other / 400 + 0.3)
        // An item that appears only as a held-out target has no collaborative signal.
        var withTarget = sequences
        withTarget[0].items.append(99)   // last item of user 0: held out (test target)
        withTarget[0].items.append(0)
        let onlyHeldOut = try ItemVectors.collaborative(sequences: [UserSequence(user: 0, items: [1, 2, 3, 4, 99, 98])] + Array(sequences.dropFirst()).map {
            UserSequence(user: $0.user, items: $0.items.filter { $0 != 99 && $0 != 98 })
        }, itemCount: 100, configuration: .init(dimension: 8), seed: 1)
        #expect((0..<8).allSatisfy { onlyHeldOut.vectors[99, $0] == 0 })
        #expect(onlyHeldOut.statistics.itemsWithoutInteractions >= 2)
    }

    @Test("hybrid vectors concatenate the two normalised views with the given weights")
    func hybridVectors() {
        let content = Matrix(rows: 1, cols: 2, values: [3, 4])
        let collaborative = Matrix(rows: 1, cols: 1, values: [-2])
        let h = ItemVectors.hybrid(content: content, collaborative: collaborative, contentWeight: 0.64)
        #expect(h.cols == 3)
        #expect(abs(h[0, 0] - 0.8 * 0.6) < 1e-6 && abs(h[0, 1] - 0.8 * 0.8) < 1e-6 && abs(h[0, 2] + 0.6) < 1e-6)
    }

    @Test("random IDs are unique and seeded; sequential IDs follow first appearance in training histories")
    func assignedIDs() throws {
        let a = try AssignedIDs.random(items: 500, codebookSizes: [32, 32], seed: 1)
        let b = try AssignedIDs.random(items: 500, codebookSizes: [32, 32], seed: 1)
        let c = try AssignedIDs.random(items: 500, codebookSizes: [32, 32], seed: 2)
        #expect(a == b && a != c)
        #expect(Set((0..<500).map { Array(a.row($0)) }).count == 500)
        #expect { _ = try AssignedIDs.random(items: 100, codebookSizes: [8, 8], seed: 1) } throws: { "\($0)".contains("only 64") }
        // Items 5, 3 appear first (item 9 is held out), then the rest by id.
        let (ids, base) = try AssignedIDs.sequential(items: 10, levels: 2,
                                                     sequences: [UserSequence(user: 0, items: [5, 3, 5, 9, 1])], heldOut: 2)
        #expect(base == 4)   // 4² = 16 ≥ 10 > 3²
        func number(_ i: Int) -> Int { Int(ids[i, 0]) * base + Int(ids[i, 1]) }
        #expect(number(5) == 0 && number(3) == 1)
        #expect([0, 1, 2, 4, 6, 7, 8, 9].map(number) == Array(2..<10))
    }
}
