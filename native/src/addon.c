// N-API glue of the native backend: argument checks, the SIMD dispatch and OpenBLAS.
//
// Exports (see src/engine/native.ts for the TypeScript side):
//   paths            { avx512?, avx2?, scalar }: one object of kernel functions per instruction set this
//                    CPU supports; every kernel is also exported at the top level for the best one.
//   info()           { simd, simdPaths, blas, blasCore, blasThreads, threads }
//   setBlasThreads(n)
//   setThreads(n)    this instance's threads (thread_pool.h) and OpenBLAS's; threads() reads them back
//
// Every array argument is checked cheaply: its type, that it is long enough, and that an output does
// not overlap another argument (except an exact alias that the interface allows, e.g. clip's out = x).
// A failed check throws a TypeError or RangeError instead of touching memory.
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <node_api.h>

#include "addon.h"
#include "addon_learned.h"
#include "addon_nn.h"

typedef struct {
  double *scratch;
  size_t scratch_len;
  size_t threads;  /* setThreads: threads of this instance's calls (1 until set) */
  lopt_pool *pool; /* NULL at one thread */
  float *part_buf[LOPT_POOL_MAX_THREADS];
  size_t part_len[LOPT_POOL_MAX_THREADS];
} instance_data;

static instance_data *instance(napi_env env) {
  instance_data *inst = NULL;
  napi_get_instance_data(env, (void **)&inst);
  return inst;
}

// ---- threads --------------------------------------------------------------------------------------

size_t glue_threads(napi_env env, lopt_pool **pool) {
  instance_data *inst = instance(env);
  if (pool) *pool = inst ? inst->pool : NULL;
  return inst && inst->pool ? inst->threads : 1;
}

size_t glue_parts(napi_env env, size_t work, size_t min_per_part, lopt_pool **pool) {
  const size_t threads = glue_threads(env, pool);
  const size_t most = min_per_part ? work / min_per_part : work;
  return threads < most ? threads : (most > 0 ? most : 1);
}

float *glue_part_buffer(napi_env env, size_t part, size_t floats) {
  instance_data *inst = instance(env);
  if (!inst || part >= LOPT_POOL_MAX_THREADS) {
    napi_throw_error(env, NULL, "lopt_native: no instance data for a threaded call");
    return NULL;
  }
  if (inst->part_len[part] < floats) {
    free(inst->part_buf[part]);
    inst->part_buf[part] = malloc(floats * sizeof(float));
    inst->part_len[part] = inst->part_buf[part] ? floats : 0;
  }
  if (!inst->part_buf[part] && floats > 0) {
    napi_throw_error(env, NULL, "lopt_native: out of memory for a threaded call's buffers");
    return NULL;
  }
  return inst->part_buf[part];
}

// ---- errors ---------------------------------------------------------------------------------------

void throw_fmt(napi_env env, bool range, const char *fmt, ...) {
  char message[256];
  va_list args;
  va_start(args, fmt);
  vsnprintf(message, sizeof message, fmt, args);
  va_end(args);
  if (range) {
    napi_throw_range_error(env, "ERR_LOPT_NATIVE_ARG", message);
  } else {
    napi_throw_type_error(env, "ERR_LOPT_NATIVE_ARG", message);
  }
}

// ---- argument access ------------------------------------------------------------------------------

bool begin(napi_env env, napi_callback_info info, call_t *c, size_t expected, const char *fn) {
  void *data = NULL;
  c->env = env;
  c->fn = fn;
  c->argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &c->argc, c->argv, NULL, &data) != napi_ok) {
    throw_fmt(env, false, "%s: cannot read the arguments", fn);
    return false;
  }
  c->k = (const lopt_kernels *)data;
  if (c->argc < expected) {
    throw_fmt(env, false, "%s: expected %zu arguments, got %zu", fn, expected, c->argc);
    return false;
  }
  return true;
}

bool typed(call_t *c, size_t i, const char *name, napi_typedarray_type want, const char *type_name, void **data,
           size_t *len) {
  napi_typedarray_type type;
  if (napi_get_typedarray_info(c->env, c->argv[i], &type, len, data, NULL, NULL) != napi_ok || type != want) {
    throw_fmt(c->env, false, "%s: %s must be a %s", c->fn, name, type_name);
    return false;
  }
  return true;
}

bool arg_f32(call_t *c, size_t i, const char *name, float **data, size_t *len) {
  return typed(c, i, name, napi_float32_array, "Float32Array", (void **)data, len);
}

bool arg_i32(call_t *c, size_t i, const char *name, int32_t **data, size_t *len) {
  return typed(c, i, name, napi_int32_array, "Int32Array", (void **)data, len);
}

bool arg_u8(call_t *c, size_t i, const char *name, uint8_t **data, size_t *len) {
  return typed(c, i, name, napi_uint8_array, "Uint8Array", (void **)data, len);
}

bool arg_num(call_t *c, size_t i, const char *name, double *out) {
  if (napi_get_value_double(c->env, c->argv[i], out) != napi_ok) {
    throw_fmt(c->env, false, "%s: %s must be a number", c->fn, name);
    return false;
  }
  return true;
}

/* A size: an integer in [0, 2^31 − 1] (BLAS takes 32-bit ints). */
bool arg_size(call_t *c, size_t i, const char *name, size_t *out) {
  double v;
  if (!arg_num(c, i, name, &v)) return false;
  if (!(v >= 0.0 && v <= (double)INT_MAX && v == floor(v))) {
    throw_fmt(c->env, true, "%s: %s must be an integer in [0, 2^31), got %g", c->fn, name, v);
    return false;
  }
  *out = (size_t)v;
  return true;
}

