// Fixed-order dense arithmetic (see include/semid_fixed_order.h): the same bits on every x86-64 CPU.
//
// The kernels are written once, with GCC/Clang vector extensions, as always-inline bodies; two
// wrappers instantiate them, one compiled for AVX2 and one for the baseline target. Vector types
// of 8 floats (4 doubles) are split into two SSE registers on the baseline path, which performs the
// same IEEE-754 operations lane by lane, so both paths give identical results.
#include "semid_fixed_order.h"

#include <stddef.h>
#include <string.h>

// Never fuse a*b+c into an FMA: it would change the rounding, and not every CPU has FMA.
#pragma clang fp contract(off)
#pragma STDC FP_CONTRACT OFF
// The vector helpers are always inlined, so their AVX-sized arguments never cross an ABI boundary.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float semid_v8f __attribute__((vector_size(32)));
typedef float semid_v4f __attribute__((vector_size(16)));
typedef double semid_v4d __attribute__((vector_size(32)));
typedef int semid_v8i __attribute__((vector_size(32)));

#define SEMID_INLINE static inline __attribute__((always_inline))

SEMID_INLINE semid_v8f semid_load8(const float *p) {
    semid_v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

/// The first `count` (1…7) values at p, the rest +0.
SEMID_INLINE semid_v8f semid_load8_partial(const float *p, int count) {
    float t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(t, p, (size_t)count * sizeof(float));
    return semid_load8(t);
}

SEMID_INLINE semid_v4d semid_load4_as_double(const float *p) {
    semid_v4f v;
    memcpy(&v, p, sizeof v);
    return __builtin_convertvector(v, semid_v4d);
}

SEMID_INLINE float semid_reduce8(semid_v8f s) {
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

SEMID_INLINE float semid_dot_body(const float *a, const float *b, int k) {
    semid_v8f s = {0, 0, 0, 0, 0, 0, 0, 0};
    int t = 0;
    for (; t + 8 <= k; t += 8) s += semid_load8(a + t) * semid_load8(b + t);
    if (t < k) s += semid_load8_partial(a + t, k - t) * semid_load8_partial(b + t, k - t);
    return semid_reduce8(s);
}

// One row of A against four rows of B.
SEMID_INLINE void semid_kernel_1x4(int k, const float *a, const float *b, int ldb, float *c) {
    const float *b0 = b, *b1 = b + ldb, *b2 = b + 2 * (size_t)ldb, *b3 = b + 3 * (size_t)ldb;
    semid_v8f s0 = {0, 0, 0, 0, 0, 0, 0, 0}, s1 = s0, s2 = s0, s3 = s0;
    int t = 0;
    for (; t + 8 <= k; t += 8) {
        semid_v8f x = semid_load8(a + t);
        s0 += x * semid_load8(b0 + t);
        s1 += x * semid_load8(b1 + t);
        s2 += x * semid_load8(b2 + t);
        s3 += x * semid_load8(b3 + t);
    }
    if (t < k) {
        int r = k - t;
        semid_v8f x = semid_load8_partial(a + t, r);
        s0 += x * semid_load8_partial(b0 + t, r);
        s1 += x * semid_load8_partial(b1 + t, r);
        s2 += x * semid_load8_partial(b2 + t, r);
        s3 += x * semid_load8_partial(b3 + t, r);
    }
    c[0] = semid_reduce8(s0);
    c[1] = semid_reduce8(s1);
    c[2] = semid_reduce8(s2);
    c[3] = semid_reduce8(s3);
}

// Three rows of A against four rows of B: twelve accumulators.
SEMID_INLINE void semid_kernel_3x4(int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
    const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * (size_t)lda;
    const float *b0 = b, *b1 = b + ldb, *b2 = b + 2 * (size_t)ldb, *b3 = b + 3 * (size_t)ldb;
    semid_v8f z = {0, 0, 0, 0, 0, 0, 0, 0};
    semid_v8f s00 = z, s01 = z, s02 = z, s03 = z;
    semid_v8f s10 = z, s11 = z, s12 = z, s13 = z;
    semid_v8f s20 = z, s21 = z, s22 = z, s23 = z;
    int t = 0;
    for (; t + 8 <= k; t += 8) {
        semid_v8f x0 = semid_load8(a0 + t), x1 = semid_load8(a1 + t), x2 = semid_load8(a2 + t);
        semid_v8f y = semid_load8(b0 + t);
        s00 += x0 * y; s10 += x1 * y; s20 += x2 * y;
        y = semid_load8(b1 + t);
        s01 += x0 * y; s11 += x1 * y; s21 += x2 * y;
        y = semid_load8(b2 + t);
        s02 += x0 * y; s12 += x1 * y; s22 += x2 * y;
        y = semid_load8(b3 + t);
        s03 += x0 * y; s13 += x1 * y; s23 += x2 * y;
    }
    if (t < k) {
        int r = k - t;
        semid_v8f x0 = semid_load8_partial(a0 + t, r), x1 = semid_load8_partial(a1 + t, r);
        semid_v8f x2 = semid_load8_partial(a2 + t, r);
        semid_v8f y = semid_load8_partial(b0 + t, r);
        s00 += x0 * y; s10 += x1 * y; s20 += x2 * y;
        y = semid_load8_partial(b1 + t, r);
        s01 += x0 * y; s11 += x1 * y; s21 += x2 * y;
        y = semid_load8_partial(b2 + t, r);
        s02 += x0 * y; s12 += x1 * y; s22 += x2 * y;
        y = semid_load8_partial(b3 + t, r);
        s03 += x0 * y; s13 += x1 * y; s23 += x2 * y;
    }
    float *c0 = c, *c1 = c + ldc, *c2 = c + 2 * (size_t)ldc;
    c0[0] = semid_reduce8(s00); c0[1] = semid_reduce8(s01); c0[2] = semid_reduce8(s02); c0[3] = semid_reduce8(s03);
    c1[0] = semid_reduce8(s10); c1[1] = semid_reduce8(s11); c1[2] = semid_reduce8(s12); c1[3] = semid_reduce8(s13);
    c2[0] = semid_reduce8(s20); c2[1] = semid_reduce8(s21); c2[2] = semid_reduce8(s22); c2[3] = semid_reduce8(s23);
}

SEMID_INLINE void semid_gemm_nt_body(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                                     float *c, int ldc) {
    // Columns of C in panels whose B rows stay in cache while all rows of A pass over them.
    const int panel = 64;
    for (int j0 = 0; j0 < n; j0 += panel) {
        int j1 = j0 + panel < n ? j0 + panel : n;
        int i = 0;
        for (; i + 3 <= m; i += 3) {
            const float *ai = a + (size_t)i * lda;
            float *ci = c + (size_t)i * ldc;
            int j = j0;
            for (; j + 4 <= j1; j += 4) semid_kernel_3x4(k, ai, lda, b + (size_t)j * ldb, ldb, ci + j, ldc);
            for (; j < j1; j++) {
                const float *bj = b + (size_t)j * ldb;
                ci[j] = semid_dot_body(ai, bj, k);
                ci[ldc + j] = semid_dot_body(ai + lda, bj, k);
                ci[2 * (size_t)ldc + j] = semid_dot_body(ai + 2 * (size_t)lda, bj, k);
            }
        }
        for (; i < m; i++) {
            const float *ai = a + (size_t)i * lda;
            float *ci = c + (size_t)i * ldc;
            int j = j0;
            for (; j + 4 <= j1; j += 4) semid_kernel_1x4(k, ai, b + (size_t)j * ldb, ldb, ci + j);
            for (; j < j1; j++) ci[j] = semid_dot_body(ai, b + (size_t)j * ldb, k);
        }
    }
}

SEMID_INLINE double semid_distance_body(const float *a, const float *b, int k) {
    semid_v4d s = {0, 0, 0, 0};
    int t = 0;
    for (; t + 4 <= k; t += 4) {
        semid_v4d d = semid_load4_as_double(a + t) - semid_load4_as_double(b + t);
        s += d * d;
    }
    if (t < k) {
        float x[4] = {0, 0, 0, 0}, y[4] = {0, 0, 0, 0};
        memcpy(x, a + t, (size_t)(k - t) * sizeof(float));
        memcpy(y, b + t, (size_t)(k - t) * sizeof(float));
        semid_v4d d = semid_load4_as_double(x) - semid_load4_as_double(y);
        s += d * d;
    }
    return (s[0] + s[2]) + (s[1] + s[3]);
}


SEMID_INLINE int semid_candidates_body(const float *s, const float *cn, const float *cr, int k, float xr,
                                       float kappa, int *out) {
    float upper = __builtin_inff();
    int j = 0;
    semid_v8f root = {xr, xr, xr, xr, xr, xr, xr, xr};
    semid_v8f kv = {kappa, kappa, kappa, kappa, kappa, kappa, kappa, kappa};
    if (k >= 8) {
        semid_v8f m = {upper, upper, upper, upper, upper, upper, upper, upper};
        for (; j + 8 <= k; j += 8) {
            semid_v8f t = root + semid_load8(cr + j);
            semid_v8f hi = semid_load8(s + j) + semid_load8(cn + j) + kv * (t * t);
            semid_v8i lower = hi < m;
            m = (semid_v8f)(((semid_v8i)hi & lower) | ((semid_v8i)m & ~lower));
        }
        for (int l = 0; l < 8; l++) upper = m[l] < upper ? m[l] : upper;
    }
    for (; j < k; j++) {
        float t = xr + cr[j];
        float hi = s[j] + cn[j] + kappa * (t * t);
        upper = hi < upper ? hi : upper;
    }
    int count = 0;
    j = 0;
    semid_v8f limit = {upper, upper, upper, upper, upper, upper, upper, upper};
    for (; j + 8 <= k; j += 8) {
        semid_v8f t = root + semid_load8(cr + j);
        semid_v8f lo = semid_load8(s + j) + semid_load8(cn + j) - kv * (t * t);
        semid_v8i reach = lo <= limit;
        int any = 0;
        for (int l = 0; l < 8; l++) any |= reach[l];
        if (any) {
            for (int l = 0; l < 8; l++) if (reach[l]) out[count++] = j + l;
        }
    }
    for (; j < k; j++) {
        float t = xr + cr[j];
        if (s[j] + cn[j] - kappa * (t * t) <= upper) out[count++] = j;
    }
    return count;
}

// ---- The two instantiations and the dispatch. ----

static void semid_gemm_nt_baseline(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                                   float *c, int ldc) {
    semid_gemm_nt_body(m, n, k, a, lda, b, ldb, c, ldc);
}
static float semid_dot_baseline(const float *a, const float *b, int k) { return semid_dot_body(a, b, k); }
static double semid_distance_baseline(const float *a, const float *b, int k) { return semid_distance_body(a, b, k); }
static int semid_candidates_baseline(const float *s, const float *cn, const float *cr, int k, float xr, float kappa,
                                     int *out) {
    return semid_candidates_body(s, cn, cr, k, xr, kappa, out);
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <cpuid.h>
#define SEMID_HAS_AVX2_PATH 1
#define SEMID_AVX2 __attribute__((target("avx2")))

SEMID_AVX2 static void semid_gemm_nt_avx2(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                                          float *c, int ldc) {
    semid_gemm_nt_body(m, n, k, a, lda, b, ldb, c, ldc);
}
SEMID_AVX2 static float semid_dot_avx2(const float *a, const float *b, int k) { return semid_dot_body(a, b, k); }
SEMID_AVX2 static double semid_distance_avx2(const float *a, const float *b, int k) { return semid_distance_body(a, b, k); }
SEMID_AVX2 static int semid_candidates_avx2(const float *s, const float *cn, const float *cr, int k, float xr,
                                            float kappa, int *out) {
    return semid_candidates_body(s, cn, cr, k, xr, kappa, out);
}

/// AVX2 in the CPU (CPUID leaf 7) and YMM state enabled by the OS (OSXSAVE + XCR0 bits 1–2).
static int semid_cpu_has_avx2(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 6u) != 6u) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 5) & 1;
}
#else
#define SEMID_HAS_AVX2_PATH 0
#endif

