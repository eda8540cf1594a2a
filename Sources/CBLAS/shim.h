#ifndef SEMID_CBLAS_SHIM_H
#define SEMID_CBLAS_SHIM_H
#include <cblas.h>
#endif