/* A boolean, or a number (non-zero is true). */
bool arg_bool(call_t *c, size_t i, const char *name, bool *out) {
  napi_status status = napi_get_value_bool(c->env, c->argv[i], out);
  if (status == napi_ok) return true;
  double v;
  if (napi_get_value_double(c->env, c->argv[i], &v) == napi_ok) {
    *out = v != 0.0 && v == v;
    return true;
  }
  throw_fmt(c->env, false, "%s: %s must be a boolean", c->fn, name);
  return false;
}

bool need(call_t *c, const char *name, size_t have, size_t want) {
  if (have < want) {
    throw_fmt(c->env, true, "%s: %s has %zu elements, needs at least %zu", c->fn, name, have, want);
    return false;
  }
  return true;
}

bool need_exact(call_t *c, const char *name, size_t have, size_t want) {
  if (have != want) {
    throw_fmt(c->env, true, "%s: %s has %zu elements, expected %zu", c->fn, name, have, want);
    return false;
  }
  return true;
}

/* Outputs must not overlap other arguments; allow_same accepts the exact same start (an in-place call). */
bool disjoint(call_t *c, span_t a, span_t b, bool allow_same) {
  if (a.bytes == 0 || b.bytes == 0) return true;
  const char *pa = (const char *)a.p, *pb = (const char *)b.p;
  if (pa >= pb + b.bytes || pb >= pa + a.bytes) return true;
  if (allow_same && pa == pb) return true;
  throw_fmt(c->env, true, allow_same ? "%s: %s and %s overlap (they may only be the very same array)"
                                     : "%s: %s and %s must not overlap",
            c->fn, a.name, b.name);
  return false;
}

bool mul_size(call_t *c, size_t a, size_t b, size_t *out) {
  if (__builtin_mul_overflow(a, b, out)) {
    throw_fmt(c->env, true, "%s: sizes overflow", c->fn);
    return false;
  }
  return true;
}

LOPT_CORE_KERNELS(LOPT_GLUE_DECL)

// ---- matrix products ------------------------------------------------------------------------------

static napi_value js_gemm(napi_env env, napi_callback_info info) {
  call_t c;
  bool ta, tb;
  size_t m, n, k, alen, blen, clen;
  double alpha, beta;
  float *a, *b, *cm;
  if (!begin(env, info, &c, 10, "gemm") || !arg_bool(&c, 0, "transA", &ta) || !arg_bool(&c, 1, "transB", &tb) ||
      !arg_size(&c, 2, "m", &m) || !arg_size(&c, 3, "n", &n) || !arg_size(&c, 4, "k", &k) ||
      !arg_num(&c, 5, "alpha", &alpha) || !arg_f32(&c, 6, "a", &a, &alen) || !arg_f32(&c, 7, "b", &b, &blen) ||
      !arg_num(&c, 8, "beta", &beta) || !arg_f32(&c, 9, "c", &cm, &clen))
    return NULL;
  if (!need(&c, "a", alen, m * k) || !need(&c, "b", blen, k * n) || !need(&c, "c", clen, m * n)) return NULL;
  span_t sc = span(cm, m * n, 4, "c");
  if (!disjoint(&c, sc, span(a, m * k, 4, "a"), false) || !disjoint(&c, sc, span(b, k * n, 4, "b"), false))
    return NULL;
  if (m == 0 || n == 0) return undefined(env);
  if (k == 0) {
    // C ← alpha·0 + beta·C (BLAS would reject lda = 0); beta = 0 does not read C.
    const size_t total = m * n;
    for (size_t i = 0; i < total; i++) cm[i] = (float)(alpha * 0.0 + (beta == 0.0 ? 0.0 : beta * (double)cm[i]));
    return undefined(env);
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
              (int)k, (float)alpha, a, (int)(ta ? m : k), b, (int)(tb ? k : n), (float)beta, cm, (int)n);
  return undefined(env);
}

// ---- elementwise and reductions -------------------------------------------------------------------

napi_value js_fill(napi_env env, napi_callback_info info) {
  call_t c;
  float *x;
  size_t n;
  double value;
  if (!begin(env, info, &c, 2, "fill") || !arg_f32(&c, 0, "x", &x, &n) || !arg_num(&c, 1, "value", &value))
    return NULL;
  c.k->fill(n, x, (float)value);
  return undefined(env);
}

napi_value js_axpy(napi_env env, napi_callback_info info) {
  call_t c;
  double alpha;
  float *x, *y;
  size_t nx, n;
  if (!begin(env, info, &c, 3, "axpy") || !arg_num(&c, 0, "alpha", &alpha) || !arg_f32(&c, 1, "x", &x, &nx) ||
      !arg_f32(&c, 2, "y", &y, &n))
    return NULL;
  if (!need(&c, "x", nx, n) || !disjoint(&c, span(y, n, 4, "y"), span(x, n, 4, "x"), true)) return NULL;
  c.k->axpy(n, alpha, x, y);
  return undefined(env);
}

