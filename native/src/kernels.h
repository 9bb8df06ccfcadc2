// Kernel table of the native backend. kernels.c compiles every kernel once per instruction set
// (AVX-512, AVX2+FMA, baseline x86-64) from kernels_impl.h; addon.c picks a table at load time.
//
// Arguments are validated by addon.c before a kernel runs: lengths are large enough, indices and
// labels are in range, and buffers either do not overlap or are the very same view where the
// interface allows it (no kernel uses `restrict`, so exact aliasing keeps the reference semantics).
#ifndef LOPT_KERNELS_H
#define LOPT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* The one list of the kernels of this table: X(field, jsName, return type, (parameters)). It generates
   the struct below, each instruction set's table (kernels_impl.h: .field = K(field)) and the addon's
   exports (addon.c: jsName calls js_<field>, the N-API glue that checks the arguments and calls
   k->field). nn_kernels.h and learned_kernels.h hold the lists of the other two tables. A new kernel
   is one entry in a list, its K(field) in the *_impl.h, its js_<field> glue, and on the TypeScript side
   src/engine/backend.ts, reference.ts and native.ts. */
#define LOPT_CORE_KERNELS(X)                                                                                   \
  X(fill, "fill", void, (size_t n, float *x, float value))                                                    \
  X(axpy, "axpy", void, (size_t n, double alpha, const float *x, float *y))                                   \
  X(scale, "scale", void, (size_t n, double alpha, float *x))                                                 \
  X(sum_squares, "sumSquares", double, (size_t n, const float *x))                                            \
  X(clip, "clip", void, (size_t n, const float *x, float lo, float hi, float *out))                           \
  X(add_row_vector, "addRowVector", void, (float *y, const float *bias, size_t rows, size_t cols))            \
  X(sum_rows, "sumRows", void, (const float *x, size_t rows, size_t cols, float *out, int accumulate))        \
  X(relu_forward, "reluForward", void, (size_t n, const float *x, float *y))                                  \
  X(relu_backward, "reluBackward", void, (size_t n, const float *y, const float *dy, float *dx))               \
  X(softmax_cross_entropy, "softmaxCrossEntropy", double,                                                     \
    (const float *logits, const int32_t *labels, size_t rows, size_t cols, float *dlogits))                   \
  X(gather_rows_u8, "gatherRowsU8", void,                                                                     \
    (const uint8_t *src, size_t row_length, const int32_t *indices, size_t count, double scale, float *out))  \
  X(sgd_step, "sgdStep", void, (size_t n, float *p, const float *g, double lr))                               \
  X(sgdm_step, "sgdmStep", void,                                                                              \
    (size_t n, float *p, float *m, const float *g, double lr, double momentum, int nesterov))                 \
  X(adam_step, "adamStep", void,                                                                              \
    (size_t n, float *p, float *m, float *v, const float *g, double lr, double beta1, double beta2,           \
     double eps, double bc1, double bc2))                                                                     \
  X(nadamw_step, "nadamwStep", void,                                                                          \
    (size_t n, float *p, float *m, float *v, const float *g, double lr_t, double beta1, double beta2,         \
     double eps, double l2, double adamw_decay, int nesterov))                                                \
  X(rms_scale, "rmsScale", double, (size_t n, float *v, const float *g, double decay, double eps, float *u))   \
  /* scratch: at least mid*nb*post + post doubles. */                                                        \
  X(factored_moments, "factoredMoments", void,                                                                \
    (const float *g, const size_t dims[5], double decay, double eps, float *v_without_a, float *v_without_b,  \
     double *scratch))                                                                                        \
  X(scale_by_factors, "scaleByFactors", double,                                                               \
    (const float *g, const size_t dims[5], const float *f_without_a, const float *f_without_b, float *u))

/* Helpers for the lists of kernels.h, nn_kernels.h and learned_kernels.h. */
#define LOPT_KERNEL_FIELD(field, js, ret, params) ret(*field) params;
#define LOPT_KERNEL_ENTRY(field, js, ret, params) .field = K(field),

typedef struct lopt_kernels {
  const char *name; /* "avx512", "avx2" or "scalar" */
  LOPT_CORE_KERNELS(LOPT_KERNEL_FIELD)
} lopt_kernels;

extern const lopt_kernels lopt_kernels_avx512;
extern const lopt_kernels lopt_kernels_avx2;
extern const lopt_kernels lopt_kernels_scalar;

#endif
