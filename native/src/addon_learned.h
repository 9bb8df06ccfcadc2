// The N-API glue of the learned-optimizer kernels (addon_learned.c): js_<field> for every kernel of
// LOPT_LEARNED_KERNELS (learned_kernels.h). addon.c exports them.
#ifndef LOPT_ADDON_LEARNED_H
#define LOPT_ADDON_LEARNED_H

#include "addon.h"
#include "learned_kernels.h"

LOPT_LEARNED_KERNELS(LOPT_GLUE_DECL)

#endif