static int semid_fixed_path = -1;  // -1 unknown, 1 baseline, 2 AVX2
static int semid_fixed_forced = 0;

int semid_fixed_order_path(void) {
    if (__atomic_load_n(&semid_fixed_forced, __ATOMIC_ACQUIRE)) return 1;
    int path = __atomic_load_n(&semid_fixed_path, __ATOMIC_ACQUIRE);
    if (path > 0) return path;
#if SEMID_HAS_AVX2_PATH
    path = semid_cpu_has_avx2() ? 2 : 1;
#else
    path = 1;
#endif
    __atomic_store_n(&semid_fixed_path, path, __ATOMIC_RELEASE);
    return path;
}

void semid_fixed_order_force_baseline(int force) {
    __atomic_store_n(&semid_fixed_forced, force ? 1 : 0, __ATOMIC_RELEASE);
}

void semid_fixed_gemm_nt(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                         float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
#if SEMID_HAS_AVX2_PATH
    if (semid_fixed_order_path() == 2) { semid_gemm_nt_avx2(m, n, k, a, lda, b, ldb, c, ldc); return; }
#endif
    semid_gemm_nt_baseline(m, n, k, a, lda, b, ldb, c, ldc);
}

float semid_fixed_dot(const float *a, const float *b, int k) {
#if SEMID_HAS_AVX2_PATH
    if (semid_fixed_order_path() == 2) return semid_dot_avx2(a, b, k);
#endif
    return semid_dot_baseline(a, b, k);
}

double semid_exact_squared_distance(const float *a, const float *b, int k) {
#if SEMID_HAS_AVX2_PATH
    if (semid_fixed_order_path() == 2) return semid_distance_avx2(a, b, k);
#endif
    return semid_distance_baseline(a, b, k);
}

int semid_nearest_candidates(const float *scores, const float *norms, const float *roots, int k,
                             float point_root, float kappa, int *candidates) {
#if SEMID_HAS_AVX2_PATH
    if (semid_fixed_order_path() == 2) return semid_candidates_avx2(scores, norms, roots, k, point_root, kappa, candidates);
#endif
    return semid_candidates_baseline(scores, norms, roots, k, point_root, kappa, candidates);
}
