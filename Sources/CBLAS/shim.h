#ifndef SEMID_CBLAS_SHIM_H
#define SEMID_CBLAS_SHIM_H
#include <cblas.h>

/* LAPACK symmetric eigensolver (divide and conquer), exported by libopenblas. */
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda,
             float *w, float *work, const int *lwork, int *iwork, const int *liwork, int *info);
#endif
