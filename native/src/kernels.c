// Compiles kernels_impl.h three times: AVX-512 (Skylake-X level), AVX2+FMA (Haswell level) and
// baseline x86-64 (SSE2). addon.c chooses among the tables at load time with __builtin_cpu_supports.
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

#define LOOP _Pragma("omp simd")
#define LOOP_MAX_MX _Pragma("omp simd reduction(max : mx)")
#define NACC 16     /* interleaved partial sums of a reduction */
#define COLBLOCK 256 /* columns summed at a time by sum_rows */

/* Runs BODY (which sees k, the element index, and j = k mod NACC, its partial sum) for k in [0, n),
   NACC elements per vectorized inner loop, then the tail. */
#define BLOCKED(n, BODY)                                                   \
  do {                                                                     \
    const size_t n_ = (n);                                                 \
    size_t i_ = 0;                                                         \
    for (; i_ + NACC <= n_; i_ += NACC) {                                  \
      LOOP for (size_t j = 0; j < NACC; j++) {                             \
        const size_t k = i_ + j;                                           \
        BODY                                                               \
      }                                                                    \
    }                                                                      \
    for (size_t j = 0; i_ + j < n_; j++) {                                 \
      const size_t k = i_ + j;                                             \
      BODY                                                                 \
    }                                                                      \
  } while (0)

#if defined(__x86_64__) || defined(__i386__)

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,bmi,bmi2,popcnt,prefer-vector-width=512")
#define K(name) name##_avx512
#define SIMD_NAME "avx512"
#include "kernels_impl.h"
#undef K
#undef SIMD_NAME
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,bmi,bmi2,popcnt")
#define K(name) name##_avx2
#define SIMD_NAME "avx2"
#include "kernels_impl.h"
#undef K
#undef SIMD_NAME
#pragma GCC pop_options

#endif

#define K(name) name##_scalar
#define SIMD_NAME "scalar"
#include "kernels_impl.h"
#undef K
#undef SIMD_NAME
