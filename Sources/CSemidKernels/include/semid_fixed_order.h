#ifndef SEMID_FIXED_ORDER_H
#define SEMID_FIXED_ORDER_H

/// Fixed-order dense arithmetic: results that are bit-for-bit the same on every x86-64 CPU, with
/// any BLAS, any thread count.
///
/// BLAS kernels sum dot products in an order of their own (register blocking, FMA, threads), so
/// the same `sgemm` gives different last bits on different CPUs. The functions here define the
/// order instead:
///
/// - a float32 dot product of length k is summed in 8 lanes: lane l holds
///   `s_l = (((a[l]·b[l]) + a[8+l]·b[8+l]) + a[16+l]·b[16+l]) + …` (every product and every sum
///   rounded to float32 separately, never fused; missing terms of the last chunk are +0), and the
///   lanes are combined as `((s0+s4) + (s2+s6)) + ((s1+s5) + (s3+s7))`;
/// - a float64 squared distance of length k is summed in 4 lanes the same way, from exact float64
///   differences, and combined as `(s0+s2) + (s1+s3)`.
///
/// Vector code for AVX2 and for baseline SSE2 implements exactly these operations (IEEE-754 basic
/// operations are correctly rounded, and contraction into FMA is disabled), so the path taken only
/// changes the speed. `semid_fixed_order_path` says which one runs.

/// 2 when the AVX2 path is used, 1 for the baseline SSE2 path.
int semid_fixed_order_path(void);

/// Forces the baseline path (`force != 0`) or restores the automatic choice; for tests that check
/// both paths give identical bits. Not thread-safe: call before starting work.
void semid_fixed_order_force_baseline(int force);

/// `c[i·ldc + j] = Σ_t a[i·lda + t] · b[j·ldb + t]` for `i < m`, `j < n` (an `A·Bᵀ` product of
/// row-major `[m, k]` and `[n, k]`), each element summed in the fixed float32 order above.
/// Single-threaded; callers parallelise over disjoint row ranges.
void semid_fixed_gemm_nt(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                         float *c, int ldc);

/// The float32 dot product of `a` and `b` (length k) in the same order as one element of
/// `semid_fixed_gemm_nt`.
float semid_fixed_dot(const float *a, const float *b, int k);

/// `Σ_t (a[t] − b[t])²` over k values, in float64 (differences of float32 values are exact in
/// float64) and the fixed 4-lane order above.
double semid_exact_squared_distance(const float *a, const float *b, int k);

/// The candidates of an exact nearest-centroid decision from approximate scores (see Swift's
/// `Distances.nearest`): with `e_j = scores[j] + norms[j]` and `β_j = kappa·(point_root +
/// roots[j])²`, writes every `j` with `e_j − β_j ≤ min_i (e_i + β_i)` to `candidates` in increasing
/// order and returns how many (at least 1 unless a score is NaN).
int semid_nearest_candidates(const float *scores, const float *norms, const float *roots, int k,
                             float point_root, float kappa, int *candidates);

#endif
