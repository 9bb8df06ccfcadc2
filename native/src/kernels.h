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

typedef struct lopt_kernels {
  const char *name; /* "avx512", "avx2" or "scalar" */

  void (*fill)(size_t n, float *x, float value);
  void (*axpy)(size_t n, double alpha, const float *x, float *y);
  void (*scale)(size_t n, double alpha, float *x);
  double (*sum_squares)(size_t n, const float *x);
  void (*clip)(size_t n, const float *x, float lo, float hi, float *out);
  void (*add_row_vector)(float *y, const float *bias, size_t rows, size_t cols);
  void (*sum_rows)(const float *x, size_t rows, size_t cols, float *out, int accumulate);
  void (*relu_forward)(size_t n, const float *x, float *y);
  void (*relu_backward)(size_t n, const float *y, const float *dy, float *dx);
  double (*softmax_cross_entropy)(const float *logits, const int32_t *labels, size_t rows, size_t cols,
                                  float *dlogits);
  void (*gather_rows_u8)(const uint8_t *src, size_t row_length, const int32_t *indices, size_t count,
                         double scale, float *out);

  void (*sgd_step)(size_t n, float *p, const float *g, double lr);
  void (*sgdm_step)(size_t n, float *p, float *m, const float *g, double lr, double momentum, int nesterov);
  void (*adam_step)(size_t n, float *p, float *m, float *v, const float *g, double lr, double beta1,
                    double beta2, double eps, double bc1, double bc2);
  void (*nadamw_step)(size_t n, float *p, float *m, float *v, const float *g, double lr_t, double beta1,
                      double beta2, double eps, double l2, double adamw_decay, int nesterov);
  double (*rms_scale)(size_t n, float *v, const float *g, double decay, double eps, float *u);
  /* scratch: at least mid*nb*post + post doubles. */
  void (*factored_moments)(const float *g, const size_t dims[5], double decay, double eps, float *v_without_a,
                           float *v_without_b, double *scratch);
  double (*scale_by_factors)(const float *g, const size_t dims[5], const float *f_without_a,
                             const float *f_without_b, float *u);
} lopt_kernels;

extern const lopt_kernels lopt_kernels_avx512;
extern const lopt_kernels lopt_kernels_avx2;
extern const lopt_kernels lopt_kernels_scalar;

#endif
