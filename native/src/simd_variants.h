/* Compiles the implementation header named by SIMD_IMPL three times: AVX-512 (Skylake-X level),
   AVX2+FMA (Haswell level) and baseline x86-64 (SSE2), with K(name) naming each copy's functions
   name_avx512, name_avx2 and name_scalar and SIMD_NAME its instruction set. The addon picks one
   table at load time with __builtin_cpu_supports. */
#if defined(__x86_64__) || defined(__i386__)

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,bmi,bmi2,popcnt,prefer-vector-width=512")
#define K(name) name##_avx512
#define SIMD_NAME "avx512"
#include SIMD_IMPL
#undef K
#undef SIMD_NAME
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,bmi,bmi2,popcnt")
#define K(name) name##_avx2
#define SIMD_NAME "avx2"
#include SIMD_IMPL
#undef K
#undef SIMD_NAME
#pragma GCC pop_options

#endif

#define K(name) name##_scalar
#define SIMD_NAME "scalar"
#include SIMD_IMPL
#undef K
#undef SIMD_NAME
