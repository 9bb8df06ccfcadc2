// N-API glue of the layer kernels (nn_kernels.h), with the argument checks of addon.h. Each function
// finds the layer-kernel table of the instruction set addon.c chose for the call (c.k) and checks every
// array before the kernel runs: type, length, index ranges, overlaps (only the aliases the interface
// allows).
#include "addon_nn.h"

#include <cblas.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

const lopt_nn_kernels *nn_table(const lopt_kernels *k) {
#if defined(__x86_64__) || defined(__i386__)
  if (k == &lopt_kernels_avx512) return &lopt_nn_kernels_avx512;
  if (k == &lopt_kernels_avx2) return &lopt_nn_kernels_avx2;
#endif
  (void)k;
  return &lopt_nn_kernels_scalar;
}

bool mul3(call_t *c, size_t a, size_t b, size_t d, size_t *out) {
  size_t ab;
  return mul_size(c, a, b, &ab) && mul_size(c, ab, d, out);
}

/* Reads the convolution geometry from arguments first..first+9 and the sizes of x and of cols. */
static bool arg_conv(call_t *c, size_t first, lopt_conv_geometry *g, size_t *x_len, size_t *cols_len) {
  if (!arg_size(c, first, "batch", &g->batch) || !arg_size(c, first + 1, "height", &g->height) ||
      !arg_size(c, first + 2, "width", &g->width) || !arg_size(c, first + 3, "channels", &g->channels) ||
      !arg_size(c, first + 4, "kernelSize", &g->kernel) || !arg_size(c, first + 5, "stride", &g->stride) ||
      !arg_size(c, first + 6, "padTop", &g->pad_top) || !arg_size(c, first + 7, "padLeft", &g->pad_left) ||
      !arg_size(c, first + 8, "outHeight", &g->out_height) || !arg_size(c, first + 9, "outWidth", &g->out_width))
    return false;
  if (g->kernel < 1 || g->stride < 1) {
    throw_fmt(c->env, true, "%s: kernelSize and stride must be at least 1", c->fn);
    return false;
  }
  size_t image, positions, window;
  return mul3(c, g->height, g->width, g->channels, &image) && mul_size(c, g->batch, image, x_len) &&
         mul3(c, g->batch, g->out_height, g->out_width, &positions) &&
         mul3(c, g->kernel, g->kernel, g->channels, &window) && mul_size(c, positions, window, cols_len);
}

napi_value js_im2col(napi_env env, napi_callback_info info) {
  call_t c;
  float *x, *cols;
  size_t nx, ncols, x_len, cols_len;
  lopt_conv_geometry g;
  if (!begin(env, info, &c, 12, "im2col") || !arg_f32(&c, 0, "x", &x, &nx) ||
      !arg_conv(&c, 1, &g, &x_len, &cols_len) || !arg_f32(&c, 11, "cols", &cols, &ncols))
    return NULL;
  if (!need(&c, "x", nx, x_len) || !need(&c, "cols", ncols, cols_len) ||
      !disjoint(&c, span(cols, cols_len, 4, "cols"), span(x, x_len, 4, "x"), false))
    return NULL;
  nn_table(c.k)->im2col(x, &g, cols);
  return undefined(env);
}

napi_value js_col2im(napi_env env, napi_callback_info info) {
  call_t c;
  float *cols, *dx;
  size_t ncols, ndx, x_len, cols_len;
  lopt_conv_geometry g;
  if (!begin(env, info, &c, 12, "col2im") || !arg_f32(&c, 0, "cols", &cols, &ncols) ||
      !arg_conv(&c, 1, &g, &x_len, &cols_len) || !arg_f32(&c, 11, "dx", &dx, &ndx))
    return NULL;
  if (!need(&c, "cols", ncols, cols_len) || !need(&c, "dx", ndx, x_len) ||
      !disjoint(&c, span(dx, x_len, 4, "dx"), span(cols, cols_len, 4, "cols"), false))
    return NULL;
  nn_table(c.k)->col2im(cols, &g, dx);
  return undefined(env);
}

