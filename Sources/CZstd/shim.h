#ifndef SEMID_CZSTD_SHIM_H
#define SEMID_CZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>
#endif
