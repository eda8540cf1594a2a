import Foundation
@testable import SemidIndex
import SemidQuantization
import Testing

/// ``CapacityPlan``'s estimator on cases computed by hand, shape parsing and the recommendation rule.
@Suite("capacity plan")
struct CapacityPlanTests {
    @Test("occupancy: q̂ = Σc(c−1)/(m(m−1)), distinct D(1−e^{−N/D}), shared 1−e^{−(N−1)q}, by hand")
    func estimator() {
        // Cells 2, 1, 1 (m = 4): two ordered pairs share a cell out of 12, q̂ = 1/6, D = 6.
        let e = CapacityPlan.occupancy(counts: [2, 1, 1], capacity: 256, items: 4)
        #expect(abs(e.collisionProbability - 1.0 / 6) < 1e-12)
        #expect(e.resolved)
        #expect(abs(e.distinct - 6 * (1 - exp(-4.0 / 6))) < 1e-12) // 2.9195…
        #expect(abs(CapacityPlan.sharedFraction(collisionProbability: 1.0 / 6, items: 4) - (1 - exp(-0.5))) < 1e-12)
        // No pair collides: q̂ = 0 is floored at 1/capacity (uniform over 16 cells), a lower bound.
        let floor = CapacityPlan.occupancy(counts: [1, 1, 1, 1], capacity: 16, items: 16)
        #expect(floor.collisionProbability == 1.0 / 16 && !floor.resolved)
        #expect(abs(floor.distinct - 16 * (1 - exp(-1.0))) < 1e-12)
        // Never more distinct prefixes than exist.
        #expect(CapacityPlan.occupancy(counts: [1, 1], capacity: 4, items: 1_000_000).distinct <= 4)
        #expect(CapacityPlan.sharedFraction(collisionProbability: 0.3, items: 1) == 0)
    }

    @Test("measure: per-level prefixes, largest group, utilisation and the sample's collision rate, by hand")
    func measure() throws {
        // Rows (0,0), (0,0), (0,1), (1,0) under 2 × 2.
        let codes = CodeMatrix(rows: 4, levels: 2, values: [0, 0, 0, 0, 0, 1, 1, 0])
        let c = CapacityPlan.measure(codes: codes, shape: try .init(parsing: "2x2"), items: 4)
        #expect(c.levels.map(\.sampleDistinctPrefixes) == [2, 3])
        #expect(c.levels.map(\.sampleLargestGroup) == [3, 2])
        #expect(c.levels.map(\.utilisation) == [1, 1])
        // Level 1: cells 3, 1 → q̂ = 6/12. Level 2: cells 2, 1, 1 → 2/12, below the floor 1/4.
        #expect(c.levels.map(\.collisionProbability) == [0.5, 0.25])
        #expect(c.sampleCollisionRate == 0.5)
        #expect(abs(c.estimatedCollisionRate - (1 - exp(-3 * 0.25))) < 1e-12)
        let unused = CapacityPlan.measure(codes: CodeMatrix(rows: 2, levels: 1, values: [3, 3]), shape: try .init(parsing: "1x8"), items: 2)
        #expect(unused.levels[0].utilisation == 1.0 / 8 && unused.sampleCollisionRate == 1)
    }

    @Test("shapes: LxK, K1/K2/…, lists, and errors that repeat the text")
    func shapes() throws {
        #expect(try CapacityPlan.Shape(parsing: "3x256").codebookSizes == [256, 256, 256])
        #expect(try CapacityPlan.Shape(parsing: " 4X16 ").codebookSizes == [16, 16, 16, 16])
        #expect(try CapacityPlan.Shape(parsing: "1024/256/256").codebookSizes == [1024, 256, 256])
        #expect(try CapacityPlan.Shape(parsing: "1024/256/256").description == "1024/256/256")
        #expect(try CapacityPlan.Shape(parsing: "8/8").description == "2x8")
        #expect(try CapacityPlan.Shape.parseList("3x256,4x256").map(\.vocabulary) == [768, 1024])
        for bad in ["3x0", "abc", "3x65537", "0x256", "3x", "x256", "256//256", "", "3x1", "65x2", "2x3x4"] {
            #expect(throws: CapacityPlanError.self, "\(bad)") { try CapacityPlan.Shape(parsing: bad) }
            do { _ = try CapacityPlan.Shape(parsing: bad) } catch {
                #expect("\(error)".contains("--shapes") && "\(error)".contains("'\(bad)'"), "\(error)")
            }
        }
        #expect(throws: CapacityPlanError.self) { try CapacityPlan.Shape.parseList("3x256,") }
    }

    @Test("recommendation: fewest levels, then smallest vocabulary, among shapes under the threshold; else the lowest rate")
    func recommendation() throws {
        func candidate(_ shape: String, _ rate: Double, meets: Bool) throws -> CapacityPlan.Candidate {
            CapacityPlan.Candidate(shape: try .init(parsing: shape), levels: [], sampleCollisionRate: 0, estimatedCollisionRate: rate,
                                   residualMeanSquaredNorm: 0, meetsThreshold: meets)
        }
        let list = [try candidate("4x256", 0.001, meets: true), try candidate("3x1024", 0.005, meets: true),
                    try candidate("3x256", 0.2, meets: false), try candidate("3x512", 0.009, meets: true)]
        #expect(CapacityPlan.recommendation(list) == 3)
        let none = [try candidate("3x256", 0.2, meets: false), try candidate("3x1024", 0.05, meets: false)]
        #expect(CapacityPlan.recommendation(none) == 1)
    }
}
