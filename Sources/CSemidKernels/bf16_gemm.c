// bfloat16 GEMM on Intel AMX (see include/semid_kernels.h). Every function that touches AMX or
// AVX-512 carries a target attribute, so the file builds with default flags and nothing runs
// unless semid_amx_available() said yes.
#include "semid_kernels.h"

#include <string.h>

// ---- Portable reference (any CPU): same packed layouts, same rounding, scalar arithmetic. ----

static inline uint16_t semid_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu)) return (uint16_t)((u >> 16) | 0x40u);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
    return (uint16_t)(u >> 16);
}

static inline float semid_from_bf16(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

size_t semid_bf16_packed_count(int m_or_n, int k) {
    size_t tiles = (size_t)((m_or_n + 31) / 32 * 2) * (size_t)((k + 31) / 32);
    return tiles * 512;
}

void semid_bf16_pack_a_reference(int transposed, int m, int k, const float *a, int lda, uint16_t *out) {
    int kt_count = (k + 31) / 32;
    memset(out, 0, semid_bf16_packed_count(m, k) * sizeof(uint16_t));
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < k; j++) {
            float v = transposed ? a[(size_t)j * lda + i] : a[(size_t)i * lda + j];
            out[((size_t)(i >> 4) * kt_count + (j >> 5)) * 512 + (i & 15) * 32 + (j & 31)] = semid_to_bf16(v);
        }
    }
}

void semid_bf16_pack_b_reference(int transposed, int k, int n, const float *b, int ldb, uint16_t *out) {
    int kt_count = (k + 31) / 32;
    memset(out, 0, semid_bf16_packed_count(n, k) * sizeof(uint16_t));
    for (int j = 0; j < k; j++) {
        for (int c = 0; c < n; c++) {
            float v = transposed ? b[(size_t)c * ldb + j] : b[(size_t)j * ldb + c];
            out[((size_t)(c >> 4) * kt_count + (j >> 5)) * 512 + ((j & 31) >> 1) * 32 + (c & 15) * 2 + (j & 1)] = semid_to_bf16(v);
        }
    }
}

void semid_bf16_gemm_packed_reference(int m, int n, int k, const uint16_t *packed_a, const uint16_t *packed_b,
                                            float alpha, float beta, float *c, int ldc) {
    int kt_count = (k + 31) / 32;
    for (int i = 0; i < m; i++) {
        for (int col = 0; col < n; col++) {
            float sum = 0;
            for (int j = 0; j < kt_count * 32; j++) {
                float x = semid_from_bf16(packed_a[((size_t)(i >> 4) * kt_count + (j >> 5)) * 512 + (i & 15) * 32 + (j & 31)]);
                float y = semid_from_bf16(packed_b[((size_t)(col >> 4) * kt_count + (j >> 5)) * 512 + ((j & 31) >> 1) * 32 + (col & 15) * 2 + (j & 1)]);
                sum += x * y;
            }
            float *dst = c + (size_t)i * ldc + col;
            *dst = beta == 0 ? alpha * sum : alpha * sum + beta * *dst;
        }
    }
}

#if defined(__x86_64__) && defined(__linux__) && defined(__clang__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SEMID_TARGET __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512bf16")))
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

typedef struct {
    uint8_t palette, start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} __attribute__((packed)) semid_tile_config;

static int semid_amx_state = -1;

int semid_amx_available(void) {
    int state = __atomic_load_n(&semid_amx_state, __ATOMIC_ACQUIRE);
    if (state >= 0) return state;
    unsigned a, b, c, d;
    int ok = 0;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        int amx_bf16 = (d >> 22) & 1, amx_tile = (d >> 24) & 1;
        int avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1, avx512f = (b >> 16) & 1;
        unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
        int avx512bf16 = __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1) ? (a1 >> 5) & 1 : 0;
        if (amx_bf16 && amx_tile && avx512f && avx512bw && avx512vl && avx512bf16) {
            ok = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
        }
    }
    __atomic_store_n(&semid_amx_state, ok, __ATOMIC_RELEASE);
    return ok;
}

static inline __mmask16 semid_mask(int count) {
    return count >= 16 ? (__mmask16)0xffff : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1);
}

// Interleaves the 16-bit values of the low and high halves: a0 b0 a1 b1 … (a = low 16, b = high 16).
#define SEMID_INTERLEAVE _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, \
                                           23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0)
// Dword offsets of 16 consecutive tile rows (64 bytes = 16 dwords apart).
#define SEMID_ROW_OFFSETS _mm512_set_epi32(240, 224, 208, 192, 176, 160, 144, 128, 112, 96, 80, 64, 48, 32, 16, 0)