bool arg_conv_packed(call_t *c, size_t i, conv_args *a) {
  int32_t *v;
  size_t n;
  if (!arg_i32(c, i, "geometry", &v, &n)) return false;
  if (n < 11) {
    throw_fmt(c->env, true, "%s: geometry has %zu elements, expected 11", c->fn, n);
    return false;
  }
  for (size_t j = 0; j < 11; j++) {
    if (v[j] < 0) {
      throw_fmt(c->env, true, "%s: geometry[%zu] must be an integer in [0, 2^31)", c->fn, j);
      return false;
    }
  }
  lopt_conv_geometry *g = &a->g;
  g->batch = (size_t)v[0], g->height = (size_t)v[1], g->width = (size_t)v[2], g->channels = (size_t)v[3];
  g->kernel = (size_t)v[4], g->stride = (size_t)v[5], g->pad_top = (size_t)v[6], g->pad_left = (size_t)v[7];
  g->out_height = (size_t)v[8], g->out_width = (size_t)v[9];
  a->co = (size_t)v[10];
  if (g->kernel < 1 || g->stride < 1) {
    throw_fmt(c->env, true, "%s: kernelSize and stride must be at least 1", c->fn);
    return false;
  }
  // Bounds of every size the kernels compute: the im2col chunk is at most positions·window floats, the
  // Winograd scratch less than 64·(channels + 16)·(outChannels + 16) + 2048·(channels + outChannels + 32).
  size_t image, positions, window, cols, pair, pair64;
  if (!mul3(c, g->height, g->width, g->channels, &image) || !mul_size(c, g->batch, image, &a->x_len) ||
      !mul3(c, g->batch, g->out_height, g->out_width, &positions) || !mul_size(c, positions, a->co, &a->y_len) ||
      !mul3(c, g->kernel, g->kernel, g->channels, &window) || !mul_size(c, window, a->co, &a->w_len) ||
      !mul_size(c, positions, window, &cols) || !mul_size(c, g->channels + 16, a->co + 16, &pair) ||
      !mul_size(c, pair, 128, &pair64))
    return false;
  a->ws_len = lopt_conv_workspace(g, a->co);
  return true;
}

napi_value js_conv2d_workspace_size(napi_env env, napi_callback_info info) {
  call_t c;
  conv_args a;
  if (!begin(env, info, &c, 1, "conv2dWorkspaceSize") || !arg_conv_packed(&c, 0, &a)) return NULL;
  return number(env, (double)a.ws_len);
}

// ---- convolutions on several threads --------------------------------------------------------------

/* Multiply-adds per part below which a convolution stays on fewer threads (bench/threads.ts). */
#define CONV_MACS_PER_PART (1u << 21)
/* Elements per part below which spatialMean and its gradient stay on fewer threads (memory-bound, like
   the elementwise updates of addon.c). */
#define SPATIAL_ELEMENTS_PER_PART 32768

typedef enum { CONV_FORWARD, CONV_BACKWARD_INPUT, CONV_BACKWARD_FILTER } conv_kind;

/* One conv2d call cut into sub-batches of images, on either path. The im2col path's parts call sgemm
   with OpenBLAS on one thread (each part has a core of its own; OpenBLAS's threads, woken per call for
   these skinny products, would spin beside the parts and the next layers' Winograd parts); an unsplit
   call keeps OpenBLAS's threads. Forward and input gradient compute each image alone, with
   each output element one chain of multiply-adds whatever the batch, so parts give the unsplit call's
   bits; the filter gradient sums over images, so each part after the first writes a partial dw, added
   to the first part's in part order. */
typedef struct {
  const lopt_nn_kernels *k;
  conv_kind kind;
  const conv_args *a;
  const float *x, *dy, *w, *bias; /* the arguments the kind reads */
  float *out;                     /* y, dx or dw */
  size_t parts;
  float *ws[LOPT_POOL_MAX_THREADS];      /* each part's workspace (part 0: the caller's) */
  float *partial[LOPT_POOL_MAX_THREADS]; /* the filter gradient's partial dw of parts 1, 2, … */
} conv_job;

