// The WebAssembly module of the engine's optimizer kernels (src/engine/wasm.ts is its JavaScript side):
// the very kernels of the native addon (native/src/kernels_impl.h, learned_kernels_impl.h, compiled for
// wasm32 with 128-bit SIMD by scripts/build-wasm.mjs as their baseline "scalar" variant) and gemm.c,
// exported with plain C signatures instead of N-API.
//
// Memory protocol: JavaScript asks for one scratch region (lopt_scratch), copies the call's arrays into
// it, calls a kernel with pointers into it and copies the outputs back. Arrays that JavaScript keeps in
// this memory for good (lopt_alloc, when the memory is shared: src/engine/wasm-heap.ts) are passed by
// their own address instead. Arguments are checked on the JavaScript side before a kernel runs
// (lengths, layouts), as addon.c checks them for the native one.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels.h"
#include "learned_kernels.h"

#define EXPORT(name) __attribute__((export_name(name)))

void lopt_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
               const float *b, size_t ldb, float beta, float *c, size_t ldc);

static const lopt_kernels *const core = &lopt_kernels_scalar;
static const lopt_learned_kernels *const learned = &lopt_learned_kernels_scalar;

static void *scratch;
static size_t scratch_bytes;

/* A 16-byte-aligned region of at least `bytes` bytes, reused across calls (its contents are not kept
   when it grows); NULL when memory cannot grow. */
EXPORT("lopt_scratch") void *lopt_scratch(size_t bytes) {
  if (bytes <= scratch_bytes) return scratch;
  free(scratch);
  size_t want = scratch_bytes + scratch_bytes / 2;
  want = ((want > bytes ? want : bytes) + 15) & ~(size_t)15;
  scratch = aligned_alloc(16, want);
  scratch_bytes = scratch ? want : 0;
  return scratch;
}

/* A 16-byte-aligned block for an array that lives in this memory until lopt_free; NULL when memory
   cannot grow. */
EXPORT("lopt_alloc") void *lopt_alloc(size_t bytes) { return aligned_alloc(16, (bytes + 15) & ~(size_t)15); }

EXPORT("lopt_free") void lopt_free(void *block) { free(block); }

EXPORT("gemm") void w_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, double alpha, const float *a,
                           const float *b, double beta, float *c) {
  lopt_gemm(trans_a, trans_b, m, n, k, (float)alpha, a, trans_a ? m : k, b, trans_b ? k : n, (float)beta, c, n);
}

EXPORT("axpy") void w_axpy(size_t n, double alpha, const float *x, float *y) { core->axpy(n, alpha, x, y); }

EXPORT("scale") void w_scale(size_t n, double alpha, float *x) { core->scale(n, alpha, x); }

EXPORT("sum_squares") double w_sum_squares(size_t n, const float *x) { return core->sum_squares(n, x); }

EXPORT("clip") void w_clip(size_t n, const float *x, double lo, double hi, float *out) {
  core->clip(n, x, (float)lo, (float)hi, out);
}

EXPORT("sgd_step") void w_sgd_step(size_t n, float *p, const float *g, double lr) { core->sgd_step(n, p, g, lr); }

EXPORT("sgdm_step") void w_sgdm_step(size_t n, float *p, float *m, const float *g, double lr, double momentum,
                                     int nesterov) {
  core->sgdm_step(n, p, m, g, lr, momentum, nesterov);
}

EXPORT("adam_step") void w_adam_step(size_t n, float *p, float *m, float *v, const float *g, double lr, double beta1,
                                     double beta2, double eps, double bc1, double bc2) {
  core->adam_step(n, p, m, v, g, lr, beta1, beta2, eps, bc1, bc2);
}

EXPORT("nadamw_step") void w_nadamw_step(size_t n, float *p, float *m, float *v, const float *g, double lr_t,
                                         double beta1, double beta2, double eps, double l2, double adamw_decay,
                                         int nesterov) {
  core->nadamw_step(n, p, m, v, g, lr_t, beta1, beta2, eps, l2, adamw_decay, nesterov);
}

EXPORT("rms_scale") double w_rms_scale(size_t n, float *v, const float *g, double decay, double eps, float *u) {
  return core->rms_scale(n, v, g, decay, eps, u);
}

