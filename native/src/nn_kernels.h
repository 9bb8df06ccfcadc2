// Kernel table of the layer kernels (convolution, pooling, embedding, LSTM cells, sigmoid/tanh, the
// sigmoid-MSE loss, BatchNorm/LayerNorm, max pooling, GELU and attention's causal softmax).
// nn_kernels.c compiles every kernel once per instruction set (AVX-512, AVX2+FMA, baseline x86-64)
// from nn_kernels_impl.h; addon_nn.c picks the table matching addon.c's choice.
//
// Arguments are validated by addon_nn.c before a kernel runs (lengths, index ranges, overlaps), as for
// kernels.h: no kernel uses `restrict`, and only the exact aliases the interface allows reach them.
#ifndef LOPT_NN_KERNELS_H
#define LOPT_NN_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

/* A 2-D convolution over NHWC images with a square kernel; see im2col in src/engine/backend.ts. */
typedef struct lopt_conv_geometry {
  size_t batch, height, width, channels;
  size_t kernel, stride, pad_top, pad_left;
  size_t out_height, out_width;
} lopt_conv_geometry;

/* Whether the conv2d kernels use Winograd F(2x2, 3x3) for this geometry (3x3, stride 1, padding before
   ≤ 2), else im2col + sgemm per chunk of images. */
bool lopt_conv_winograd(const lopt_conv_geometry *g);
/* Floats of scratch the conv2d kernels need for this geometry and output channel count. */
size_t lopt_conv_workspace(const lopt_conv_geometry *g, size_t out_channels);

/* The one list of the layer kernels: X(field, jsName, return type, (parameters)), as in kernels.h. */
#define LOPT_NN_KERNELS(X)                                                                                     \
  X(im2col, "im2col", void, (const float *x, const lopt_conv_geometry *g, float *cols))                       \
  X(col2im, "col2im", void, (const float *cols, const lopt_conv_geometry *g, float *dx))                      \
  /* See conv2dForward, conv2dBackwardInput, conv2dBackwardFilter in src/engine/backend.ts; ws holds         \
     lopt_conv_workspace(g, co) floats. */                                                                   \
  X(conv2d_forward, "conv2dForward", void,                                                                    \
    (const float *x, const lopt_conv_geometry *g, const float *w, const float *bias, size_t co, float *y,     \
     float *ws))                                                                                              \
  X(conv2d_backward_input, "conv2dBackwardInput", void,                                                       \
    (const float *dy, const lopt_conv_geometry *g, const float *w, size_t co, float *dx, float *ws))          \
  X(conv2d_backward_filter, "conv2dBackwardFilter", void,                                                     \
    (const float *x, const float *dy, const lopt_conv_geometry *g, size_t co, float *dw, float *ws))          \
  X(spatial_mean, "spatialMean", void,                                                                        \
    (const float *x, size_t batch, size_t positions, size_t channels, float *out))                            \
  X(spatial_mean_backward, "spatialMeanBackward", void,                                                       \
    (const float *dy, size_t batch, size_t positions, size_t channels, float *dx))                            \
  X(sigmoid, "sigmoid", void, (size_t n, const float *x, float *y))                                           \
  X(tanh, "tanh", void, (size_t n, const float *x, float *y))                                                 \
  X(sigmoid_mse, "sigmoidMse", double, (size_t n, const float *logits, const float *target, float *dlogits))  \
  X(gather_rows, "gatherRows", void,                                                                          \
    (const float *table, size_t row_length, const int32_t *indices, size_t count, float *out))                \
  X(scatter_add_rows, "scatterAddRows", void,                                                                 \
    (const float *src, size_t row_length, const int32_t *indices, size_t count, float *table))                \
  X(swap_leading_axes, "swapLeadingAxes", void, (const float *x, size_t d0, size_t d1, size_t inner, float *out)) \
  X(lstm_cell_forward, "lstmCellForward", void,                                                               \
    (float *gates, const float *c_prev, size_t rows, size_t hidden, float *c, float *h, float *tanh_c))       \
  X(lstm_cell_backward, "lstmCellBackward", void,                                                             \
    (const float *act, const float *c_prev, const float *tanh_c, const float *dh, float *dc, size_t rows,     \
     size_t hidden, float *dgates))                                                                           \
  /* Normalization (nn_norm_impl.h): see batchNormForward … layerNormBackward in src/engine/backend.ts. */   \
  X(batch_norm_forward, "batchNormForward", void,                                                             \
    (const float *x, size_t rows, size_t channels, const float *gamma, const float *beta, double eps,         \
     bool training, float *mean, float *inv_std, float *y))                                                   \
  X(batch_norm_backward, "batchNormBackward", void,                                                           \
    (const float *x, const float *dy, size_t rows, size_t channels, const float *gamma, const float *mean,    \
     const float *inv_std, float *dx, float *dgamma, float *dbeta))                                           \
  X(layer_norm_forward, "layerNormForward", void,                                                             \
    (const float *x, size_t rows, size_t features, const float *gamma, const float *beta, double eps,         \
     float *mean, float *inv_std, float *y))                                                                  \
  X(layer_norm_backward, "layerNormBackward", void,                                                           \
    (const float *x, const float *dy, size_t rows, size_t features, const float *gamma, const float *mean,    \
     const float *inv_std, float *dx, float *dgamma, float *dbeta))                                           \
  /* Pooling and the residual sum (nn_pool_impl.h). */                                                       \
  X(max_pool_forward, "maxPoolForward", void,                                                                 \
    (const float *x, const lopt_conv_geometry *g, float *y, int32_t *argmax))                                 \
  X(max_pool_backward, "maxPoolBackward", void,                                                               \
    (const float *dy, const int32_t *argmax, size_t count, size_t dx_len, float *dx))                         \
  X(add, "add", void, (size_t n, const float *a, const float *b, float *out))                                 \
  /* Transformer pieces (nn_transformer_impl.h): GELU and the causal softmax of attention. */                \
  X(gelu_forward, "geluForward", void, (size_t n, const float *x, float *y))                                  \
  X(gelu_backward, "geluBackward", void, (size_t n, const float *x, const float *dy, float *dx))              \
  X(causal_softmax, "causalSoftmax", void,                                                                    \
    (const float *x, size_t heads, size_t length, float scale, float *y))                                     \
  X(causal_softmax_backward, "causalSoftmaxBackward", void,                                                   \
    (const float *y, const float *dy, size_t heads, size_t length, float scale, float *dx))

typedef struct lopt_nn_kernels {
  const char *name; /* "avx512", "avx2" or "scalar" */
  LOPT_NN_KERNELS(LOPT_KERNEL_FIELD)
} lopt_nn_kernels;

extern const lopt_nn_kernels lopt_nn_kernels_avx512;
extern const lopt_nn_kernels lopt_nn_kernels_avx2;
extern const lopt_nn_kernels lopt_nn_kernels_scalar;

#endif