static void conv_part(void *ctx, size_t index) {
  conv_job *job = ctx;
  const lopt_conv_geometry *g = &job->a->g;
  size_t b0, images;
  lopt_pool_part(g->batch, job->parts, index, 1, &b0, &images);
  lopt_conv_geometry part = *g;
  part.batch = images;
  const size_t x_off = b0 * g->height * g->width * g->channels, y_off = b0 * g->out_height * g->out_width * job->a->co;
  const size_t co = job->a->co;
  switch (job->kind) {
    case CONV_FORWARD:
      job->k->conv2d_forward(job->x + x_off, &part, job->w, job->bias, co, job->out + y_off, job->ws[index]);
      break;
    case CONV_BACKWARD_INPUT:
      job->k->conv2d_backward_input(job->dy + y_off, &part, job->w, co, job->out + x_off, job->ws[index]);
      break;
    case CONV_BACKWARD_FILTER:
      job->k->conv2d_backward_filter(job->x + x_off, job->dy + y_off, &part, co,
                                     index ? job->partial[index] : job->out, job->ws[index]);
      break;
  }
}

/* Runs the call on the instance's threads when it is a large enough convolution, else as the
   plain kernel call; false (an Error thrown) when the parts' buffers cannot be allocated. */
static bool run_conv(napi_env env, conv_job *job, float *ws) {
  const lopt_conv_geometry *g = &job->a->g;
  const bool winograd = lopt_conv_winograd(g);
  /* Per output position and channel pair: the kernel's taps on the im2col path; 1 for Winograd, whose
     threshold bench/threads.ts measured against this count. */
  const size_t taps = winograd ? 1 : g->kernel * g->kernel;
  const size_t macs = g->batch * g->out_height * g->out_width * g->channels * job->a->co * taps;
  lopt_pool *pool = NULL;
  job->parts = glue_parts(env, macs, CONV_MACS_PER_PART, &pool);
  if (job->parts > g->batch) job->parts = g->batch > 0 ? g->batch : 1;
  const int blas_threads = !winograd && job->parts > 1 ? openblas_get_num_threads() : 1;
  job->ws[0] = ws;
  const bool filter = job->kind == CONV_BACKWARD_FILTER;
  for (size_t i = 1; i < job->parts; i++) {
    float *buffer = glue_part_buffer(env, i, job->a->ws_len + (filter ? job->a->w_len : 0));
    if (!buffer) return false;
    job->ws[i] = buffer;
    job->partial[i] = buffer + job->a->ws_len;
  }
  if (blas_threads > 1) openblas_set_num_threads(1);
  lopt_pool_run(pool, job->parts, conv_part, job);
  if (blas_threads > 1) openblas_set_num_threads(blas_threads);
  if (filter) {
    for (size_t i = 1; i < job->parts; i++)
      for (size_t j = 0; j < job->a->w_len; j++) job->out[j] += job->partial[i][j];
  }
  return true;
}

napi_value js_conv2d_forward(napi_env env, napi_callback_info info) {
  call_t c;
  conv_args a;
  float *x, *w, *bias, *y, *ws;
  size_t nx, nw, nb, ny, nws;
  if (!begin(env, info, &c, 6, "conv2dForward") || !arg_f32(&c, 0, "x", &x, &nx) || !arg_conv_packed(&c, 1, &a) ||
      !arg_f32(&c, 2, "w", &w, &nw) || !arg_f32(&c, 3, "bias", &bias, &nb) || !arg_f32(&c, 4, "y", &y, &ny) ||
      !arg_f32(&c, 5, "workspace", &ws, &nws))
    return NULL;
  if (!need(&c, "x", nx, a.x_len) || !need(&c, "w", nw, a.w_len) || !need(&c, "bias", nb, a.co) ||
      !need(&c, "y", ny, a.y_len) || !need(&c, "workspace", nws, a.ws_len))
    return NULL;
  span_t sy = span(y, a.y_len, 4, "y"), sws = span(ws, a.ws_len, 4, "workspace"), sx = span(x, a.x_len, 4, "x"),
         sw = span(w, a.w_len, 4, "w"), sb = span(bias, a.co, 4, "bias");
  if (!disjoint(&c, sy, sx, false) || !disjoint(&c, sy, sw, false) || !disjoint(&c, sy, sb, false) ||
      !disjoint(&c, sy, sws, false) || !disjoint(&c, sws, sx, false) || !disjoint(&c, sws, sw, false) ||
      !disjoint(&c, sws, sb, false))
    return NULL;
  conv_job job = {.k = nn_table(c.k), .kind = CONV_FORWARD, .a = &a, .x = x, .w = w, .bias = bias, .out = y};
  return run_conv(env, &job, ws) ? undefined(env) : NULL;
}

