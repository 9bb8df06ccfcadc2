// Compiles learned_kernels_impl.h three times: AVX-512 (Skylake-X level), AVX2+FMA (Haswell level) and
// baseline x86-64 (SSE2), exactly like kernels.c; addon_learned.c pairs each table with kernels.c's.
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "learned_kernels.h"

/* vf values never cross a function boundary that is not inlined; the ABI note is noise here. */
#pragma GCC diagnostic ignored "-Wpsabi"

#define LOOP _Pragma("omp simd")
#define CH 16     /* elements per block of the elementwise MLP: one vf */
#define GB 256    /* elements per block of the gemm MLP */
#define NACC 16   /* interleaved partial sums of a reduction (as in kernels.c); must equal CH */

#include "simd_blocked.h"

/* 16 floats: one AVX-512 register, two AVX2 or four SSE registers. GCC's vector extensions keep the
   MLP's accumulators in registers on every instruction set; the arithmetic is plain IEEE float. */
typedef float vf __attribute__((vector_size(CH * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(CH * sizeof(int32_t))));

static size_t pair_count(size_t nm, size_t nx, int *ok) {
  if (nm == 0 || nx == 0 || (nm != nx && nm != 1 && nx != 1)) *ok = 0;
  return nm > nx ? nm : nx;
}

int lopt_mlp_feature_offsets(size_t nm, size_t nr, size_t na, int flags, lopt_mlp_features *f) {
  int ok = 1;
  size_t i = 0;
  f->g = i++;
  f->p = i++;
  f->logp = i;
  if (flags & LOPT_F_LOG_ABS_P) i++;
  f->m = i;
  i += nm;
  f->v = i;
  i += nr;
  f->mr = i;
  f->nmr = (flags & LOPT_F_M_RSQRT_V) ? pair_count(nm, nr, &ok) : 0;
  i += f->nmr;
  f->rs = i;
  i += nr;
  f->fg = i;
  i += na;
  f->row = i;
  i += na;
  f->col = i;
  i += na;
  f->rrow = i;
  i += na;
  f->rcol = i;
  i += na;
  f->mf = i;
  f->nmf = (flags & LOPT_F_M_FACTORS) ? pair_count(nm, na, &ok) : 0;
  i += f->nmf;
  f->count = i;
  return ok ? 0 : -1;
}

#define SIMD_IMPL "learned_kernels_impl.h"
#include "simd_variants.h"
