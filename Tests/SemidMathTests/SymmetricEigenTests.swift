import Testing
@testable import SemidMath

@Suite struct SymmetricEigenTests {
    @Test func twoByTwoByHand() {
        // [[2, 1], [1, 2]]: eigenvalues 3 and 1, eigenvectors (1, 1)/√2 and (1, −1)/√2.
        let e = SymmetricEigen(Matrix(rows: 2, cols: 2, values: [2, 1, 1, 2]))
        #expect(abs(e.exactValues[0] - 3) < 1e-14)
        #expect(abs(e.exactValues[1] - 1) < 1e-14)
        let s = 0.5.squareRoot()
        #expect(abs(e.exactVectors[0] - s) < 1e-14 && abs(e.exactVectors[1] - s) < 1e-14)
        #expect(abs(abs(e.exactVectors[2]) - s) < 1e-14 && abs(e.exactVectors[2] + e.exactVectors[3]) < 1e-14)
    }

    @Test func randomMatrixSatisfiesTheEigenEquation() {
        var rng = SeededGenerator(seed: 8)
        let n = 30
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in i..<n { let v = Double(rng.nextGaussian()); a[i * n + j] = v; a[j * n + i] = v } }
        let e = SymmetricEigen(symmetric: a, size: n)
        for r in 0..<n {
            let v = Array(e.exactVectors[(r * n)..<((r + 1) * n)])
            var norm = 0.0
            for i in 0..<n {
                var av = 0.0
                for j in 0..<n { av += a[i * n + j] * v[j] }
                #expect(abs(av - e.exactValues[r] * v[i]) < 1e-10)
                norm += v[i] * v[i]
            }
            #expect(abs(norm - 1) < 1e-12)
            if r > 0 { #expect(e.exactValues[r] <= e.exactValues[r - 1]) }
        }
    }

    @Test func subspaceIterationFindsTheLeadingEigenpairs() {
        // A = Q·diag(λ)·Qᵀ with a known spectrum; the top 5 must come out.
        var rng = SeededGenerator(seed: 3)
        let n = 120
        let q = SubspaceIteration.orthonormalRows(Matrix(rows: n, cols: n, values: (0..<(n * n)).map { _ in rng.nextGaussian() }))
        let lambda = (0..<n).map { Float(100) / Float($0 + 1) }
        var a = Matrix(rows: n, cols: n)
        for i in 0..<n { for j in 0..<n {
            var s = 0.0
            for k in 0..<n { s += Double(q[k, i]) * Double(lambda[k]) * Double(q[k, j]) }
            a[i, j] = Float(s)
        } }
        var start = SeededGenerator(seed: 1)
        let top = SubspaceIteration.topEigenpairs(size: n, count: 5, oversampling: 10, iterations: 6, generator: &start) {
            FixedOrder.productTransposed($0, a)
        }
        for r in 0..<5 {
            #expect(abs(top.values[r] - lambda[r]) < 1e-3 * lambda[r])
            var cosine = 0.0
            for x in 0..<n { cosine += Double(top.vectors[r, x]) * Double(q[r, x]) }
            #expect(abs(abs(cosine) - 1) < 1e-3)
        }
    }
}