napi_value js_conv2d_backward_input(napi_env env, napi_callback_info info) {
  call_t c;
  conv_args a;
  float *dy, *w, *dx, *ws;
  size_t ndy, nw, ndx, nws;
  if (!begin(env, info, &c, 5, "conv2dBackwardInput") || !arg_f32(&c, 0, "dy", &dy, &ndy) ||
      !arg_conv_packed(&c, 1, &a) || !arg_f32(&c, 2, "w", &w, &nw) || !arg_f32(&c, 3, "dx", &dx, &ndx) ||
      !arg_f32(&c, 4, "workspace", &ws, &nws))
    return NULL;
  if (!need(&c, "dy", ndy, a.y_len) || !need(&c, "w", nw, a.w_len) || !need(&c, "dx", ndx, a.x_len) ||
      !need(&c, "workspace", nws, a.ws_len))
    return NULL;
  span_t sdx = span(dx, a.x_len, 4, "dx"), sws = span(ws, a.ws_len, 4, "workspace"),
         sdy = span(dy, a.y_len, 4, "dy"), sw = span(w, a.w_len, 4, "w");
  if (!disjoint(&c, sdx, sdy, false) || !disjoint(&c, sdx, sw, false) || !disjoint(&c, sdx, sws, false) ||
      !disjoint(&c, sws, sdy, false) || !disjoint(&c, sws, sw, false))
    return NULL;
  conv_job job = {.k = nn_table(c.k), .kind = CONV_BACKWARD_INPUT, .a = &a, .dy = dy, .w = w, .out = dx};
  return run_conv(env, &job, ws) ? undefined(env) : NULL;
}

napi_value js_conv2d_backward_filter(napi_env env, napi_callback_info info) {
  call_t c;
  conv_args a;
  float *x, *dy, *dw, *ws;
  size_t nx, ndy, ndw, nws;
  if (!begin(env, info, &c, 5, "conv2dBackwardFilter") || !arg_f32(&c, 0, "x", &x, &nx) ||
      !arg_f32(&c, 1, "dy", &dy, &ndy) || !arg_conv_packed(&c, 2, &a) || !arg_f32(&c, 3, "dw", &dw, &ndw) ||
      !arg_f32(&c, 4, "workspace", &ws, &nws))
    return NULL;
  if (!need(&c, "x", nx, a.x_len) || !need(&c, "dy", ndy, a.y_len) || !need(&c, "dw", ndw, a.w_len) ||
      !need(&c, "workspace", nws, a.ws_len))
    return NULL;
  span_t sdw = span(dw, a.w_len, 4, "dw"), sws = span(ws, a.ws_len, 4, "workspace"), sx = span(x, a.x_len, 4, "x"),
         sdy = span(dy, a.y_len, 4, "dy");
  if (!disjoint(&c, sdw, sx, false) || !disjoint(&c, sdw, sdy, false) || !disjoint(&c, sdw, sws, false) ||
      !disjoint(&c, sws, sx, false) || !disjoint(&c, sws, sdy, false))
    return NULL;
  conv_job job = {.k = nn_table(c.k), .kind = CONV_BACKWARD_FILTER, .a = &a, .x = x, .dy = dy, .out = dw};
  return run_conv(env, &job, ws) ? undefined(env) : NULL;
}

/* spatialMean and its gradient cut into sub-batches of images (each image is computed alone, so parts
   give the unsplit call's bits). */
typedef struct {
  const lopt_nn_kernels *k;
  bool backward;
  const float *in; /* x, or dy for the gradient */
  float *out;      /* the means, or dx */
  size_t batch, positions, channels, parts;
} spatial_job;

static void spatial_part(void *ctx, size_t index) {
  spatial_job *job = ctx;
  size_t b0, images;
  lopt_pool_part(job->batch, job->parts, index, 1, &b0, &images);
  const size_t image = job->positions * job->channels;
  if (job->backward)
    job->k->spatial_mean_backward(job->in + b0 * job->channels, images, job->positions, job->channels,
                                  job->out + b0 * image);
  else
    job->k->spatial_mean(job->in + b0 * image, images, job->positions, job->channels, job->out + b0 * job->channels);
}

