// N-API glue of the normalization, pooling and transformer kernels (nn_norm_impl.h, nn_pool_impl.h,
// nn_transformer_impl.h), with the argument checks of addon.h: each function checks the type and length
// of every array and that every output overlaps no other argument except the one in-place alias the
// interface allows (src/engine/backend.ts), then runs the kernel of the chosen instruction set.
#include "addon_nn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Output `out` overlaps none of `others`, except that it may be exactly `may_alias` (NULL: none). */
static bool apart(call_t *c, span_t out, const span_t *others, size_t n, const void *may_alias) {
  for (size_t i = 0; i < n; i++) {
    const bool same_ok = may_alias != NULL && others[i].p == may_alias;
    if (!disjoint(c, out, others[i], same_ok)) return false;
  }
  return true;
}

/* The arguments shared by the normalization kernels: sizes, then the statistics' length. */
static bool norm_sizes(call_t *c, size_t rows_i, size_t *rows, size_t *cols, size_t *total) {
  return arg_size(c, rows_i, "rows", rows) && arg_size(c, rows_i + 1, "channels", cols) &&
         mul_size(c, *rows, *cols, total);
}

/* x, rows, channels, gamma, beta, eps, [training,] mean, invStd, y: BatchNorm (per_row false) or LayerNorm. */
static napi_value norm_forward(napi_env env, napi_callback_info info, const char *fn, bool per_row) {
  call_t c;
  float *x, *gamma, *beta, *mean, *inv_std, *y;
  size_t nx, ng, nb, nm, ns, ny, rows, cols, total;
  double eps;
  bool training = true;
  const size_t o = per_row ? 0 : 1; /* BatchNorm has the `training` argument */
  if (!begin(env, info, &c, 9 + o, fn) || !arg_f32(&c, 0, "x", &x, &nx) || !norm_sizes(&c, 1, &rows, &cols, &total) ||
      !arg_f32(&c, 3, "gamma", &gamma, &ng) || !arg_f32(&c, 4, "beta", &beta, &nb) || !arg_num(&c, 5, "eps", &eps) ||
      (!per_row && !arg_bool(&c, 6, "training", &training)) || !arg_f32(&c, 6 + o, "mean", &mean, &nm) ||
      !arg_f32(&c, 7 + o, "invStd", &inv_std, &ns) || !arg_f32(&c, 8 + o, "y", &y, &ny))
    return NULL;
  const size_t stats = per_row ? rows : cols;
  if (!need(&c, "x", nx, total) || !need(&c, "gamma", ng, cols) || !need(&c, "beta", nb, cols) ||
      !need(&c, "mean", nm, stats) || !need(&c, "invStd", ns, stats) || !need(&c, "y", ny, total))
    return NULL;
  const span_t sx = span(x, total, 4, "x"), sg = span(gamma, cols, 4, "gamma"), sb = span(beta, cols, 4, "beta"),
               sm = span(mean, stats, 4, "mean"), ss = span(inv_std, stats, 4, "invStd");
  const span_t y_others[] = {sx, sg, sb, sm, ss}, stat_others[] = {sx, sg, sb};
  if (!apart(&c, span(y, total, 4, "y"), y_others, 5, x)) return NULL;
  if (training && (!apart(&c, sm, stat_others, 3, NULL) || !apart(&c, ss, stat_others, 3, NULL) ||
                   !disjoint(&c, sm, ss, false)))
    return NULL;
  const lopt_nn_kernels *t = nn_table(c.k);
  if (per_row) {
    t->layer_norm_forward(x, rows, cols, gamma, beta, eps, mean, inv_std, y);
  } else {
    t->batch_norm_forward(x, rows, cols, gamma, beta, eps, training, mean, inv_std, y);
  }
  return undefined(env);
}

