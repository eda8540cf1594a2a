import Testing
@testable import SemidMath
@testable import SemidQuantization

@Suite struct SinkhornTests {
    @Test func spreadsPointsThatAllPreferOneCodeEvenly() {
        // Four points all nearest to code 0, four codes: a balanced plan gives each code one point,
        // and each point goes to the code that costs it least among the balanced options.
        let costs = Matrix(rows: 4, cols: 4, values: [
            0, 1, 5, 9,
            0, 5, 1, 9,
            0, 9, 5, 1,
            0.5, 9, 9, 9,
        ])
        let assignment = Sinkhorn.assign(costs: costs, configuration: .init(epsilon: 0.05, iterations: 200))
        #expect(assignment == [1, 2, 3, 0])
    }

    @Test func keepsTheNearestCodeWhenPreferencesAlreadyBalance() {
        var rng = SeededGenerator(seed: 1)
        // Each row's cheapest code is distinct: the assignment is the row-wise argmin.
        let n = 6
        var values = [Float](repeating: 0, count: n * n)
        let perm = [3, 0, 5, 1, 4, 2]
        for i in 0..<n { for j in 0..<n { values[i * n + j] = j == perm[i] ? 0 : 1 + rng.nextUnitFloat() } }
        let assignment = Sinkhorn.assign(costs: Matrix(rows: n, cols: n, values: values), configuration: .init())
        #expect(assignment == perm)
    }

    @Test func largeBatchesAreNearlyUniform() {
        var rng = SeededGenerator(seed: 4)
        let n = 400, k = 8
        // Costs biased towards code 0 for everyone.
        let values = (0..<(n * k)).map { i in Float(i % k == 0 ? 0 : 1) + 0.5 * rng.nextUnitFloat() }
        let assignment = Sinkhorn.assign(costs: Matrix(rows: n, cols: k, values: values), configuration: .init(epsilon: 0.05, iterations: 100))
        var counts = [Int](repeating: 0, count: k)
        for a in assignment { counts[a] += 1 }
        #expect(counts.max()! - counts.min()! <= n / k / 2, "counts \(counts)")
    }

    @Test(arguments: [(0.0, 50), (-1.0, 50), (0.01, 0)])
    func invalidSettingsAreRejected(epsilon: Double, iterations: Int) {
        #expect(throws: QuantizationError.self) {
            try Sinkhorn.Configuration(epsilon: epsilon, iterations: iterations).validate()
        }
    }
}