napi_value js_scale(napi_env env, napi_callback_info info) {
  call_t c;
  double alpha;
  float *x;
  size_t n;
  if (!begin(env, info, &c, 2, "scale") || !arg_num(&c, 0, "alpha", &alpha) || !arg_f32(&c, 1, "x", &x, &n))
    return NULL;
  c.k->scale(n, alpha, x);
  return undefined(env);
}

napi_value js_sum_squares(napi_env env, napi_callback_info info) {
  call_t c;
  float *x;
  size_t n;
  if (!begin(env, info, &c, 1, "sumSquares") || !arg_f32(&c, 0, "x", &x, &n)) return NULL;
  return number(env, c.k->sum_squares(n, x));
}

napi_value js_clip(napi_env env, napi_callback_info info) {
  call_t c;
  float *x, *out;
  size_t n, nout;
  double lo, hi;
  if (!begin(env, info, &c, 4, "clip") || !arg_f32(&c, 0, "x", &x, &n) || !arg_num(&c, 1, "lo", &lo) ||
      !arg_num(&c, 2, "hi", &hi) || !arg_f32(&c, 3, "out", &out, &nout))
    return NULL;
  if (!need(&c, "out", nout, n) || !disjoint(&c, span(out, n, 4, "out"), span(x, n, 4, "x"), true)) return NULL;
  c.k->clip(n, x, (float)lo, (float)hi, out);
  return undefined(env);
}

napi_value js_add_row_vector(napi_env env, napi_callback_info info) {
  call_t c;
  float *y, *bias;
  size_t ny, nbias, rows, cols;
  if (!begin(env, info, &c, 4, "addRowVector") || !arg_f32(&c, 0, "y", &y, &ny) ||
      !arg_f32(&c, 1, "bias", &bias, &nbias) || !arg_size(&c, 2, "rows", &rows) || !arg_size(&c, 3, "cols", &cols))
    return NULL;
  if (!need(&c, "y", ny, rows * cols) || !need(&c, "bias", nbias, cols) ||
      !disjoint(&c, span(y, rows * cols, 4, "y"), span(bias, rows ? cols : 0, 4, "bias"), false))
    return NULL;
  c.k->add_row_vector(y, bias, rows, cols);
  return undefined(env);
}

napi_value js_softmax_cross_entropy(napi_env env, napi_callback_info info) {
  call_t c;
  float *logits, *dlogits = NULL;
  int32_t *labels;
  size_t nlogits, nlabels, rows, cols, ndl = 0;
  if (!begin(env, info, &c, 4, "softmaxCrossEntropy") || !arg_f32(&c, 0, "logits", &logits, &nlogits) ||
      !arg_i32(&c, 1, "labels", &labels, &nlabels) || !arg_size(&c, 2, "rows", &rows) ||
      !arg_size(&c, 3, "cols", &cols))
    return NULL;
  if (c.argc > 4) {
    napi_valuetype t;
    napi_typeof(env, c.argv[4], &t);
    if (t != napi_null && t != napi_undefined && !arg_f32(&c, 4, "dlogits", &dlogits, &ndl)) return NULL;
  }
  const size_t total = rows * cols;
  if (!need(&c, "logits", nlogits, total) || !need(&c, "labels", nlabels, rows)) return NULL;
  if (dlogits) {
    span_t sd = span(dlogits, total, 4, "dlogits");
    if (!need(&c, "dlogits", ndl, total) || !disjoint(&c, sd, span(logits, total, 4, "logits"), true) ||
        !disjoint(&c, sd, span(labels, rows, 4, "labels"), false))
      return NULL;
  }
  for (size_t r = 0; r < rows; r++) {
    if (labels[r] < 0 || (size_t)labels[r] >= cols) {
      throw_fmt(env, true, "softmaxCrossEntropy: labels[%zu] = %d is not in [0, %zu)", r, (int)labels[r], cols);
      return NULL;
    }
  }
  return number(env, c.k->softmax_cross_entropy(logits, labels, rows, cols, dlogits));
}

napi_value js_gather_rows_u8(napi_env env, napi_callback_info info) {
  call_t c;
  uint8_t *src;
  int32_t *indices;
  float *out;
  size_t nsrc, row_length, count, nout;
  double scale;
  if (!begin(env, info, &c, 5, "gatherRowsU8") || !arg_u8(&c, 0, "src", &src, &nsrc) ||
      !arg_size(&c, 1, "rowLength", &row_length) || !arg_i32(&c, 2, "indices", &indices, &count) ||
      !arg_num(&c, 3, "scale", &scale) || !arg_f32(&c, 4, "out", &out, &nout))
    return NULL;
  const size_t total = count * row_length;
  span_t so = span(out, total, 4, "out");
  if (!need(&c, "out", nout, total) || !disjoint(&c, so, span(src, nsrc, 1, "src"), false) ||
      !disjoint(&c, so, span(indices, count, 4, "indices"), false))
    return NULL;
  if (row_length > 0) {
    const size_t rows_in_src = nsrc / row_length;
    for (size_t i = 0; i < count; i++) {
      if (indices[i] < 0 || (size_t)indices[i] >= rows_in_src) {
        throw_fmt(env, true, "gatherRowsU8: indices[%zu] = %d is not a row of src (%zu rows of %zu bytes)", i,
                  (int)indices[i], rows_in_src, row_length);
        return NULL;
      }
    }
  }
  c.k->gather_rows_u8(src, row_length, indices, count, scale, out);
  return undefined(env);
}

// ---- threaded element ranges ----------------------------------------------------------------------

