import Foundation
import Testing
@testable import SemidMath
import SemidTestSupport
import CSemidKernels

/// The AMX bfloat16 products against fp32 `sgemm` (skipped on machines without AMX).
@Suite(.enabled(if: BF16Matmul.isAvailable, "needs a CPU with AMX-BF16"))
struct BF16MatmulTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)],
          [(45, 37, 70), (32, 32, 32), (1, 17, 3), (64, 96, 512)])
    func productsMatchSgemmToBfloat16Precision(transposes: (Bool, Bool), shape: (Int, Int, Int)) {
        let (ta, tb) = transposes, (m, n, k) = shape
        let a = SyntheticData.gaussianValues(m * k, seed: 1), b = SyntheticData.gaussianValues(k * n, seed: 2)
        let c0 = SyntheticData.gaussianValues(m * n, seed: 3)
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
        let a = SyntheticData.gaussianValues(m * k, seed: 8), b = SyntheticData.gaussianValues(k * n, seed: 9)
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
}
