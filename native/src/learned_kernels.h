// Kernel table of the learned-optimizer kernels (src/learned): the fused two-pass per-parameter MLP
// optimizer (small_fc_lopt, feature_mlp_lopt, fc_lopt, rnn_fc_lopt) and the nn_adam step.
// learned_kernels.c compiles every kernel once per instruction set (AVX-512, AVX2+FMA, baseline x86-64)
// from learned_kernels_impl.h; addon_learned.c validates the arguments and picks the table matching
// addon.c's choice. Semantics: Backend.mlpLoptAccumulate / mlpLoptApply / nnAdamStep in
// src/engine/backend.ts, argument types in src/engine/mlp-lopt.ts.
#ifndef LOPT_LEARNED_KERNELS_H
#define LOPT_LEARNED_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

/* Flag bits of the packed layout (src/engine/mlp-lopt.ts MLP_LOPT_FLAGS). */
#define LOPT_F_LOG_ABS_P 1
#define LOPT_F_M_RSQRT_V 2
#define LOPT_F_M_FACTORS 4
#define LOPT_F_FACTORED 8
#define LOPT_F_ROW_IS_A 16
#define LOPT_F_GEMM 32

/* One tensor: n elements, accumulators acc = [nm momenta | nr rms | na full AdaFactor (unfactored)] × n
   and, when factored, stats = [v_row (na × size_row) | v_col (na × size_col) | row factor | col factor]. */
typedef struct lopt_mlp_tensor {
  size_t n, nm, nr, na;
  int flags;
  size_t dims[5]; /* [pre, na, mid, nb, post] when factored */
  size_t size_row, size_col;
  float *p;
  const float *g;
  float *acc;
  const float *decays; /* [nm | nr | na]; read by the accumulate pass only */
  float *stats;        /* v_row, v_col: updated by the accumulate pass, which also writes the factors */
} lopt_mlp_tensor;

/* Offsets of each feature group in the feature vector (mlpLoptFeatureNames), and F = count. */
typedef struct lopt_mlp_features {
  size_t g, p, logp, m, v, mr, nmr, rs, fg, row, col, rrow, rcol, mf, nmf, count;
} lopt_mlp_features;

typedef struct lopt_mlp_net {
  size_t layers;        /* dense layers; sizes has layers + 1 entries */
  const int32_t *sizes; /* [F + inputs, h1, ..., out] */
  const float *params;  /* W0 [sizes0, sizes1], b0, W1, b1, ... */
  const float *scales;  /* F */
  const float *inputs;  /* sizes0 − F */
  float exp_mult, step_mult;
} lopt_mlp_net;

/* The one list of the learned-optimizer kernels: X(field, jsName, return type, (parameters)), as in
   kernels.h. mlp_accumulate and mlp_apply return 0, or −1 when the scratch memory cannot be allocated
   (nothing is written then); moments: F sums of squares, then (want_sums) F plain sums. */
#define LOPT_LEARNED_KERNELS(X)                                                                                \
  X(mlp_accumulate, "mlpLoptAccumulate", int,                                                                 \
    (const lopt_mlp_tensor *t, const lopt_mlp_features *f, double *moments, int want_sums))                   \
  X(mlp_apply, "mlpLoptApply", int,                                                                           \
    (const lopt_mlp_tensor *t, const lopt_mlp_features *f, const lopt_mlp_net *net, int gemm,                 \
     double *extra_sums))                                                                                     \
  X(nn_adam_step, "nnAdamStep", void,                                                                         \
    (size_t n, float *p, float *m, float *v, const float *g, double lr, double beta1, double beta2,           \
     double eps, double *stats))

typedef struct lopt_learned_kernels {
  const char *name; /* "avx512", "avx2" or "scalar" */
  LOPT_LEARNED_KERNELS(LOPT_KERNEL_FIELD)
} lopt_learned_kernels;

/* Fills f from the layout; returns 0, or −1 when a pairing is invalid (counts differ and neither is 1). */
int lopt_mlp_feature_offsets(size_t nm, size_t nr, size_t na, int flags, lopt_mlp_features *f);

extern const lopt_learned_kernels lopt_learned_kernels_avx512;
extern const lopt_learned_kernels lopt_learned_kernels_avx2;
extern const lopt_learned_kernels lopt_learned_kernels_scalar;

#endif
