import Foundation
import Testing
@testable import SemidMath
import CSemidKernels

/// The AMX bfloat16 products against fp32 `sgemm` (skipped on machines without AMX).
@Suite(.enabled(if: BF16Matmul.isAvailable, "needs a CPU with AMX-BF16"))
struct BF16MatmulTests {
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in rng.nextGaussian() }
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)],
          [(45, 37, 70), (32, 32, 32), (1, 17, 3), (64, 96, 512)])
    func productsMatchSgemmToBfloat16Precision(transposes: (Bool, Bool), shape: (Int, Int, Int)) {
        let (ta, tb) = transposes, (m, n, k) = shape
        let a = Self.random(m * k, seed: 1), b = Self.random(k * n, seed: 2)
        let c0 = Self.random(m * n, seed: 3)
        let lda = ta ? m : k, ldb = tb ? k : n
        var expected = c0, got = c0
        var packedA = [UInt16](repeating: 0, count: BF16Matmul.packedCount(m, k: k))
        var packedB = [UInt16](repeating: 0, count: BF16Matmul.packedCount(n, k: k))
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
            BLAS.sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 1.5, a: ap.baseAddress!, lda: lda,
                       b: bp.baseAddress!, ldb: ldb, beta: 0.5, c: &expected, ldc: n)
            BF16Matmul.packA(transposed: ta, m: m, k: k, a: ap.baseAddress!, lda: lda, into: &packedA)
            BF16Matmul.packB(transposed: tb, k: k, n: n, b: bp.baseAddress!, ldb: ldb, into: &packedB)
            BF16Matmul.multiply(m: m, n: n, k: k, packedA: packedA, packedB: packedB, alpha: 1.5, beta: 0.5, c: &got, ldc: n)
        } }
        // Each product term has relative error ≤ 2⁻⁸ from rounding both inputs: the error of a sum
        // of k terms is bounded by 2⁻⁸·Σ|a||b|.
        for i in 0..<m {
            for j in 0..<n {
                var bound: Float = 0
                for t in 0..<k {
                    let av = ta ? a[t * lda + i] : a[i * lda + t], bv = tb ? b[j * ldb + t] : b[t * ldb + j]
                    bound += abs(av * bv)
                }
                let diff = abs(got[i * n + j] - expected[i * n + j])
                #expect(diff <= 1.5 * bound / 128 + 1e-4, "[\(i), \(j)]: \(got[i * n + j]) vs \(expected[i * n + j])")
            }
        }
        // Deterministic.
        var again = c0
        BF16Matmul.multiply(m: m, n: n, k: k, packedA: packedA, packedB: packedB, alpha: 1.5, beta: 0.5, c: &again, ldc: n)
        #expect(again == got)
    }

    @Test(arguments: [(false, false), (true, true)])
    func amxMatchesThePortableReferenceBitForBitInPackingAndClosely(transposes: (Bool, Bool)) {
        let (ta, tb) = transposes, (m, n, k) = (45, 70, 97)
        let a = Self.random(m * k, seed: 8), b = Self.random(k * n, seed: 9)
        let lda = ta ? m : k, ldb = tb ? k : n
        var pa = [UInt16](repeating: 1, count: BF16Matmul.packedCount(m, k: k)), ra = pa
        var pb = [UInt16](repeating: 1, count: BF16Matmul.packedCount(n, k: k)), rb = pb
        var c = [Float](repeating: 0, count: m * n), rc = c
        BF16Matmul.packA(transposed: ta, m: m, k: k, a: a, lda: lda, into: &pa)
        BF16Matmul.packB(transposed: tb, k: k, n: n, b: b, ldb: ldb, into: &pb)
        semid_bf16_pack_a_reference(ta ? 1 : 0, Int32(m), Int32(k), a, Int32(lda), &ra)
        semid_bf16_pack_b_reference(tb ? 1 : 0, Int32(k), Int32(n), b, Int32(ldb), &rb)
        #expect(pa == ra)
        #expect(pb == rb)
        BF16Matmul.multiply(m: m, n: n, k: k, packedA: pa, packedB: pb, c: &c, ldc: n)
        semid_bf16_gemm_packed_reference(Int32(m), Int32(n), Int32(k), ra, rb, 1, 0, &rc, Int32(n))
        for i in c.indices { #expect(abs(c[i] - rc[i]) <= 1e-4 * max(1, abs(rc[i]))) }
    }

    @Test func denseLayerPassesAgreeWithFp32() {
        let layer = DenseLayer(inputs: 70, outputs: 45)
        let rows = 33
        let x = Self.random(rows * 70, seed: 4), w = Self.random(70 * 45, seed: 5).map { $0 * 0.1 }
        let bias = Self.random(45, seed: 6), dY = Self.random(rows * 45, seed: 7)
        var fwd = [UInt16](repeating: 0, count: layer.packedForwardWeightCount)
        var bwd = [UInt16](repeating: 0, count: layer.packedBackwardWeightCount)
        var sa = [UInt16](repeating: 0, count: layer.bf16ScratchCount(rows: rows)), sb = sa
        var y32 = [Float](repeating: 0, count: rows * 45), y16 = y32
        var dW32 = [Float](repeating: 0, count: 70 * 45), dW16 = dW32, db32 = [Float](repeating: 0, count: 45), db16 = db32
        var dX32 = [Float](repeating: 0, count: rows * 70), dX16 = dX32
        w.withUnsafeBufferPointer { wp in
            layer.packWeight(wp.baseAddress!, forward: &fwd, backward: &bwd)
            layer.forward(x, rows: rows, weight: wp.baseAddress!, bias: bias, activation: .relu, output: &y32)
            layer.forwardBF16(x, rows: rows, packedWeight: fwd, bias: bias, activation: .relu, output: &y16, scratch: &sa)
            layer.backward(input: x, rows: rows, weight: wp.baseAddress!, outputGradient: dY, weightGradient: &dW32,
                           biasGradient: &db32, inputGradient: &dX32)
            layer.backwardBF16(input: x, rows: rows, packedWeight: bwd, outputGradient: dY, weightGradient: &dW16,
                               biasGradient: &db16, inputGradient: &dX16, scratchA: &sa, scratchB: &sb)
        }
        func relative(_ a: [Float], _ b: [Float]) -> Float {
            let num = zip(a, b).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            return (num / b.reduce(0) { $0 + $1 * $1 }).squareRoot()
        }
        #expect(relative(y16, y32) < 1e-2)
        #expect(relative(dW16, dW32) < 1e-2)
        #expect(relative(dX16, dX32) < 1e-2)
        #expect(db16 == db32)
    }
}