/* Elements per part below which a fused update stays on fewer threads: waking a thread costs a few
   microseconds, about what Adam spends on this many elements (bench/threads.ts measures it). */
#define ELEMENTS_PER_PART 32768
/* Part boundaries fall on multiples of this many elements (a 64-byte line), so each part's vector
   loop sees the alignment an unsplit call gives the same elements. */
#define PART_ALIGN 16

/* One fused update over n elements, cut into parts of its element range: a[] are its arrays (each
   offset by the part's start), s[] and flag its scalars; run does one part and returns its partial sum
   (0 for updates without one). */
typedef struct elementwise_job {
  const lopt_kernels *k;
  size_t n, parts;
  float *a[4];
  double s[7];
  bool flag;
  double (*run)(const struct elementwise_job *job, float *const a[4], size_t len);
  double sums[LOPT_POOL_MAX_THREADS];
} elementwise_job;

static void elementwise_part(void *ctx, size_t index) {
  elementwise_job *job = ctx;
  size_t start, len;
  lopt_pool_part(job->n, job->parts, index, PART_ALIGN, &start, &len);
  float *const a[4] = {job->a[0] ? job->a[0] + start : NULL, job->a[1] ? job->a[1] + start : NULL,
                       job->a[2] ? job->a[2] + start : NULL, job->a[3] ? job->a[3] + start : NULL};
  job->sums[index] = len ? job->run(job, a, len) : 0.0;
}

/* Runs the job on the instance's threads when it is large enough; the partial sums add up in part order,
   so a thread count always gives the same result, and one thread is the plain kernel call. */
static double run_elementwise(napi_env env, elementwise_job *job) {
  lopt_pool *pool;
  job->parts = glue_parts(env, job->n, ELEMENTS_PER_PART, &pool);
  if (job->parts == 1) return job->run(job, job->a, job->n);
  lopt_pool_run(pool, job->parts, elementwise_part, job);
  double total = 0.0;
  for (size_t i = 0; i < job->parts; i++) total += job->sums[i];
  return total;
}

// ---- activations and reductions on several threads -------------------------------------------------

static double relu_forward_part(const elementwise_job *j, float *const a[4], size_t len) {
  j->k->relu_forward(len, a[0], a[1]);
  return 0.0;
}

static double relu_backward_part(const elementwise_job *j, float *const a[4], size_t len) {
  j->k->relu_backward(len, a[0], a[1], a[2]);
  return 0.0;
}

napi_value js_relu_forward(napi_env env, napi_callback_info info) {
  call_t c;
  float *x, *y;
  size_t n, ny;
  if (!begin(env, info, &c, 2, "reluForward") || !arg_f32(&c, 0, "x", &x, &n) || !arg_f32(&c, 1, "y", &y, &ny))
    return NULL;
  if (!need(&c, "y", ny, n) || !disjoint(&c, span(y, n, 4, "y"), span(x, n, 4, "x"), true)) return NULL;
  elementwise_job job = {.k = c.k, .n = n, .a = {x, y}, .run = relu_forward_part};
  run_elementwise(env, &job);
  return undefined(env);
}

napi_value js_relu_backward(napi_env env, napi_callback_info info) {
  call_t c;
  float *y, *dy, *dx;
  size_t n, ndy, ndx;
  if (!begin(env, info, &c, 3, "reluBackward") || !arg_f32(&c, 0, "y", &y, &n) ||
      !arg_f32(&c, 1, "dy", &dy, &ndy) || !arg_f32(&c, 2, "dx", &dx, &ndx))
    return NULL;
  span_t sdx = span(dx, n, 4, "dx");
  if (!need(&c, "dy", ndy, n) || !need(&c, "dx", ndx, n) || !disjoint(&c, sdx, span(dy, n, 4, "dy"), true) ||
      !disjoint(&c, sdx, span(y, n, 4, "y"), true))
    return NULL;
  elementwise_job job = {.k = c.k, .n = n, .a = {y, dy, dx}, .run = relu_backward_part};
  run_elementwise(env, &job);
  return undefined(env);
}

/* sumRows cut into ranges of rows: part 0 sums its rows into out (accumulating or not, as asked), every
   other part into its own partial row, added to out in part order afterwards; so a thread count always
   gives the same result, and one thread is the plain kernel call. */
typedef struct {
  const lopt_kernels *k;
  const float *x;
  size_t rows, cols, parts;
  float *out;
  int accumulate;
  float *partial[LOPT_POOL_MAX_THREADS];
} sum_rows_job;

static void sum_rows_part(void *ctx, size_t index) {
  sum_rows_job *job = ctx;
  size_t r0, len;
  lopt_pool_part(job->rows, job->parts, index, 1, &r0, &len);
  if (index == 0) job->k->sum_rows(job->x + r0 * job->cols, len, job->cols, job->out, job->accumulate);
  else job->k->sum_rows(job->x + r0 * job->cols, len, job->cols, job->partial[index], 0);
}

