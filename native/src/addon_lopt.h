// The N-API glue of the learned-optimizer kernels (addon_lopt.c): js_<field> for every kernel of
// LOPT_LEARNED_KERNELS (lopt_kernels.h). addon.c exports them.
#ifndef LOPT_ADDON_LOPT_H
#define LOPT_ADDON_LOPT_H

#include "addon.h"
#include "lopt_kernels.h"

LOPT_LEARNED_KERNELS(LOPT_GLUE_DECL)

#endif
