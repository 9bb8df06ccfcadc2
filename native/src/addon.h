// Argument checks shared by the N-API glue (addon.c, addon_nn.c, addon_learned.c), defined in addon.c.
//
// Each js_<field> function reads its arguments with begin and arg_*, checks lengths (need,
// need_exact, mul_size) and overlaps (disjoint over spans), throws a TypeError or RangeError through
// throw_fmt on the first failure (returning NULL), and otherwise calls the kernel of the table of the
// instruction set chosen for the call (c.k, or the matching nn/learned table).
//
// Names in native/src: kernels* are the hand-designed optimizers' kernels, nn_* the layers', learned_*
// the learned optimizers' and addon*.c the N-API glue; the C prefix lopt_ names the project (its
// types, tables and helpers), never "learned optimizer".
#ifndef LOPT_ADDON_H
#define LOPT_ADDON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <node_api.h>

#include "kernels.h"
#include "thread_pool.h"

#define MAX_ARGS 12

typedef struct {
  napi_env env;
  const char *fn;
  const lopt_kernels *k;
  size_t argc;
  napi_value argv[MAX_ARGS];
} call_t;

typedef struct {
  const void *p;
  size_t bytes;
  const char *name;
} span_t;

/* The prototype of the glue of each kernel of a list (kernels.h, nn_kernels.h, learned_kernels.h). */
#define LOPT_GLUE_DECL(field, js, ret, params) napi_value js_##field(napi_env env, napi_callback_info info);

/* Throws a TypeError (range false) or RangeError with code ERR_LOPT_NATIVE_ARG. */
void throw_fmt(napi_env env, bool range, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reads the arguments (at least `expected`) and the kernel table into c; fn names the call in errors. */
bool begin(napi_env env, napi_callback_info info, call_t *c, size_t expected, const char *fn);
bool typed(call_t *c, size_t i, const char *name, napi_typedarray_type want, const char *type_name, void **data,
           size_t *len);
bool arg_f32(call_t *c, size_t i, const char *name, float **data, size_t *len);
bool arg_i32(call_t *c, size_t i, const char *name, int32_t **data, size_t *len);
bool arg_u8(call_t *c, size_t i, const char *name, uint8_t **data, size_t *len);
bool arg_num(call_t *c, size_t i, const char *name, double *out);
/* A size: an integer in [0, 2^31 − 1] (BLAS takes 32-bit ints). */
bool arg_size(call_t *c, size_t i, const char *name, size_t *out);
/* A boolean, or a number (non-zero is true). */
bool arg_bool(call_t *c, size_t i, const char *name, bool *out);
bool need(call_t *c, const char *name, size_t have, size_t want);
bool need_exact(call_t *c, const char *name, size_t have, size_t want);
/* Outputs must not overlap other arguments; allow_same accepts the exact same start (an in-place call). */
bool disjoint(call_t *c, span_t a, span_t b, bool allow_same);
bool mul_size(call_t *c, size_t a, size_t b, size_t *out);

/* The calling instance's threads (setThreads; 1 by default) and its pool (NULL at one thread). */
size_t glue_threads(napi_env env, lopt_pool **pool);

/* Parts to cut a call of `work` units into: the instance's thread count, but no more than work /
   min_per_part (at least 1), so that a small call stays on the calling thread. */
size_t glue_parts(napi_env env, size_t work, size_t min_per_part, lopt_pool **pool);

/* A buffer of at least `floats` floats owned by the instance for part `part` of a threaded call (a
   kernel's workspace, a partial result); grown as needed, reused across calls. NULL (with an Error
   thrown) when memory runs out. */
float *glue_part_buffer(napi_env env, size_t part, size_t floats);

static inline span_t span(const void *p, size_t elements, size_t element_size, const char *name) {
  span_t s = {p, elements * element_size, name};
  return s;
}

static inline napi_value undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

static inline napi_value number(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

#endif
