// The N-API glue of the layer kernels (addon_nn.c): js_<field> for every kernel of LOPT_NN_KERNELS
// (nn_kernels.h), and conv2dWorkspaceSize, which only the glue implements. addon.c exports them.
#ifndef LOPT_ADDON_NN_H
#define LOPT_ADDON_NN_H

#include "addon.h"
#include "nn_kernels.h"

LOPT_NN_KERNELS(LOPT_GLUE_DECL)
napi_value js_conv2d_workspace_size(napi_env env, napi_callback_info info);

#endif