napi_value js_sum_rows(napi_env env, napi_callback_info info) {
  call_t c;
  float *x, *out;
  size_t nx, nout, rows, cols, total;
  bool accumulate;
  if (!begin(env, info, &c, 5, "sumRows") || !arg_f32(&c, 0, "x", &x, &nx) || !arg_size(&c, 1, "rows", &rows) ||
      !arg_size(&c, 2, "cols", &cols) || !arg_f32(&c, 3, "out", &out, &nout) ||
      !arg_bool(&c, 4, "accumulate", &accumulate) || !mul_size(&c, rows, cols, &total))
    return NULL;
  if (!need(&c, "x", nx, total) || !need(&c, "out", nout, cols) ||
      !disjoint(&c, span(out, cols, 4, "out"), span(x, total, 4, "x"), false))
    return NULL;
  lopt_pool *pool;
  sum_rows_job job = {.k = c.k, .x = x, .rows = rows, .cols = cols, .out = out, .accumulate = accumulate};
  job.parts = glue_parts(env, total, ELEMENTS_PER_PART, &pool);
  if (job.parts > rows) job.parts = rows > 0 ? rows : 1;
  for (size_t i = 1; i < job.parts; i++) {
    job.partial[i] = glue_part_buffer(env, i, cols);
    if (!job.partial[i]) return NULL;
  }
  lopt_pool_run(pool, job.parts, sum_rows_part, &job);
  for (size_t i = 1; i < job.parts; i++)
    for (size_t j = 0; j < cols; j++) out[j] += job.partial[i][j];
  return undefined(env);
}

static double sgd_part(const elementwise_job *j, float *const a[4], size_t len) {
  j->k->sgd_step(len, a[0], a[1], j->s[0]);
  return 0.0;
}

static double sgdm_part(const elementwise_job *j, float *const a[4], size_t len) {
  j->k->sgdm_step(len, a[0], a[1], a[2], j->s[0], j->s[1], j->flag);
  return 0.0;
}

static double adam_part(const elementwise_job *j, float *const a[4], size_t len) {
  const double *s = j->s;
  j->k->adam_step(len, a[0], a[1], a[2], a[3], s[0], s[1], s[2], s[3], s[4], s[5]);
  return 0.0;
}

static double nadamw_part(const elementwise_job *j, float *const a[4], size_t len) {
  const double *s = j->s;
  j->k->nadamw_step(len, a[0], a[1], a[2], a[3], s[0], s[1], s[2], s[3], s[4], s[5], j->flag);
  return 0.0;
}

static double rms_scale_part(const elementwise_job *j, float *const a[4], size_t len) {
  return j->k->rms_scale(len, a[0], a[1], j->s[0], j->s[1], a[2]);
}

// ---- fused optimizer kernels ----------------------------------------------------------------------

napi_value js_sgd_step(napi_env env, napi_callback_info info) {
  call_t c;
  float *p, *g;
  size_t n, ng;
  double lr;
  if (!begin(env, info, &c, 3, "sgdStep") || !arg_f32(&c, 0, "p", &p, &n) || !arg_f32(&c, 1, "g", &g, &ng) ||
      !arg_num(&c, 2, "lr", &lr))
    return NULL;
  if (!need(&c, "g", ng, n) || !disjoint(&c, span(p, n, 4, "p"), span(g, n, 4, "g"), false)) return NULL;
  elementwise_job job = {.k = c.k, .n = n, .a = {p, g}, .s = {lr}, .run = sgd_part};
  run_elementwise(env, &job);
  return undefined(env);
}

napi_value js_sgdm_step(napi_env env, napi_callback_info info) {
  call_t c;
  float *p, *m, *g;
  size_t n, nm, ng;
  double lr, momentum;
  bool nesterov;
  if (!begin(env, info, &c, 6, "sgdmStep") || !arg_f32(&c, 0, "p", &p, &n) || !arg_f32(&c, 1, "m", &m, &nm) ||
      !arg_f32(&c, 2, "g", &g, &ng) || !arg_num(&c, 3, "lr", &lr) || !arg_num(&c, 4, "momentum", &momentum) ||
      !arg_bool(&c, 5, "nesterov", &nesterov))
    return NULL;
  span_t sp = span(p, n, 4, "p"), sm = span(m, n, 4, "m"), sg = span(g, n, 4, "g");
  if (!need(&c, "m", nm, n) || !need(&c, "g", ng, n) || !disjoint(&c, sp, sm, false) ||
      !disjoint(&c, sp, sg, false) || !disjoint(&c, sm, sg, false))
    return NULL;
  elementwise_job job = {.k = c.k, .n = n, .a = {p, m, g}, .s = {lr, momentum}, .flag = nesterov, .run = sgdm_part};
  run_elementwise(env, &job);
  return undefined(env);
}

static bool four_disjoint(call_t *c, float *p, float *m, float *v, float *g, size_t n) {
  span_t sp = span(p, n, 4, "p"), sm = span(m, n, 4, "m"), sv = span(v, n, 4, "v"), sg = span(g, n, 4, "g");
  return disjoint(c, sp, sm, false) && disjoint(c, sp, sv, false) && disjoint(c, sp, sg, false) &&
         disjoint(c, sm, sv, false) && disjoint(c, sm, sg, false) && disjoint(c, sv, sg, false);
}