// Packed A: tiles [mt][kt], each 16 rows x 32 bf16 (1 KiB), mt over ceil(m/32)*2, kt over ceil(k/32).
SEMID_TARGET static void semid_bf16_pack_a_amx(int transposed, int m, int k, const float *a, int lda, uint16_t *out) {
    int kt_count = (k + 31) / 32;
    // Every value of the tiles is written below unless there is padding to clear.
    if (m % 32 != 0 || k % 32 != 0) memset(out, 0, semid_bf16_packed_count(m, k) * sizeof(uint16_t));
    if (!transposed) {
        for (int i = 0; i < m; i++) {
            const float *row = a + (size_t)i * lda;
            uint16_t *dst = out + (size_t)(i >> 4) * kt_count * 512 + (i & 15) * 32;
            for (int kt = 0; kt < kt_count; kt++) {
                int k0 = kt * 32, left = k - k0;
                __m512 lo = _mm512_maskz_loadu_ps(semid_mask(left), row + k0);
                __m512 hi = _mm512_maskz_loadu_ps(semid_mask(left - 16), row + k0 + 16);
                _mm512_storeu_si512(dst + (size_t)kt * 512, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
            }
        }
    } else {
        // op(A)[i][j] = a[j * lda + i]: rows j, j+1 of `a` give the (j, j+1) pairs of 16 consecutive i,
        // which go down 16 tile rows.
        const __m512i interleave = SEMID_INTERLEAVE, rows = SEMID_ROW_OFFSETS;
        for (int j = 0; j < k; j += 2) {
            const float *r0 = a + (size_t)j * lda, *r1 = j + 1 < k ? r0 + lda : NULL;
            for (int i0 = 0; i0 < m; i0 += 16) {
                __mmask16 mask = semid_mask(m - i0);
                __m512 x0 = _mm512_maskz_loadu_ps(mask, r0 + i0);
                __m512 x1 = r1 ? _mm512_maskz_loadu_ps(mask, r1 + i0) : _mm512_setzero_ps();
                __m512i v = _mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(x1, x0));
                uint16_t *tile = out + ((size_t)(i0 >> 4) * kt_count + (j >> 5)) * 512 + (j & 31);
                _mm512_mask_i32scatter_epi32(tile, mask, rows, v, 4);
            }
        }
    }
}

// Packed B (VNNI): tiles [nt][kt], each 16 rows of pairs (k, k+1) x 16 columns (1 KiB).
SEMID_TARGET static void semid_bf16_pack_b_amx(int transposed, int k, int n, const float *b, int ldb, uint16_t *out) {
    int kt_count = (k + 31) / 32;
    if (n % 32 != 0 || k % 32 != 0) memset(out, 0, semid_bf16_packed_count(n, k) * sizeof(uint16_t));
    if (!transposed) {
        const __m512i interleave = SEMID_INTERLEAVE;
        for (int j = 0; j < k; j += 2) {
            const float *r0 = b + (size_t)j * ldb, *r1 = j + 1 < k ? r0 + ldb : NULL;
            for (int c0 = 0; c0 < n; c0 += 16) {
                __mmask16 mask = semid_mask(n - c0);
                __m512 x0 = _mm512_maskz_loadu_ps(mask, r0 + c0);
                __m512 x1 = r1 ? _mm512_maskz_loadu_ps(mask, r1 + c0) : _mm512_setzero_ps();
                __m512i v = _mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(x1, x0));
                _mm512_storeu_si512(out + ((size_t)(c0 >> 4) * kt_count + (j >> 5)) * 512 + ((j & 31) >> 1) * 32, v);
            }
        }
    } else {
        // op(B)[j][c] = b[c * ldb + j]: the pairs (j, j+1) of row c are adjacent; they go down column c.
        const __m512i rows = SEMID_ROW_OFFSETS;
        for (int c = 0; c < n; c++) {
            const float *row = b + (size_t)c * ldb;
            for (int kt = 0; kt < kt_count; kt++) {
                int j0 = kt * 32, left = k - j0;
                __m512 lo = _mm512_maskz_loadu_ps(semid_mask(left), row + j0);
                __m512 hi = _mm512_maskz_loadu_ps(semid_mask(left - 16), row + j0 + 16);
                __m512i v = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
                uint16_t *tile = out + ((size_t)(c >> 4) * kt_count + kt) * 512 + (c & 15) * 2;
                _mm512_i32scatter_epi32(tile, rows, v, 4);
            }
        }
    }
}

