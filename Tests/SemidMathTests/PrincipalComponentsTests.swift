import Testing
@testable import SemidMath

@Suite struct PrincipalComponentsTests {
    @Test func recoversAxisAlignedVariances() {
        // Data spread 3× along y, 1× along x, none along z: first component is ±y.
        var rng = SeededGenerator(seed: 1)
        var values: [Float] = []
        for _ in 0..<4000 {
            values += [rng.nextGaussian(), 3 * rng.nextGaussian() + 5, 2]
        }
        var start = SeededGenerator(seed: 2)
        let pca = PrincipalComponents(fitting: Matrix(rows: 4000, cols: 3, values: values), components: 3, generator: &start)
        #expect(abs(abs(pca.basis[0, 1]) - 1) < 1e-3)
        #expect(abs(abs(pca.basis[1, 0]) - 1) < 1e-3)
        #expect(abs(pca.variances[0] - 9) < 0.5)
        #expect(abs(pca.variances[1] - 1) < 0.1)
        #expect(pca.variances[2] < 1e-4)
        #expect(abs(pca.mean[1] - 5) < 0.2)
        let p = pca.project(Matrix(rows: 1, cols: 3, values: [0, 8, 2]), components: 1)
        #expect(abs(abs(p[0, 0]) - abs(8 - pca.mean[1])) < 1e-2)
    }
}