napi_value js_adam_step(napi_env env, napi_callback_info info) {
  call_t c;
  float *p, *m, *v, *g;
  size_t n, nm, nv, ng;
  double lr, beta1, beta2, eps, bc1, bc2;
  if (!begin(env, info, &c, 10, "adamStep") || !arg_f32(&c, 0, "p", &p, &n) || !arg_f32(&c, 1, "m", &m, &nm) ||
      !arg_f32(&c, 2, "v", &v, &nv) || !arg_f32(&c, 3, "g", &g, &ng) || !arg_num(&c, 4, "lr", &lr) ||
      !arg_num(&c, 5, "beta1", &beta1) || !arg_num(&c, 6, "beta2", &beta2) || !arg_num(&c, 7, "eps", &eps) ||
      !arg_num(&c, 8, "bc1", &bc1) || !arg_num(&c, 9, "bc2", &bc2))
    return NULL;
  if (!need(&c, "m", nm, n) || !need(&c, "v", nv, n) || !need(&c, "g", ng, n) || !four_disjoint(&c, p, m, v, g, n))
    return NULL;
  elementwise_job job = {.k = c.k, .n = n, .a = {p, m, v, g}, .s = {lr, beta1, beta2, eps, bc1, bc2}, .run = adam_part};
  run_elementwise(env, &job);
  return undefined(env);
}

napi_value js_nadamw_step(napi_env env, napi_callback_info info) {
  call_t c;
  float *p, *m, *v, *g;
  size_t n, nm, nv, ng;
  double lr_t, beta1, beta2, eps, l2, decay;
  bool nesterov;
  if (!begin(env, info, &c, 11, "nadamwStep") || !arg_f32(&c, 0, "p", &p, &n) ||
      !arg_f32(&c, 1, "m", &m, &nm) || !arg_f32(&c, 2, "v", &v, &nv) || !arg_f32(&c, 3, "g", &g, &ng) ||
      !arg_num(&c, 4, "lrT", &lr_t) || !arg_num(&c, 5, "beta1", &beta1) || !arg_num(&c, 6, "beta2", &beta2) ||
      !arg_num(&c, 7, "eps", &eps) || !arg_num(&c, 8, "l2", &l2) || !arg_num(&c, 9, "adamwDecay", &decay) ||
      !arg_bool(&c, 10, "nesterov", &nesterov))
    return NULL;
  if (!need(&c, "m", nm, n) || !need(&c, "v", nv, n) || !need(&c, "g", ng, n) || !four_disjoint(&c, p, m, v, g, n))
    return NULL;
  elementwise_job job = {.k = c.k, .n = n, .a = {p, m, v, g}, .s = {lr_t, beta1, beta2, eps, l2, decay},
                        .flag = nesterov, .run = nadamw_part};
  run_elementwise(env, &job);
  return undefined(env);
}

napi_value js_rms_scale(napi_env env, napi_callback_info info) {
  call_t c;
  float *v, *g, *u;
  size_t nv, n, nu;
  double decay, eps;
  if (!begin(env, info, &c, 5, "rmsScale") || !arg_f32(&c, 0, "v", &v, &nv) || !arg_f32(&c, 1, "g", &g, &n) ||
      !arg_num(&c, 2, "decay", &decay) || !arg_num(&c, 3, "eps", &eps) || !arg_f32(&c, 4, "u", &u, &nu))
    return NULL;
  span_t sv = span(v, n, 4, "v"), sg = span(g, n, 4, "g"), su = span(u, n, 4, "u");
  if (!need(&c, "v", nv, n) || !need(&c, "u", nu, n) || !disjoint(&c, sv, sg, false) ||
      !disjoint(&c, sv, su, false) || !disjoint(&c, su, sg, true))
    return NULL;
  elementwise_job job = {.k = c.k, .n = n, .a = {v, g, u}, .s = {decay, eps}, .run = rms_scale_part};
  return number(env, run_elementwise(env, &job));
}

/* scaleByFactors cut into ranges of axis a (a matrix's rows) when there is no leading axis: rows
   [a0, a1) read g, u and fWithoutB from row a0 on and all of fWithoutA. */
typedef struct {
  const lopt_kernels *k;
  const float *g, *fa, *fb;
  float *u;
  size_t dims[5], parts;
  double sums[LOPT_POOL_MAX_THREADS];
} factors_job;

static void factors_part(void *ctx, size_t index) {
  factors_job *job = ctx;
  size_t a0, rows;
  lopt_pool_part(job->dims[1], job->parts, index, 1, &a0, &rows);
  const size_t mid = job->dims[2], row = mid * job->dims[3] * job->dims[4];
  const size_t dims[5] = {1, rows, mid, job->dims[3], job->dims[4]};
  job->sums[index] = rows ? job->k->scale_by_factors(job->g + a0 * row, dims, job->fa,
                                                     job->fb + a0 * mid * job->dims[4], job->u + a0 * row)
                          : 0.0;
}

static double run_factors(napi_env env, factors_job *job, size_t total) {
  lopt_pool *pool = NULL;
  job->parts = job->dims[0] == 1 ? glue_parts(env, total, ELEMENTS_PER_PART, &pool) : 1;
  if (job->parts > job->dims[1]) job->parts = job->dims[1];
  if (job->parts <= 1) return job->k->scale_by_factors(job->g, job->dims, job->fa, job->fb, job->u);
  lopt_pool_run(pool, job->parts, factors_part, job);
  double sum = 0.0;
  for (size_t i = 0; i < job->parts; i++) sum += job->sums[i];
  return sum;
}