/* x, dy, rows, channels, gamma, mean, invStd, dx, dgamma, dbeta. */
static napi_value norm_backward(napi_env env, napi_callback_info info, const char *fn, bool per_row) {
  call_t c;
  float *x, *dy, *gamma, *mean, *inv_std, *dx, *dgamma, *dbeta;
  size_t nx, ndy, ng, nm, ns, ndx, ndg, ndb, rows, cols, total;
  if (!begin(env, info, &c, 10, fn) || !arg_f32(&c, 0, "x", &x, &nx) || !arg_f32(&c, 1, "dy", &dy, &ndy) ||
      !norm_sizes(&c, 2, &rows, &cols, &total) || !arg_f32(&c, 4, "gamma", &gamma, &ng) ||
      !arg_f32(&c, 5, "mean", &mean, &nm) || !arg_f32(&c, 6, "invStd", &inv_std, &ns) ||
      !arg_f32(&c, 7, "dx", &dx, &ndx) || !arg_f32(&c, 8, "dgamma", &dgamma, &ndg) ||
      !arg_f32(&c, 9, "dbeta", &dbeta, &ndb))
    return NULL;
  const size_t stats = per_row ? rows : cols;
  if (!need(&c, "x", nx, total) || !need(&c, "dy", ndy, total) || !need(&c, "gamma", ng, cols) ||
      !need(&c, "mean", nm, stats) || !need(&c, "invStd", ns, stats) || !need(&c, "dx", ndx, total) ||
      !need(&c, "dgamma", ndg, cols) || !need(&c, "dbeta", ndb, cols))
    return NULL;
  const span_t sx = span(x, total, 4, "x"), sdy = span(dy, total, 4, "dy"), sg = span(gamma, cols, 4, "gamma"),
               sm = span(mean, stats, 4, "mean"), ss = span(inv_std, stats, 4, "invStd"),
               sdx = span(dx, total, 4, "dx"), sdg = span(dgamma, cols, 4, "dgamma"), sdb = span(dbeta, cols, 4, "dbeta");
  const span_t inputs[] = {sx, sdy, sg, sm, ss, sdg, sdb};
  if (!apart(&c, sdx, inputs, 7, dy) || !apart(&c, sdg, inputs, 5, NULL) || !apart(&c, sdb, inputs, 6, NULL))
    return NULL;
  const lopt_nn_kernels *t = nn_table(c.k);
  (per_row ? t->layer_norm_backward : t->batch_norm_backward)(x, dy, rows, cols, gamma, mean, inv_std, dx, dgamma, dbeta);
  return undefined(env);
}

napi_value js_batch_norm_forward(napi_env env, napi_callback_info info) {
  return norm_forward(env, info, "batchNormForward", false);
}
napi_value js_layer_norm_forward(napi_env env, napi_callback_info info) {
  return norm_forward(env, info, "layerNormForward", true);
}
napi_value js_batch_norm_backward(napi_env env, napi_callback_info info) {
  return norm_backward(env, info, "batchNormBackward", false);
}
napi_value js_layer_norm_backward(napi_env env, napi_callback_info info) {
  return norm_backward(env, info, "layerNormBackward", true);
}

napi_value js_max_pool_forward(napi_env env, napi_callback_info info) {
  call_t c;
  conv_args a;
  float *x, *y;
  int32_t *argmax;
  size_t nx, ny, na;
  if (!begin(env, info, &c, 4, "maxPoolForward") || !arg_f32(&c, 0, "x", &x, &nx) || !arg_conv_packed(&c, 1, &a) ||
      !arg_f32(&c, 2, "y", &y, &ny) || !arg_i32(&c, 3, "argmax", &argmax, &na))
    return NULL;
  if (a.co != a.g.channels) {
    throw_fmt(env, true, "maxPoolForward: geometry[10] (%zu) must equal the channels (%zu)", a.co, a.g.channels);
    return NULL;
  }
  if (a.x_len > 0x7fffffff) {
    throw_fmt(env, true, "maxPoolForward: x has %zu elements, more than argmax (int32) can index", a.x_len);
    return NULL;
  }
  if (!need(&c, "x", nx, a.x_len) || !need(&c, "y", ny, a.y_len) || !need(&c, "argmax", na, a.y_len)) return NULL;
  const span_t sx = span(x, a.x_len, 4, "x"), sy = span(y, a.y_len, 4, "y"), sa = span(argmax, a.y_len, 4, "argmax");
  if (!disjoint(&c, sy, sx, false) || !disjoint(&c, sa, sx, false) || !disjoint(&c, sa, sy, false)) return NULL;
  nn_table(c.k)->max_pool_forward(x, &a.g, y, argmax);
  return undefined(env);
}

napi_value js_max_pool_backward(napi_env env, napi_callback_info info) {
  call_t c;
  float *dy, *dx;
  int32_t *argmax;
  size_t ndy, na, ndx;
  if (!begin(env, info, &c, 3, "maxPoolBackward") || !arg_f32(&c, 0, "dy", &dy, &ndy) ||
      !arg_i32(&c, 1, "argmax", &argmax, &na) || !arg_f32(&c, 2, "dx", &dx, &ndx))
    return NULL;
  if (!need(&c, "argmax", na, ndy)) return NULL;
  const span_t sdx = span(dx, ndx, 4, "dx");
  if (!disjoint(&c, sdx, span(dy, ndy, 4, "dy"), false) || !disjoint(&c, sdx, span(argmax, ndy, 4, "argmax"), false))
    return NULL;
  for (size_t i = 0; i < ndy; i++) {
    if (argmax[i] >= 0 && (size_t)argmax[i] >= ndx) {
      throw_fmt(env, true, "maxPoolBackward: argmax[%zu] = %d is outside dx (%zu elements)", i, (int)argmax[i], ndx);
      return NULL;
    }
  }
  nn_table(c.k)->max_pool_backward(dy, argmax, ndy, ndx, dx);
  return undefined(env);
}

