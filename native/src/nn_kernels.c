// Compiles nn_kernels_impl.h three times: AVX-512 (Skylake-X level), AVX2+FMA (Haswell level) and
// baseline x86-64 (SSE2), exactly like kernels.c; addon_nn.c pairs each table with kernels.c's.
// Floating-point operations may be executed speculatively (no FP exception is ever observed here):
// without this GCC sinks arithmetic into both arms of a select and then refuses to if-convert it on
// the AVX2 and SSE2 paths (AVX-512 masks instead). It changes no computed value.
#pragma GCC optimize("no-trapping-math")

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cblas.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "nn_kernels.h"

#define LOOP _Pragma("omp simd")
#define NACC 16      /* interleaved partial sums of a reduction (as in kernels.c) */
#define COLBLOCK 256 /* channels summed at a time by spatial_mean */
#define WG_TILES 64 /* Winograd tiles transformed and multiplied at a time (see nn_conv_impl.h) */
#define CV_CHUNK_ROWS 4096 /* output positions per im2col chunk of the other convolutions */

#define WG_PLANE_PAD 16 /* floats between consecutive Winograd planes of a block, beyond their size */

static inline size_t lopt_round16(size_t n) { return (n + 15) & ~(size_t)15; }
/* The first 64-byte aligned float at or after p (the workspace has 16 floats of slack for it). */
static inline float *lopt_align64(float *p) { return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

bool lopt_conv_winograd(const lopt_conv_geometry *g) {
  return g->kernel == 3 && g->stride == 1 && g->pad_top <= 2 && g->pad_left <= 2;
}

size_t lopt_conv_workspace(const lopt_conv_geometry *g, size_t out_channels) {
  if (lopt_conv_winograd(g)) {
    const size_t cip = lopt_round16(g->channels), cop = lopt_round16(out_channels);
    const size_t wide = cip > cop ? cip : cop;
    return 16 + 16 * cip * cop + 16 * (WG_TILES * (cip + cop) + 2 * WG_PLANE_PAD) + 2 * wide;
  }
  const size_t positions = g->out_height * g->out_width;
  size_t images = positions ? CV_CHUNK_ROWS / positions : g->batch;
  if (images < 1) images = 1;
  if (images > g->batch) images = g->batch;
  return images * positions * g->kernel * g->kernel * g->channels;
}

#include "simd_blocked.h"

#define SIMD_IMPL "nn_kernels_impl.h"
#include "simd_variants.h"
