import Foundation
import SemidQuantization
import Testing
@testable import SemidIndex

/// Figures of ``CollisionReport`` on a six-item example computed by hand.
///
/// Raw codes (L = 2, K = 4):
///
/// | item | raw    | suffix ID |
/// | ---- | ------ | --------- |
/// | 0    | (1, 2) | (1, 2, 0) |
/// | 1    | (3, 0) | (3, 0, 0) |
/// | 2    | (1, 2) | (1, 2, 1) |
/// | 3    | (3, 0) | (3, 0, 1) |
/// | 4    | (1, 2) | (1, 2, 2) |
/// | 5    | (0, 2) | (0, 2, 0) |
///
/// Groups: (1, 2) = {0, 2, 4}, (3, 0) = {1, 3}, (0, 2) = {5}.
@Suite("CollisionReport on a hand-made example")
struct CollisionReportTests {
    static let raw = CodeMatrix(rows: 6, levels: 2, values: [1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 0, 2])
    static let suffixIDs = CodeMatrix(rows: 6, levels: 3, values: [1, 2, 0, 3, 0, 0, 1, 2, 1, 3, 0, 1, 1, 2, 2, 0, 2, 0])
    static let titles = [0: "zero", 2: "two", 4: "four", 1: "one"]

    static func report(ids: CodeMatrix, policy: CollisionPolicy, groupLimit: Int = 10) -> CollisionReport {
        let sizes = policy == .suffix ? [4, 4, 3] : [4, 4]
        let manifest = IndexFixture.manifest(items: 6, levels: 2, codebookSize: 4, policy: policy, codeSizes: sizes)
        return CollisionReport(manifest: manifest, rawCodes: raw, finalIDs: ids, groupLimit: groupLimit) { items in
            titles.filter { items.contains($0.key) }
        }
    }

    @Test("the suffix resolver gives the IDs of the table")
    func suffixIDsOfTheExample() throws {
        let resolution = try SuffixResolver().resolve(raw: Self.raw, codebookSizes: Array(repeating: 4, count: Self.raw.levels), context: IndexFixture.noDistances)
        #expect(resolution.ids == Self.suffixIDs)
        #expect(resolution.codeSizes == [4, 4, 3])
        #expect(resolution.summary.suffixSize == 3)
    }

    @Test("raw and final collision figures")
    func collisionFigures() throws {
        let r = Self.report(ids: Self.suffixIDs, policy: .suffix)
        #expect(r.items == 6 && r.levels == 2 && r.codebookSize == 4 && r.idLength == 3)
        #expect(r.collisionPolicy == "suffix" && r.method == "rq-kmeans")
        #expect(r.raw.distinctIds == 3)
        #expect(r.raw.collisionRate == 0.5)  // (6 − 3) / 6
        #expect(r.raw.itemsInCollisions == 5)
        #expect(abs(r.raw.fractionInCollisions - 5.0 / 6.0) < 1e-12)
        #expect(r.raw.maxGroup == 3)
        #expect(r.raw.collidingGroups == 2)
        #expect(r.final == .init(distinctIds: 6, collisionRate: 0, maxGroup: 1))
        #expect(r.suffixSize == 3)
    }

    @Test("per-level used codes, utilisation, perplexity, dead codes and prefixes")
    func perLevelFigures() throws {
        let r = Self.report(ids: Self.suffixIDs, policy: .suffix)
        try #require(r.perLevel.count == 2)
        // Level 1 codes 1, 3, 1, 3, 1, 0: counts {1: 3, 3: 2, 0: 1}, code 2 unused.
        let l1 = r.perLevel[0]
        #expect(l1.level == 1 && l1.usedCodes == 3 && l1.deadCodes == 1 && l1.distinctPrefixes == 3)
        #expect(l1.utilization == 0.75)
        // exp(H) with H = ½ ln 2 + ⅓ ln 3 + ⅙ ln 6.
        #expect(abs(l1.perplexity - pow(2, 1.0 / 2) * pow(3, 1.0 / 3) * pow(6, 1.0 / 6)) < 1e-9)
        #expect(abs(l1.perplexity - 2.749459) < 1e-5)
        // Level 2 codes 2, 0, 2, 0, 2, 2: counts {2: 4, 0: 2}.
        let l2 = r.perLevel[1]
        #expect(l2.level == 2 && l2.usedCodes == 2 && l2.deadCodes == 2 && l2.distinctPrefixes == 3)
        #expect(l2.utilization == 0.5)
        #expect(abs(l2.perplexity - pow(1.5, 2.0 / 3) * pow(3, 1.0 / 3)) < 1e-9)
        // Relative residual after each level = per-level MSE / total variance (1 / 2 and 0.5 / 2).
        #expect(l1.relativeResidual == 0.5 && l2.relativeResidual == 0.25)
        #expect(r.reconstruction.relativeMse == 0.25 && r.reconstruction.mse == 0.5 && r.reconstruction.totalVariance == 2)
        #expect(r.reconstruction.addedRelativeMse == nil)
    }

    @Test("largest groups: by size, members in item order with titles and final IDs")
    func largestGroups() throws {
        let r = Self.report(ids: Self.suffixIDs, policy: .suffix)
        #expect(r.largestGroups.map(\.rawId) == [[1, 2], [3, 0]])
        #expect(r.largestGroups[0].items.map(\.item) == [0, 2, 4])
        #expect(r.largestGroups[0].items.map(\.title) == ["zero", "two", "four"])
        #expect(r.largestGroups[0].items.map(\.finalId) == [[1, 2, 0], [1, 2, 1], [1, 2, 2]])
        #expect(r.largestGroups[1].items.map(\.title) == ["one", nil])
        let limited = Self.report(ids: Self.suffixIDs, policy: .suffix, groupLimit: 1)
        #expect(limited.largestGroups.count == 1)
    }

    @Test("policy none: final figures equal the raw ones, no suffix level")
    func noneKeepsCollisions() throws {
        let r = Self.report(ids: Self.raw, policy: .none)
        #expect(r.final == .init(distinctIds: 3, collisionRate: 0.5, maxGroup: 3))
        #expect(r.idLength == 2 && r.suffixSize == nil && r.collisionPolicy == "none")
    }

    @Test("a perfectly uniform level has perplexity K and no dead codes")
    func uniformLevel() throws {
        let raw = CodeMatrix(rows: 8, levels: 1, values: [0, 1, 2, 3, 3, 2, 1, 0])
        let manifest = IndexFixture.manifest(items: 8, levels: 1, codebookSize: 4, policy: .none, codeSizes: [4])
        let r = CollisionReport(manifest: manifest, rawCodes: raw, finalIDs: raw) { _ in [:] }
        #expect(abs(r.perLevel[0].perplexity - 4) < 1e-12)
        #expect(r.perLevel[0].deadCodes == 0 && r.perLevel[0].utilization == 1)
        #expect(r.raw.distinctIds == 4 && r.raw.maxGroup == 2 && r.raw.itemsInCollisions == 8)
    }
}
