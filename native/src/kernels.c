// Compiles kernels_impl.h three times: AVX-512 (Skylake-X level), AVX2+FMA (Haswell level) and
// baseline x86-64 (SSE2). addon.c chooses among the tables at load time with __builtin_cpu_supports.
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

#define LOOP _Pragma("omp simd")
#define LOOP_MAX_MX _Pragma("omp simd reduction(max : mx)")
#define NACC 16     /* interleaved partial sums of a reduction */
#define COLBLOCK 256 /* columns summed at a time by sum_rows */

#include "simd_blocked.h"

#define SIMD_IMPL "kernels_impl.h"
#include "simd_variants.h"
