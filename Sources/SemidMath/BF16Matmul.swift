import CSemidKernels

/// bfloat16 matrix multiplication on Intel AMX tiles with fp32 accumulation — the fast path for
/// training (an RQ-VAE step runs ~3× faster than fp32 `sgemm` on the same shapes).
///
/// Operands are packed first (rounded to bfloat16, zero-padded to tiles) so one packed weight can
/// serve several products; ``multiply(m:n:k:packedA:packedB:alpha:beta:c:ldc:)`` then computes
/// `C = α·A·B + β·C`. Packing reads either orientation of a row-major fp32 matrix. Results match
/// fp32 products to bfloat16 input precision (relative error ~2⁻⁹ per input), are deterministic, and
/// differ from `sgemm` in the last bits, so inference (encoding, evaluations) stays on fp32 BLAS.
public enum BF16Matmul {
    /// Whether the CPU has AMX-BF16 and the OS granted this process the AMX tile state.
    public static var isAvailable: Bool { semid_amx_available() != 0 }

    /// UInt16 values of a packed `A` of logical shape `[m, k]` (or a packed `B` of shape `[k, n]`, passing `n` for `m`).
    @inlinable
    public static func packedCount(_ mOrN: Int, k: Int) -> Int { Int(semid_bf16_packed_count(Int32(mOrN), Int32(k))) }

    /// Packs `op(A)`: `A` row-major `[m, k]`, or with `transposed` the transpose of a row-major `[k, m]` matrix.
    @inlinable
    public static func packA(transposed: Bool, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                             into out: UnsafeMutablePointer<UInt16>) {
        semid_bf16_pack_a(transposed ? 1 : 0, Int32(m), Int32(k), a, Int32(lda), out)
    }

    /// Packs `op(B)`: `B` row-major `[k, n]`, or with `transposed` the transpose of a row-major `[n, k]` matrix.
    @inlinable
    public static func packB(transposed: Bool, k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int,
                             into out: UnsafeMutablePointer<UInt16>) {
        semid_bf16_pack_b(transposed ? 1 : 0, Int32(k), Int32(n), b, Int32(ldb), out)
    }

    /// `C[m, n] = α·A·B + β·C` from packed operands (`β = 0` ignores C's content).
    @inlinable
    public static func multiply(m: Int, n: Int, k: Int, packedA: UnsafePointer<UInt16>, packedB: UnsafePointer<UInt16>,
                                alpha: Float = 1, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        semid_bf16_gemm_packed(Int32(m), Int32(n), Int32(k), packedA, packedB, alpha, beta, c, Int32(ldc))
    }
}