/* The arguments of an elementwise kernel of three arrays: inputs `a` and `b`, of n elements (a sets n),
   and an output of at least n that may be exactly a (a_alias) or b (b_alias) and overlaps neither
   otherwise. */
static bool elementwise3(napi_env env, napi_callback_info info, call_t *c, const char *fn, const char *names[3],
                         bool a_alias, bool b_alias, float *arrays[3], size_t *n) {
  size_t nb, nout;
  if (!begin(env, info, c, 3, fn) || !arg_f32(c, 0, names[0], &arrays[0], n) || !arg_f32(c, 1, names[1], &arrays[1], &nb) ||
      !arg_f32(c, 2, names[2], &arrays[2], &nout))
    return false;
  if (!need_exact(c, names[1], nb, *n) || !need(c, names[2], nout, *n)) return false;
  const span_t so = span(arrays[2], *n, 4, names[2]);
  return disjoint(c, so, span(arrays[0], *n, 4, names[0]), a_alias) && disjoint(c, so, span(arrays[1], *n, 4, names[1]), b_alias);
}

napi_value js_add(napi_env env, napi_callback_info info) {
  call_t c;
  float *v[3];
  size_t n;
  static const char *names[3] = {"a", "b", "out"};
  if (!elementwise3(env, info, &c, "add", names, true, true, v, &n)) return NULL;
  nn_table(c.k)->add(n, v[0], v[1], v[2]);
  return undefined(env);
}

napi_value js_gelu_forward(napi_env env, napi_callback_info info) {
  call_t c;
  float *x, *y;
  size_t n, ny;
  if (!begin(env, info, &c, 2, "geluForward") || !arg_f32(&c, 0, "x", &x, &n) || !arg_f32(&c, 1, "y", &y, &ny)) return NULL;
  if (!need(&c, "y", ny, n) || !disjoint(&c, span(y, n, 4, "y"), span(x, n, 4, "x"), true)) return NULL;
  nn_table(c.k)->gelu_forward(n, x, y);
  return undefined(env);
}

napi_value js_gelu_backward(napi_env env, napi_callback_info info) {
  call_t c;
  float *v[3];
  size_t n;
  static const char *names[3] = {"x", "dy", "dx"};
  if (!elementwise3(env, info, &c, "geluBackward", names, false, true, v, &n)) return NULL;
  nn_table(c.k)->gelu_backward(n, v[0], v[1], v[2]);
  return undefined(env);
}

/* The [heads, length, length] blocks of the causal softmax: sizes and the scale at arguments first.. */
static bool softmax_sizes(call_t *c, size_t first, size_t *heads, size_t *length, float *scale, size_t *total) {
  double s;
  return arg_size(c, first, "heads", heads) && arg_size(c, first + 1, "length", length) &&
         arg_num(c, first + 2, "scale", &s) && (*scale = (float)s, true) && mul3(c, *heads, *length, *length, total);
}

napi_value js_causal_softmax(napi_env env, napi_callback_info info) {
  call_t c;
  float *x, *y, scale;
  size_t nx, ny, heads, length, total;
  if (!begin(env, info, &c, 5, "causalSoftmax") || !arg_f32(&c, 0, "x", &x, &nx) ||
      !softmax_sizes(&c, 1, &heads, &length, &scale, &total) || !arg_f32(&c, 4, "y", &y, &ny))
    return NULL;
  if (!need(&c, "x", nx, total) || !need(&c, "y", ny, total) ||
      !disjoint(&c, span(y, total, 4, "y"), span(x, total, 4, "x"), true))
    return NULL;
  nn_table(c.k)->causal_softmax(x, heads, length, scale, y);
  return undefined(env);
}

napi_value js_causal_softmax_backward(napi_env env, napi_callback_info info) {
  call_t c;
  float *y, *dy, *dx, scale;
  size_t ny, ndy, ndx, heads, length, total;
  if (!begin(env, info, &c, 6, "causalSoftmaxBackward") || !arg_f32(&c, 0, "y", &y, &ny) ||
      !arg_f32(&c, 1, "dy", &dy, &ndy) || !softmax_sizes(&c, 2, &heads, &length, &scale, &total) ||
      !arg_f32(&c, 5, "dx", &dx, &ndx))
    return NULL;
  if (!need(&c, "y", ny, total) || !need(&c, "dy", ndy, total) || !need(&c, "dx", ndx, total)) return NULL;
  const span_t sdx = span(dx, total, 4, "dx");
  if (!disjoint(&c, sdx, span(y, total, 4, "y"), false) || !disjoint(&c, sdx, span(dy, total, 4, "dy"), true))
    return NULL;
  nn_table(c.k)->causal_softmax_backward(y, dy, heads, length, scale, dx);
  return undefined(env);
}