/* Reads dims [pre, na, mid, nb, post] from arguments first..first+4 and the derived sizes. */
static bool arg_dims(call_t *c, size_t first, size_t dims[5], size_t *total, size_t *without_a,
                     size_t *without_b) {
  static const char *names[5] = {"dims[0] (pre)", "dims[1] (na)", "dims[2] (mid)", "dims[3] (nb)",
                                 "dims[4] (post)"};
  for (size_t i = 0; i < 5; i++)
    if (!arg_size(c, first + i, names[i], &dims[i])) return false;
  size_t pm, pmp;
  return mul_size(c, dims[0], dims[2], &pm) && mul_size(c, pm, dims[4], &pmp) &&
         mul_size(c, pmp, dims[3], without_a) && mul_size(c, pmp, dims[1], without_b) &&
         mul_size(c, *without_a, dims[1], total);
}

napi_value js_factored_moments(napi_env env, napi_callback_info info) {
  call_t c;
  float *g, *va, *vb;
  size_t ng, nva, nvb, dims[5], total, without_a, without_b;
  double decay, eps;
  if (!begin(env, info, &c, 10, "factoredMoments") || !arg_f32(&c, 0, "g", &g, &ng) ||
      !arg_dims(&c, 1, dims, &total, &without_a, &without_b) || !arg_num(&c, 6, "decay", &decay) ||
      !arg_num(&c, 7, "eps", &eps) || !arg_f32(&c, 8, "vWithoutA", &va, &nva) ||
      !arg_f32(&c, 9, "vWithoutB", &vb, &nvb))
    return NULL;
  span_t sg = span(g, total, 4, "g"), sa = span(va, nva, 4, "vWithoutA"), sb = span(vb, nvb, 4, "vWithoutB");
  if (!need(&c, "g", ng, total) || !need_exact(&c, "vWithoutA", nva, without_a) ||
      !need_exact(&c, "vWithoutB", nvb, without_b) || !disjoint(&c, sa, sg, false) ||
      !disjoint(&c, sb, sg, false) || !disjoint(&c, sa, sb, false))
    return NULL;
  // Scratch: the sums over axis a for one leading index, then post sums over axis b.
  instance_data *inst = instance(env);
  const size_t want = dims[2] * dims[3] * dims[4] + dims[4];
  if (inst && inst->scratch_len < want) {
    double *grown = realloc(inst->scratch, want * sizeof(double));
    if (!grown) {
      napi_throw_error(env, NULL, "factoredMoments: out of memory for the scratch buffer");
      return NULL;
    }
    inst->scratch = grown;
    inst->scratch_len = want;
  }
  if (!inst || (want > 0 && !inst->scratch)) {
    napi_throw_error(env, NULL, "factoredMoments: no scratch buffer");
    return NULL;
  }
  c.k->factored_moments(g, dims, decay, eps, va, vb, inst->scratch);
  return undefined(env);
}

napi_value js_scale_by_factors(napi_env env, napi_callback_info info) {
  call_t c;
  float *g, *fa, *fb, *u;
  size_t ng, nfa, nfb, nu, dims[5], total, without_a, without_b;
  if (!begin(env, info, &c, 9, "scaleByFactors") || !arg_f32(&c, 0, "g", &g, &ng) ||
      !arg_dims(&c, 1, dims, &total, &without_a, &without_b) || !arg_f32(&c, 6, "fWithoutA", &fa, &nfa) ||
      !arg_f32(&c, 7, "fWithoutB", &fb, &nfb) || !arg_f32(&c, 8, "u", &u, &nu))
    return NULL;
  span_t su = span(u, total, 4, "u");
  if (!need(&c, "g", ng, total) || !need(&c, "fWithoutA", nfa, without_a) ||
      !need(&c, "fWithoutB", nfb, without_b) || !need(&c, "u", nu, total) ||
      !disjoint(&c, su, span(g, total, 4, "g"), true) ||
      !disjoint(&c, su, span(fa, without_a, 4, "fWithoutA"), false) ||
      !disjoint(&c, su, span(fb, without_b, 4, "fWithoutB"), false))
    return NULL;
  factors_job job = {.k = c.k, .g = g, .fa = fa, .fb = fb, .u = u, .dims = {dims[0], dims[1], dims[2], dims[3], dims[4]}};
  return number(env, run_factors(env, &job, total));
}

// ---- BLAS, info and module setup ------------------------------------------------------------------

static const lopt_kernels *detect(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
      __builtin_cpu_supports("popcnt"))
    return &lopt_kernels_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
      __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt"))
    return &lopt_kernels_avx2;
#endif
  return &lopt_kernels_scalar;
}

static napi_value js_set_blas_threads(napi_env env, napi_callback_info info) {
  call_t c;
  size_t n;
  if (!begin(env, info, &c, 1, "setBlasThreads") || !arg_size(&c, 0, "threads", &n)) return NULL;
  if (n < 1) {
    throw_fmt(env, true, "setBlasThreads: threads must be at least 1");
    return NULL;
  }
  openblas_set_num_threads((int)n);
  return undefined(env);
}

/* setThreads(n): this instance's calls run on n threads (the fused updates and convolutions cut into
   parts, see glue_parts), and OpenBLAS, process-wide, on n threads too. */
