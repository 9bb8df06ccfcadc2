// The N-API glue of the layer kernels (addon_nn.c, addon_nn_layers.c): js_<field> for every kernel of
// LOPT_NN_KERNELS (nn_kernels.h), and conv2dWorkspaceSize, which only the glue implements. addon.c
// exports them.
#ifndef LOPT_ADDON_NN_H
#define LOPT_ADDON_NN_H

#include "addon.h"
#include "nn_kernels.h"

LOPT_NN_KERNELS(LOPT_GLUE_DECL)
napi_value js_conv2d_workspace_size(napi_env env, napi_callback_info info);

/* Helpers of addon_nn.c shared with addon_nn_layers.c (the glue of the normalization, pooling and
   transformer kernels). */

/* The packed geometry of the conv2d and max-pool kernels: an Int32Array [batch, height, width, channels,
   kernelSize, stride, padTop, padLeft, outHeight, outWidth, outChannels]; the sizes of x, y (dy), w and
   the scratch. */
typedef struct {
  lopt_conv_geometry g;
  size_t co, x_len, y_len, w_len, ws_len;
} conv_args;

/* The layer-kernel table of the instruction set addon.c chose (c.k). */
const lopt_nn_kernels *nn_table(const lopt_kernels *k);
/* *out ← a·b·d, throwing a RangeError on overflow. */
bool mul3(call_t *c, size_t a, size_t b, size_t d, size_t *out);
/* Reads and checks the packed geometry of argument i. */
bool arg_conv_packed(call_t *c, size_t i, conv_args *a);

#endif