static void run_spatial(napi_env env, spatial_job *job) {
  lopt_pool *pool = NULL;
  job->parts = glue_parts(env, job->batch * job->positions * job->channels, SPATIAL_ELEMENTS_PER_PART, &pool);
  if (job->parts > job->batch) job->parts = job->batch > 0 ? job->batch : 1;
  lopt_pool_run(pool, job->parts, spatial_part, job);
}

napi_value js_spatial_mean(napi_env env, napi_callback_info info) {
  call_t c;
  float *x, *out;
  size_t nx, nout, batch, positions, channels, total, reduced;
  if (!begin(env, info, &c, 5, "spatialMean") || !arg_f32(&c, 0, "x", &x, &nx) ||
      !arg_size(&c, 1, "batch", &batch) || !arg_size(&c, 2, "positions", &positions) ||
      !arg_size(&c, 3, "channels", &channels) || !arg_f32(&c, 4, "out", &out, &nout))
    return NULL;
  if (!mul3(&c, batch, positions, channels, &total) || !mul_size(&c, batch, channels, &reduced) ||
      !need(&c, "x", nx, total) || !need(&c, "out", nout, reduced) ||
      !disjoint(&c, span(out, reduced, 4, "out"), span(x, total, 4, "x"), false))
    return NULL;
  spatial_job job = {.k = nn_table(c.k), .backward = false, .in = x, .out = out, .batch = batch, .positions = positions,
                     .channels = channels};
  run_spatial(env, &job);
  return undefined(env);
}

napi_value js_spatial_mean_backward(napi_env env, napi_callback_info info) {
  call_t c;
  float *dy, *dx;
  size_t ndy, ndx, batch, positions, channels, total, reduced;
  if (!begin(env, info, &c, 5, "spatialMeanBackward") || !arg_f32(&c, 0, "dy", &dy, &ndy) ||
      !arg_size(&c, 1, "batch", &batch) || !arg_size(&c, 2, "positions", &positions) ||
      !arg_size(&c, 3, "channels", &channels) || !arg_f32(&c, 4, "dx", &dx, &ndx))
    return NULL;
  if (!mul3(&c, batch, positions, channels, &total) || !mul_size(&c, batch, channels, &reduced) ||
      !need(&c, "dy", ndy, reduced) || !need(&c, "dx", ndx, total) ||
      !disjoint(&c, span(dx, total, 4, "dx"), span(dy, reduced, 4, "dy"), false))
    return NULL;
  spatial_job job = {.k = nn_table(c.k), .backward = true, .in = dy, .out = dx, .batch = batch, .positions = positions,
                     .channels = channels};
  run_spatial(env, &job);
  return undefined(env);
}

static napi_value nn_unary(napi_env env, napi_callback_info info, const char *fn, bool is_tanh) {
  call_t c;
  float *x, *y;
  size_t n, ny;
  if (!begin(env, info, &c, 2, fn) || !arg_f32(&c, 0, "x", &x, &n) || !arg_f32(&c, 1, "y", &y, &ny)) return NULL;
  if (!need(&c, "y", ny, n) || !disjoint(&c, span(y, n, 4, "y"), span(x, n, 4, "x"), true)) return NULL;
  const lopt_nn_kernels *t = nn_table(c.k);
  (is_tanh ? t->tanh : t->sigmoid)(n, x, y);
  return undefined(env);
}

napi_value js_sigmoid(napi_env env, napi_callback_info info) { return nn_unary(env, info, "sigmoid", false); }
napi_value js_tanh(napi_env env, napi_callback_info info) { return nn_unary(env, info, "tanh", true); }

napi_value js_sigmoid_mse(napi_env env, napi_callback_info info) {
  call_t c;
  float *logits, *target, *dlogits = NULL;
  size_t n, nt, nd = 0;
  if (!begin(env, info, &c, 2, "sigmoidMse") || !arg_f32(&c, 0, "logits", &logits, &n) ||
      !arg_f32(&c, 1, "target", &target, &nt))
    return NULL;
  if (c.argc > 2) {
    napi_valuetype t;
    napi_typeof(env, c.argv[2], &t);
    if (t != napi_null && t != napi_undefined && !arg_f32(&c, 2, "dlogits", &dlogits, &nd)) return NULL;
  }
  if (!need_exact(&c, "target", nt, n)) return NULL;
  if (dlogits) {
    span_t sd = span(dlogits, n, 4, "dlogits");
    if (!need(&c, "dlogits", nd, n) || !disjoint(&c, sd, span(logits, n, 4, "logits"), true) ||
        !disjoint(&c, sd, span(target, n, 4, "target"), false))
      return NULL;
  }
  return number(env, nn_table(c.k)->sigmoid_mse(n, logits, target, dlogits));
}

