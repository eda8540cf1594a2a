#ifndef SEMID_KERNELS_H
#define SEMID_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// bfloat16 matrix multiplication on Intel AMX tiles (fp32 accumulation), for training.
///
/// Operands are packed once into tile layout (rounded to bfloat16, zero-padded): `A` as tiles of
/// 16 rows x 32 values, `B` in AMX's pair-interleaved ("VNNI") layout. Then
/// `C = alpha * A·B + beta * C` runs on 2x2 blocks of 16x16 fp32 accumulator tiles. Packing reads
/// either orientation of a row-major fp32 matrix, so `Aᵀ·B`, `A·Bᵀ` and `A·B` need no copies.
/// Where AMX is not available every function falls back to a slow portable reference with the same
/// packed layouts and rounding (so nothing ever executes an illegal instruction).

/// 1 when the CPU has AMX-BF16 (and AVX512-BF16) and the kernel granted this process the AMX tile
/// state; 0 otherwise. The first call asks the kernel (Linux `arch_prctl`); later calls are free.
int semid_amx_available(void);

/// Values (uint16) of a packed `A` operand of logical shape [m, k] (or of a packed `B` operand of
/// logical shape [k, n], passing n for m).
size_t semid_bf16_packed_count(int m_or_n, int k);

/// Packs op(A) = A (row-major [m, k], row stride lda) or, when `transposed`, Aᵀ of a row-major
/// [k, m] matrix (row stride lda).
void semid_bf16_pack_a(int transposed, int m, int k, const float *a, int lda, uint16_t *out);

/// Packs op(B) = B (row-major [k, n], row stride ldb) or, when `transposed`, Bᵀ of a row-major
/// [n, k] matrix (row stride ldb).
void semid_bf16_pack_b(int transposed, int k, int n, const float *b, int ldb, uint16_t *out);

/// C[m, n] (row stride ldc) = alpha * A·B + beta * C from packed operands. beta == 0 ignores C's
/// previous content.
void semid_bf16_gemm_packed(int m, int n, int k, const uint16_t *packed_a, const uint16_t *packed_b,
                            float alpha, float beta, float *c, int ldc);

/// The portable reference implementations (used when AMX is unavailable; exposed for tests).
void semid_bf16_pack_a_reference(int transposed, int m, int k, const float *a, int lda, uint16_t *out);
void semid_bf16_pack_b_reference(int transposed, int k, int n, const float *b, int ldb, uint16_t *out);
void semid_bf16_gemm_packed_reference(int m, int n, int k, const uint16_t *packed_a, const uint16_t *packed_b,
                                      float alpha, float beta, float *c, int ldc);

#endif
