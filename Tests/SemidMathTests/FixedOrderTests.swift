import Testing
@testable import SemidMath

@Suite(.serialized) struct FixedOrderTests {
    static func random(_ rows: Int, _ cols: Int, seed: UInt64, scale: Float = 1) -> Matrix {
        var rng = SeededGenerator(seed: seed)
        return Matrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in scale * rng.nextGaussian() })
    }

    /// The definition of the order, written out in scalar Swift: 8 lanes over t mod 8, then the tree.
    static func referenceDot(_ a: [Float], _ b: [Float]) -> Float {
        var lanes = [Float](repeating: 0, count: 8)
        for t in 0..<a.count { lanes[t % 8] = lanes[t % 8] + a[t] * b[t] }
        return ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]))
    }

    @Test(arguments: [1, 7, 8, 9, 31, 384, 771])
    func productMatchesTheDefinedOrderBitForBit(k: Int) {
        let a = Self.random(11, k, seed: UInt64(k)), b = Self.random(13, k, seed: UInt64(k) + 100)
        let c = FixedOrder.productTransposed(a, b)
        for i in 0..<a.rows {
            for j in 0..<b.rows {
                let expected = Self.referenceDot(a.row(i), b.row(j))
                #expect(c[i, j].bitPattern == expected.bitPattern, "element (\(i), \(j)) of a k = \(k) product")
            }
        }
    }

    @Test func bothInstructionPathsGiveTheSameBits() {
        let a = Self.random(97, 389, seed: 1), b = Self.random(70, 389, seed: 2)
        let fast = FixedOrder.productTransposed(a, b)
        let gram = FixedOrder.columnGram(a)
        let distances = (0..<a.rows).map { i in
            a.values.withUnsafeBufferPointer { p in
                b.values.withUnsafeBufferPointer { q in
                    FixedOrder.exactSquaredDistance(p.baseAddress! + i * 389, q.baseAddress! + (i % b.rows) * 389, count: 389)
                }
            }
        }
        let (baseline, baselineGram, baselineDistances) = FixedOrder.withBaselinePath {
            let d = (0..<a.rows).map { i in
                a.values.withUnsafeBufferPointer { p in
                    b.values.withUnsafeBufferPointer { q in
                        FixedOrder.exactSquaredDistance(p.baseAddress! + i * 389, q.baseAddress! + (i % b.rows) * 389, count: 389)
                    }
                }
            }
            return (FixedOrder.productTransposed(a, b), FixedOrder.columnGram(a), d)
        }
        #expect(fast.values.map(\.bitPattern) == baseline.values.map(\.bitPattern))
        #expect(gram.values.map(\.bitPattern) == baselineGram.values.map(\.bitPattern))
        #expect(distances.map(\.bitPattern) == baselineDistances.map(\.bitPattern))
    }

    @Test func columnGramIsSymmetricAndAccurate() {
        let a = Self.random(300, 17, seed: 5)
        let g = FixedOrder.columnGram(a)
        for p in 0..<17 {
            for q in 0..<17 {
                var exact = 0.0
                for i in 0..<300 { exact += Double(a[i, p]) * Double(a[i, q]) }
                #expect(g[p, q] == g[q, p])
                #expect(abs(Double(g[p, q]) - exact) <= 1e-4 * 300)
            }
        }
    }

    @Test func exactDistanceByHand() {
        let x: [Float] = [1, 2, 3, 4, 5], y: [Float] = [0, 2, 5, 4, 1]
        let d = FixedOrder.exactSquaredDistance(x, y, count: 5)
        #expect(d == 1 + 0 + 4 + 0 + 16)
        #expect(FixedOrder.dot(x, y, count: 5) == 0 + 4 + 15 + 16 + 5)
    }

    @Test func resultsDoNotDependOnTheBLASThreadCount() {
        // The fixed-order kernels never call BLAS, and their parallel split is over rows only.
        let a = Self.random(200, 64, seed: 9), b = Self.random(50, 64, seed: 10)
        let one = BLASRuntime.withThreadCount(1) { FixedOrder.productTransposed(a, b) }
        let two = BLASRuntime.withThreadCount(2) { FixedOrder.productTransposed(a, b) }
        #expect(one == two)
    }
}
