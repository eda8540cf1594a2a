#ifndef CSEMID_KERNELS_UMBRELLA_H
#define CSEMID_KERNELS_UMBRELLA_H

// The module's umbrella header: every C kernel SemidMath calls. Named after the target so SwiftPM
// writes it into the module map (an umbrella directory would let a stale module cache of an
// earlier checkout hide headers added since).
#include "semid_kernels.h"
#include "semid_fixed_order.h"

#endif