/* Every index must name a row of a table of table_len floats in rows of row_length. */
static bool check_rows(call_t *c, const int32_t *indices, size_t count, size_t table_len, size_t row_length,
                       const char *table) {
  if (row_length == 0) return true;
  const size_t rows = table_len / row_length;
  for (size_t i = 0; i < count; i++) {
    if (indices[i] < 0 || (size_t)indices[i] >= rows) {
      throw_fmt(c->env, true, "%s: indices[%zu] = %d is not a row of %s (%zu rows of %zu)", c->fn, i,
                (int)indices[i], table, rows, row_length);
      return false;
    }
  }
  return true;
}

napi_value js_gather_rows(napi_env env, napi_callback_info info) {
  call_t c;
  float *table, *out;
  int32_t *indices;
  size_t ntable, row_length, count, nout, total;
  if (!begin(env, info, &c, 4, "gatherRows") || !arg_f32(&c, 0, "table", &table, &ntable) ||
      !arg_size(&c, 1, "rowLength", &row_length) || !arg_i32(&c, 2, "indices", &indices, &count) ||
      !arg_f32(&c, 3, "out", &out, &nout))
    return NULL;
  if (!mul_size(&c, count, row_length, &total) || !need(&c, "out", nout, total)) return NULL;
  span_t so = span(out, total, 4, "out");
  if (!disjoint(&c, so, span(table, ntable, 4, "table"), false) ||
      !disjoint(&c, so, span(indices, count, 4, "indices"), false) ||
      !check_rows(&c, indices, count, ntable, row_length, "table"))
    return NULL;
  nn_table(c.k)->gather_rows(table, row_length, indices, count, out);
  return undefined(env);
}

napi_value js_scatter_add_rows(napi_env env, napi_callback_info info) {
  call_t c;
  float *src, *table;
  int32_t *indices;
  size_t nsrc, row_length, count, ntable, total;
  if (!begin(env, info, &c, 4, "scatterAddRows") || !arg_f32(&c, 0, "src", &src, &nsrc) ||
      !arg_size(&c, 1, "rowLength", &row_length) || !arg_i32(&c, 2, "indices", &indices, &count) ||
      !arg_f32(&c, 3, "table", &table, &ntable))
    return NULL;
  if (!mul_size(&c, count, row_length, &total) || !need(&c, "src", nsrc, total)) return NULL;
  span_t st = span(table, ntable, 4, "table");
  if (!disjoint(&c, st, span(src, total, 4, "src"), false) ||
      !disjoint(&c, st, span(indices, count, 4, "indices"), false) ||
      !check_rows(&c, indices, count, ntable, row_length, "table"))
    return NULL;
  nn_table(c.k)->scatter_add_rows(src, row_length, indices, count, table);
  return undefined(env);
}

napi_value js_swap_leading_axes(napi_env env, napi_callback_info info) {
  call_t c;
  float *x, *out;
  size_t nx, nout, d0, d1, inner, total;
  if (!begin(env, info, &c, 5, "swapLeadingAxes") || !arg_f32(&c, 0, "x", &x, &nx) ||
      !arg_size(&c, 1, "d0", &d0) || !arg_size(&c, 2, "d1", &d1) || !arg_size(&c, 3, "inner", &inner) ||
      !arg_f32(&c, 4, "out", &out, &nout))
    return NULL;
  if (!mul3(&c, d0, d1, inner, &total) || !need(&c, "x", nx, total) || !need(&c, "out", nout, total) ||
      !disjoint(&c, span(out, total, 4, "out"), span(x, total, 4, "x"), false))
    return NULL;
  nn_table(c.k)->swap_leading_axes(x, d0, d1, inner, out);
  return undefined(env);
}