static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  call_t c;
  size_t n;
  if (!begin(env, info, &c, 1, "setThreads") || !arg_size(&c, 0, "threads", &n)) return NULL;
  if (n < 1 || n > LOPT_POOL_MAX_THREADS) {
    throw_fmt(env, true, "setThreads: threads must be in [1, %d], got %zu", LOPT_POOL_MAX_THREADS, n);
    return NULL;
  }
  instance_data *inst = instance(env);
  if (!inst) {
    napi_throw_error(env, NULL, "setThreads: no instance data");
    return NULL;
  }
  if (n != glue_threads(env, NULL)) {
    lopt_pool *pool = n > 1 ? lopt_pool_create(n) : NULL;
    if (n > 1 && !pool) {
      throw_fmt(env, true, "setThreads: cannot start %zu threads", n);
      return NULL;
    }
    lopt_pool_destroy(inst->pool);
    inst->pool = pool;
    inst->threads = n;
  }
  // Only on a change: another thread may be inside a gemm, and its count is already right.
  if (openblas_get_num_threads() != (int)n) openblas_set_num_threads((int)n);
  return undefined(env);
}

static napi_value js_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_uint32(env, (uint32_t)glue_threads(env, NULL), &v);
  return v;
}

static void set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  napi_create_string_utf8(env, value ? value : "", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  (void)info;
  const lopt_kernels *best = detect();
  napi_value obj, paths, v;
  napi_create_object(env, &obj);
  set_string(env, obj, "simd", best->name);
  napi_create_array(env, &paths);
  uint32_t i = 0;
#if defined(__x86_64__) || defined(__i386__)
  const lopt_kernels *all[] = {&lopt_kernels_avx512, &lopt_kernels_avx2, &lopt_kernels_scalar};
  bool on = false;
  for (size_t j = 0; j < 3; j++) {
    on = on || all[j] == best;
    if (!on) continue;
    napi_create_string_utf8(env, all[j]->name, NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, paths, i++, v);
  }
#else
  napi_create_string_utf8(env, "scalar", NAPI_AUTO_LENGTH, &v);
  napi_set_element(env, paths, i++, v);
#endif
  napi_set_named_property(env, obj, "simdPaths", paths);
  set_string(env, obj, "blas", openblas_get_config());
  set_string(env, obj, "blasCore", openblas_get_corename());
  napi_create_int32(env, openblas_get_num_threads(), &v);
  napi_set_named_property(env, obj, "blasThreads", v);
  napi_create_uint32(env, (uint32_t)glue_threads(env, NULL), &v);
  napi_set_named_property(env, obj, "threads", v);
  return obj;
}

static void init_blas_once(void) {
  // Single-threaded BLAS by default: the GEMMs are small and the cores go to worker threads.
  // Done once per process, so a worker thread loading the addon does not undo setBlasThreads.
  openblas_set_num_threads(1);
}

static void finalize_instance(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  instance_data *inst = data;
  lopt_pool_destroy(inst->pool);
  for (size_t i = 0; i < LOPT_POOL_MAX_THREADS; i++) free(inst->part_buf[i]);
  free(inst->scratch);
  free(inst);
}

typedef struct {
  const char *name;
  napi_callback cb;
} kernel_fn;

/* The exports: every kernel of the lists in kernels.h, nn_kernels.h and learned_kernels.h under its jsName,
   and the two that only the glue implements. */
#define LOPT_EXPORT(field, js, ret, params) {js, js_##field},

static const kernel_fn kernel_fns[] = {
    {"gemm", js_gemm},
    LOPT_CORE_KERNELS(LOPT_EXPORT)
    {"conv2dWorkspaceSize", js_conv2d_workspace_size},
    LOPT_NN_KERNELS(LOPT_EXPORT)
    LOPT_LEARNED_KERNELS(LOPT_EXPORT)
};

#define N_KERNEL_FNS (sizeof kernel_fns / sizeof kernel_fns[0])

static napi_status define_kernels(napi_env env, napi_value target, const lopt_kernels *k) {
  napi_property_descriptor props[N_KERNEL_FNS];
  for (size_t i = 0; i < N_KERNEL_FNS; i++) {
    napi_property_descriptor d = {kernel_fns[i].name, NULL, kernel_fns[i].cb, NULL, NULL, NULL,
                                  napi_enumerable, (void *)k};
    props[i] = d;
  }
  return napi_define_properties(env, target, N_KERNEL_FNS, props);
}

NAPI_MODULE_INIT() {
  static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
  pthread_once(&blas_once, init_blas_once);

  instance_data *inst = calloc(1, sizeof *inst);
  if (!inst || napi_set_instance_data(env, inst, finalize_instance, NULL) != napi_ok) {
    free(inst);
    napi_throw_error(env, NULL, "lopt_native: cannot allocate instance data");
    return NULL;
  }

  const lopt_kernels *best = detect();
  napi_value paths, obj;
  napi_create_object(env, &paths);
#if defined(__x86_64__) || defined(__i386__)
  const lopt_kernels *all[] = {&lopt_kernels_avx512, &lopt_kernels_avx2, &lopt_kernels_scalar};
  bool on = false;
  for (size_t j = 0; j < 3; j++) {
    on = on || all[j] == best;
    if (!on) continue;  // instruction sets this CPU lacks are not offered
    napi_create_object(env, &obj);
    define_kernels(env, obj, all[j]);
    napi_set_named_property(env, paths, all[j]->name, obj);
  }
#else
  napi_create_object(env, &obj);
  define_kernels(env, obj, &lopt_kernels_scalar);
  napi_set_named_property(env, paths, "scalar", obj);
#endif
  napi_set_named_property(env, exports, "paths", paths);
  define_kernels(env, exports, best);

  napi_property_descriptor extra[] = {
      {"info", NULL, js_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setBlasThreads", NULL, js_set_blas_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, js_set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threads", NULL, js_threads, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof extra / sizeof extra[0], extra);
  return exports;
}