/* dims: the five sizes [pre, na, mid, nb, post]. Returns −1 when the scratch sums cannot be allocated. */
EXPORT("factored_moments") int w_factored_moments(const float *g, const size_t *dims, double decay, double eps,
                                                  float *v_without_a, float *v_without_b) {
  double *sums = malloc((dims[2] * dims[3] * dims[4] + dims[4]) * sizeof(double));
  if (!sums) return -1;
  core->factored_moments(g, dims, decay, eps, v_without_a, v_without_b, sums);
  free(sums);
  return 0;
}

EXPORT("scale_by_factors") double w_scale_by_factors(const float *g, const size_t *dims, const float *f_without_a,
                                                     const float *f_without_b, float *u) {
  return core->scale_by_factors(g, dims, f_without_a, f_without_b, u);
}

/* The tensor and its feature offsets from the packed layout [nm, nr, na, flags, pre, na, mid, nb, post]
   (src/engine/mlp-lopt.ts packMlpLoptLayout), as addon_learned.c reads them. Returns −2 for a pairing of
   momenta with accumulators whose counts differ and are not 1. */
static int read_tensor(size_t n, float *p, const float *g, float *acc, const float *decays, const int32_t *layout,
                       float *stats, lopt_mlp_tensor *t, lopt_mlp_features *f) {
  t->n = n, t->nm = (size_t)layout[0], t->nr = (size_t)layout[1], t->na = (size_t)layout[2];
  t->flags = layout[3];
  for (size_t d = 0; d < 5; d++) t->dims[d] = (size_t)layout[4 + d];
  const size_t pre = t->dims[0], na = t->dims[1], mid = t->dims[2], nb = t->dims[3], post = t->dims[4];
  const size_t size_a = pre * mid * nb * post, size_b = pre * na * mid * post;
  const int row_is_a = (t->flags & LOPT_F_ROW_IS_A) != 0;
  t->size_row = (t->flags & LOPT_F_FACTORED) ? (row_is_a ? size_a : size_b) : 0;
  t->size_col = (t->flags & LOPT_F_FACTORED) ? (row_is_a ? size_b : size_a) : 0;
  t->p = p, t->g = g, t->acc = acc, t->decays = decays, t->stats = stats;
  return lopt_mlp_feature_offsets(t->nm, t->nr, t->na, t->flags, f) == 0 ? 0 : -2;
}

/* moments: F sums of squares, then (want_sums) F plain sums. Returns 0, −1 (out of memory) or −2. */
EXPORT("mlp_accumulate") int w_mlp_accumulate(size_t n, float *p, const float *g, float *acc, const float *decays,
                                              const int32_t *layout, float *stats, double *moments, int want_sums) {
  lopt_mlp_tensor t;
  lopt_mlp_features f;
  if (read_tensor(n, p, g, acc, decays, layout, stats, &t, &f) != 0) return -2;
  return learned->mlp_accumulate(&t, &f, moments, want_sums);
}

/* sizes: layers + 1 widths; extra_sums: sizes[layers] − 2 sums. Returns 0, −1 (out of memory) or −2. */
EXPORT("mlp_apply") int w_mlp_apply(size_t n, float *p, const float *g, float *acc, const int32_t *layout,
                                    float *stats, size_t layers, const int32_t *sizes, const float *params,
                                    const float *scales, const float *inputs, double exp_mult, double step_mult,
                                    double *extra_sums) {
  lopt_mlp_tensor t;
  lopt_mlp_features f;
  if (read_tensor(n, p, g, acc, NULL, layout, stats, &t, &f) != 0) return -2;
  const lopt_mlp_net net = {layers, sizes, params, scales, inputs, (float)exp_mult, (float)step_mult};
  return learned->mlp_apply(&t, &f, &net, (layout[3] & LOPT_F_GEMM) != 0, extra_sums);
}

EXPORT("nn_adam_step") void w_nn_adam_step(size_t n, float *p, float *m, float *v, const float *g, double lr,
                                           double beta1, double beta2, double eps, double *stats) {
  learned->nn_adam_step(n, p, m, v, g, lr, beta1, beta2, eps, stats);
}