SEMID_TARGET static void semid_bf16_gemm_packed_amx(int m, int n, int k, const uint16_t *packed_a, const uint16_t *packed_b,
                                         float alpha, float beta, float *c, int ldc) {
    int kt_count = (k + 31) / 32;
    semid_tile_config config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    for (int t = 0; t < 8; t++) { config.rows[t] = 16; config.colsb[t] = 64; }
    _tile_loadconfig(&config);
    float block[32 * 32] __attribute__((aligned(64)));
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    size_t stride = (size_t)kt_count * 512;
    for (int mb = 0; mb < (m + 31) / 32; mb++) {
        const uint16_t *a0 = packed_a + (size_t)(2 * mb) * stride, *a1 = a0 + stride;
        for (int nb = 0; nb < (n + 31) / 32; nb++) {
            const uint16_t *b0 = packed_b + (size_t)(2 * nb) * stride, *b1 = b0 + stride;
            _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
            for (int kt = 0; kt < kt_count; kt++) {
                _tile_loadd(4, a0 + (size_t)kt * 512, 64);
                _tile_loadd(5, a1 + (size_t)kt * 512, 64);
                _tile_loadd(6, b0 + (size_t)kt * 512, 64);
                _tile_loadd(7, b1 + (size_t)kt * 512, 64);
                _tile_dpbf16ps(0, 4, 6);
                _tile_dpbf16ps(1, 4, 7);
                _tile_dpbf16ps(2, 5, 6);
                _tile_dpbf16ps(3, 5, 7);
            }
            _tile_stored(0, block, 128);
            _tile_stored(1, block + 16, 128);
            _tile_stored(2, block + 512, 128);
            _tile_stored(3, block + 528, 128);
            int row0 = mb * 32, col0 = nb * 32;
            int rows = m - row0 < 32 ? m - row0 : 32, cols = n - col0 < 32 ? n - col0 : 32;
            __mmask16 lo = semid_mask(cols), hi = semid_mask(cols - 16);
            for (int i = 0; i < rows; i++) {
                float *dst = c + (size_t)(row0 + i) * ldc + col0;
                __m512 x0 = _mm512_mul_ps(va, _mm512_load_ps(block + i * 32));
                __m512 x1 = _mm512_mul_ps(va, _mm512_load_ps(block + i * 32 + 16));
                if (beta != 0) {
                    x0 = _mm512_add_ps(x0, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(lo, dst)));
                    x1 = _mm512_add_ps(x1, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(hi, dst + 16)));
                }
                _mm512_mask_storeu_ps(dst, lo, x0);
                _mm512_mask_storeu_ps(dst + 16, hi, x1);
            }
        }
    }
    _tile_release();
}

// Public entry points: AMX when this process may use it, the portable reference otherwise.
void semid_bf16_pack_a(int transposed, int m, int k, const float *a, int lda, uint16_t *out) {
    if (semid_amx_available()) semid_bf16_pack_a_amx(transposed, m, k, a, lda, out);
    else semid_bf16_pack_a_reference(transposed, m, k, a, lda, out);
}

void semid_bf16_pack_b(int transposed, int k, int n, const float *b, int ldb, uint16_t *out) {
    if (semid_amx_available()) semid_bf16_pack_b_amx(transposed, k, n, b, ldb, out);
    else semid_bf16_pack_b_reference(transposed, k, n, b, ldb, out);
}

void semid_bf16_gemm_packed(int m, int n, int k, const uint16_t *packed_a, const uint16_t *packed_b,
                            float alpha, float beta, float *c, int ldc) {
    if (semid_amx_available()) semid_bf16_gemm_packed_amx(m, n, k, packed_a, packed_b, alpha, beta, c, ldc);
    else semid_bf16_gemm_packed_reference(m, n, k, packed_a, packed_b, alpha, beta, c, ldc);
}

#else  // not x86-64 Linux with clang: the portable reference only

int semid_amx_available(void) { return 0; }
void semid_bf16_pack_a(int transposed, int m, int k, const float *a, int lda, uint16_t *out) {
    semid_bf16_pack_a_reference(transposed, m, k, a, lda, out);
}
void semid_bf16_pack_b(int transposed, int k, int n, const float *b, int ldb, uint16_t *out) {
    semid_bf16_pack_b_reference(transposed, k, n, b, ldb, out);
}
void semid_bf16_gemm_packed(int m, int n, int k, const uint16_t *packed_a, const uint16_t *packed_b,
                            float alpha, float beta, float *c, int ldc) {
    semid_bf16_gemm_packed_reference(m, n, k, packed_a, packed_b, alpha, beta, c, ldc);
}

#endif
