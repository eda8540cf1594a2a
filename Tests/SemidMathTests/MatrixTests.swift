import Testing
@testable import SemidMath

@Suite("Matrix")
struct MatrixTests {
    @Test func totalVarianceByHand() {
        // Corners of a 2×2 square: mean (1, 1), every row at squared distance 2 from it.
        let square = Matrix(rows: 4, cols: 2, values: [0, 0, 2, 0, 0, 2, 2, 2])
        #expect(abs(square.totalVariance - 2) < 1e-12)
        // Shifting every row leaves the variance alone; scaling by 3 multiplies it by 9.
        let shifted = Matrix(rows: 4, cols: 2, values: square.values.enumerated().map { $0.element + ($0.offset % 2 == 0 ? 100 : -7) })
        #expect(abs(shifted.totalVariance - 2) < 1e-9)
        let scaled = Matrix(rows: 4, cols: 2, values: square.values.map { 3 * $0 })
        #expect(abs(scaled.totalVariance - 18) < 1e-9)
        #expect(Matrix(rows: 3, cols: 2, values: [5, 5, 5, 5, 5, 5]).totalVariance == 0)
        #expect(Matrix(rows: 0, cols: 4, values: []).totalVariance == 0)
    }

    @Test func firstNonFiniteFindsTheCell() {
        var m = Matrix(rows: 3, cols: 20, values: [Float](repeating: 1, count: 60))
        #expect(m.firstNonFinite() == nil)
        m.values[2 * 20 + 17] = .nan
        m.values[2 * 20 + 19] = .infinity
        #expect(m.firstNonFinite()?.row == 2 && m.firstNonFinite()?.column == 17)
        #expect(Matrix(rows: 0, cols: 3, values: []).firstNonFinite() == nil)
    }
}