napi_value js_lstm_cell_forward(napi_env env, napi_callback_info info) {
  call_t c;
  float *gates, *c_prev, *cn, *h, *tanh_c;
  size_t ngates, ncp, nc, nh, nt, rows, hidden, state, all;
  if (!begin(env, info, &c, 7, "lstmCellForward") || !arg_f32(&c, 0, "gates", &gates, &ngates) ||
      !arg_f32(&c, 1, "cPrev", &c_prev, &ncp) || !arg_size(&c, 2, "rows", &rows) ||
      !arg_size(&c, 3, "hidden", &hidden) || !arg_f32(&c, 4, "c", &cn, &nc) || !arg_f32(&c, 5, "h", &h, &nh) ||
      !arg_f32(&c, 6, "tanhC", &tanh_c, &nt))
    return NULL;
  if (!mul_size(&c, rows, hidden, &state) || !mul_size(&c, state, 4, &all) || !need(&c, "gates", ngates, all) ||
      !need(&c, "cPrev", ncp, state) || !need(&c, "c", nc, state) || !need(&c, "h", nh, state) ||
      !need(&c, "tanhC", nt, state))
    return NULL;
  span_t sg = span(gates, all, 4, "gates"), sp = span(c_prev, state, 4, "cPrev"), sc = span(cn, state, 4, "c"),
         sh = span(h, state, 4, "h"), st = span(tanh_c, state, 4, "tanhC");
  if (!disjoint(&c, sg, sp, false) || !disjoint(&c, sc, sp, true) || !disjoint(&c, sc, sg, false) ||
      !disjoint(&c, sh, sg, false) || !disjoint(&c, sh, sp, false) || !disjoint(&c, sh, sc, false) ||
      !disjoint(&c, st, sg, false) || !disjoint(&c, st, sp, false) || !disjoint(&c, st, sc, false) ||
      !disjoint(&c, st, sh, false))
    return NULL;
  nn_table(c.k)->lstm_cell_forward(gates, c_prev, rows, hidden, cn, h, tanh_c);
  return undefined(env);
}

napi_value js_lstm_cell_backward(napi_env env, napi_callback_info info) {
  call_t c;
  float *act, *c_prev, *tanh_c, *dh, *dc, *dgates;
  size_t nact, ncp, nt, ndh, ndc, ndg, rows, hidden, state, all;
  if (!begin(env, info, &c, 8, "lstmCellBackward") || !arg_f32(&c, 0, "act", &act, &nact) ||
      !arg_f32(&c, 1, "cPrev", &c_prev, &ncp) || !arg_f32(&c, 2, "tanhC", &tanh_c, &nt) ||
      !arg_f32(&c, 3, "dh", &dh, &ndh) || !arg_f32(&c, 4, "dc", &dc, &ndc) || !arg_size(&c, 5, "rows", &rows) ||
      !arg_size(&c, 6, "hidden", &hidden) || !arg_f32(&c, 7, "dGates", &dgates, &ndg))
    return NULL;
  if (!mul_size(&c, rows, hidden, &state) || !mul_size(&c, state, 4, &all) || !need(&c, "act", nact, all) ||
      !need(&c, "cPrev", ncp, state) || !need(&c, "tanhC", nt, state) || !need(&c, "dh", ndh, state) ||
      !need(&c, "dc", ndc, state) || !need(&c, "dGates", ndg, all))
    return NULL;
  span_t sa = span(act, all, 4, "act"), sp = span(c_prev, state, 4, "cPrev"), st = span(tanh_c, state, 4, "tanhC"),
         sh = span(dh, state, 4, "dh"), sc = span(dc, state, 4, "dc"), sg = span(dgates, all, 4, "dGates");
  if (!disjoint(&c, sc, sa, false) || !disjoint(&c, sc, sp, false) || !disjoint(&c, sc, st, false) ||
      !disjoint(&c, sc, sh, false) || !disjoint(&c, sg, sa, false) || !disjoint(&c, sg, sp, false) ||
      !disjoint(&c, sg, st, false) || !disjoint(&c, sg, sh, false) || !disjoint(&c, sg, sc, false))
    return NULL;
  nn_table(c.k)->lstm_cell_backward(act, c_prev, tanh_c, dh, dc, rows, hidden, dgates);
  return undefined(env);
}
