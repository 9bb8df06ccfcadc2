// N-API glue of the learned-optimizer kernels (learned_kernels.h), with the argument checks of addon.h.
// Each function finds the table of the instruction set addon.c chose for the call (c.k) and checks
// every argument before the kernel runs: types, the packed layout, exact array lengths and that no
// output overlaps another argument.
//
// JavaScript signatures (src/engine/native.ts wraps them into Backend.mlpLoptAccumulate, ...):
//   mlpLoptAccumulate(p, g, acc, decays, layout, stats, moments)
//   mlpLoptApply(p, g, acc, layout, stats, sizes, params, scales, inputs, expMult, stepMult, extraSums)
//   nnAdamStep(p, m, v, g, lr, beta1, beta2, eps, stats)
// with layout = Int32Array [nm, nr, na, flags, pre, na, mid, nb, post] (src/engine/mlp-lopt.ts).

#include "addon_learned.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOPT_MAX_DECAYS 4096
#define LOPT_MAX_WIDTH (1 << 20)

static const lopt_learned_kernels *learned_table(const lopt_kernels *k) {
#if defined(__x86_64__) || defined(__i386__)
  if (k == &lopt_kernels_avx512) return &lopt_learned_kernels_avx512;
  if (k == &lopt_kernels_avx2) return &lopt_learned_kernels_avx2;
#endif
  (void)k;
  return &lopt_learned_kernels_scalar;
}

static bool arg_f64(call_t *c, size_t i, const char *name, double **data, size_t *len) {
  return typed(c, i, name, napi_float64_array, "Float64Array", (void **)data, len);
}

/* Output `out` must not overlap any of the others (count of them). */
static bool disjoint_all(call_t *c, span_t out, const span_t *others, size_t count) {
  for (size_t i = 0; i < count; i++)
    if (!disjoint(c, out, others[i], false)) return false;
  return true;
}

/* Reads p, g, acc (arguments 0-2), the packed layout and the factored statistics into t and fo. */
static bool lopt_read_tensor(call_t *c, size_t layout_i, size_t stats_i, lopt_mlp_tensor *t, lopt_mlp_features *fo,
                             size_t *stats_len, int *flags_out) {
  float *p, *g, *acc, *stats;
  int32_t *lay;
  size_t np, ng, nacc, nlay, nstats;
  if (!arg_f32(c, 0, "p", &p, &np) || !arg_f32(c, 1, "g", &g, &ng) || !arg_f32(c, 2, "acc", &acc, &nacc) ||
      !arg_i32(c, layout_i, "layout", &lay, &nlay) || !arg_f32(c, stats_i, "stats", &stats, &nstats))
    return false;
  if (!need(c, "layout", nlay, 9)) return false;
  for (size_t i = 0; i < 9; i++) {
    if (lay[i] < 0) {
      throw_fmt(c->env, true, "%s: layout[%zu] = %d must not be negative", c->fn, i, (int)lay[i]);
      return false;
    }
  }
  const size_t nm = (size_t)lay[0], nr = (size_t)lay[1], na = (size_t)lay[2];
  const int flags = (int)lay[3];
  if (nm > LOPT_MAX_DECAYS || nr > LOPT_MAX_DECAYS || na > LOPT_MAX_DECAYS || (flags & ~63)) {
    throw_fmt(c->env, true, "%s: layout [%d, %d, %d, %d] is not a valid layout", c->fn, (int)lay[0], (int)lay[1],
              (int)lay[2], (int)lay[3]);
    return false;
  }
  if (lopt_mlp_feature_offsets(nm, nr, na, flags, fo) != 0) {
    throw_fmt(c->env, true, "%s: momentum features pair %zu momenta with %zu rms and %zu AdaFactor decays: counts must be "
              "equal or 1", c->fn, nm, nr, na);
    return false;
  }
  const size_t n = np;
  if (!need_exact(c, "g", ng, n)) return false;
  const int factored = (flags & LOPT_F_FACTORED) != 0;
  size_t size_row = 0, size_col = 0;
  if (factored) {
    if (na == 0) {
      throw_fmt(c->env, true, "%s: a factored tensor needs AdaFactor decays (na = 0)", c->fn);
      return false;
    }
    const size_t pre = (size_t)lay[4], d_a = (size_t)lay[5], mid = (size_t)lay[6], nb = (size_t)lay[7],
                 post = (size_t)lay[8];
    size_t pm, pmp, size_a, size_b, total, both, per_decay, want;
    if (!mul_size(c, pre, mid, &pm) || !mul_size(c, pm, post, &pmp) || !mul_size(c, pmp, nb, &size_a) ||
        !mul_size(c, pmp, d_a, &size_b) || !mul_size(c, size_a, d_a, &total))
      return false;
    if (total != n || n == 0) {
      throw_fmt(c->env, true, "%s: factored dims [%zu, %zu, %zu, %zu, %zu] hold %zu elements, p has %zu", c->fn, pre,
                d_a, mid, nb, post, total, n);
      return false;
    }
    size_row = (flags & LOPT_F_ROW_IS_A) ? size_a : size_b;
    size_col = (flags & LOPT_F_ROW_IS_A) ? size_b : size_a;
    both = size_row + size_col;
    if (!mul_size(c, 2 * na, both, &per_decay)) return false;
    want = per_decay;
    if (!need_exact(c, "stats", nstats, want)) return false;
    t->dims[0] = pre, t->dims[1] = d_a, t->dims[2] = mid, t->dims[3] = nb, t->dims[4] = post;
  } else {
    for (size_t i = 0; i < 5; i++) t->dims[i] = 0;
  }
  size_t per_element = nm + nr + (factored ? 0 : na), acc_len;
  if (!mul_size(c, per_element, n, &acc_len) || !need_exact(c, "acc", nacc, acc_len)) return false;
  t->n = n, t->nm = nm, t->nr = nr, t->na = na, t->flags = flags;
  t->size_row = size_row, t->size_col = size_col;
  t->p = p, t->g = g, t->acc = acc, t->decays = NULL, t->stats = stats;
  *stats_len = factored ? nstats : 0;
  *flags_out = flags;
  return true;
}

napi_value js_mlp_accumulate(napi_env env, napi_callback_info info) {
  call_t c;
  lopt_mlp_tensor t;
  lopt_mlp_features fo;
  float *decays;
  double *moments;
  size_t ndecays, nmoments, nstats;
  int flags;
  if (!begin(env, info, &c, 7, "mlpLoptAccumulate") || !lopt_read_tensor(&c, 4, 5, &t, &fo, &nstats, &flags) ||
      !arg_f32(&c, 3, "decays", &decays, &ndecays) || !arg_f64(&c, 6, "moments", &moments, &nmoments))
    return NULL;
  if (!need_exact(&c, "decays", ndecays, t.nm + t.nr + t.na) || !need(&c, "moments", nmoments, fo.count))
    return NULL;
  const int want_sums = nmoments >= 2 * fo.count;
  const size_t acc_len = (t.nm + t.nr + ((flags & LOPT_F_FACTORED) ? 0 : t.na)) * t.n;
  const span_t sacc = span(t.acc, acc_len, 4, "acc"), smom = span(moments, (want_sums ? 2 : 1) * fo.count, 8, "moments");
  const span_t sstats = span(t.stats, nstats, 4, "stats");
  const span_t others[] = {span(t.p, t.n, 4, "p"), span(t.g, t.n, 4, "g"), span(decays, ndecays, 4, "decays"), sstats,
                           smom};
  /* Outputs: acc, stats (v_row, v_col and the factors), moments. */
  if (!disjoint_all(&c, sacc, others, 5) || !disjoint_all(&c, sstats, others, 3) ||
      !disjoint_all(&c, smom, others, 4))
    return NULL;
  t.decays = decays;
  if (learned_table(c.k)->mlp_accumulate(&t, &fo, moments, want_sums) != 0) {
    napi_throw_error(env, NULL, "mlpLoptAccumulate: out of memory for the scratch buffers");
    return NULL;
  }
  return undefined(env);
}

napi_value js_mlp_apply(napi_env env, napi_callback_info info) {
  call_t c;
  lopt_mlp_tensor t;
  lopt_mlp_features fo;
  int32_t *sizes;
  float *params, *scales, *inputs;
  double exp_mult, step_mult, *extra;
  size_t nsizes, nparams, nscales, ninputs, nextra, nstats;
  int flags;
  if (!begin(env, info, &c, 12, "mlpLoptApply") || !lopt_read_tensor(&c, 3, 4, &t, &fo, &nstats, &flags) ||
      !arg_i32(&c, 5, "sizes", &sizes, &nsizes) || !arg_f32(&c, 6, "params", &params, &nparams) ||
      !arg_f32(&c, 7, "scales", &scales, &nscales) || !arg_f32(&c, 8, "inputs", &inputs, &ninputs) ||
      !arg_num(&c, 9, "expMult", &exp_mult) || !arg_num(&c, 10, "stepMult", &step_mult) ||
      !arg_f64(&c, 11, "extraSums", &extra, &nextra))
    return NULL;
  if (nsizes < 2) {
    throw_fmt(env, true, "mlpLoptApply: sizes needs at least 2 entries (inputs and outputs)");
    return NULL;
  }
  size_t total = 0;
  for (size_t l = 0; l < nsizes; l++) {
    if (sizes[l] < 1 || sizes[l] > LOPT_MAX_WIDTH) {
      throw_fmt(env, true, "mlpLoptApply: sizes[%zu] = %d is not a layer width", l, (int)sizes[l]);
      return NULL;
    }
    if (l > 0) total += (size_t)sizes[l - 1] * (size_t)sizes[l] + (size_t)sizes[l];
  }
  if ((size_t)sizes[0] != fo.count + ninputs) {
    throw_fmt(env, true, "mlpLoptApply: the net takes %d inputs, but there are %zu features and %zu per-tensor inputs",
              (int)sizes[0], fo.count, ninputs);
    return NULL;
  }
  const size_t outs = (size_t)sizes[nsizes - 1];
  if (outs < 2) {
    throw_fmt(env, true, "mlpLoptApply: the net needs at least 2 outputs (direction and magnitude)");
    return NULL;
  }
  if (!need_exact(&c, "params", nparams, total) || !need_exact(&c, "scales", nscales, fo.count) ||
      !need(&c, "extraSums", nextra, outs - 2))
    return NULL;
  const size_t acc_len = (t.nm + t.nr + ((flags & LOPT_F_FACTORED) ? 0 : t.na)) * t.n;
  const span_t sp = span(t.p, t.n, 4, "p"), sex = span(extra, outs - 2, 8, "extraSums");
  const span_t others[] = {span(t.g, t.n, 4, "g"), span(t.acc, acc_len, 4, "acc"), span(t.stats, nstats, 4, "stats"),
                           span(sizes, nsizes, 4, "sizes"), span(params, nparams, 4, "params"),
                           span(scales, nscales, 4, "scales"), span(inputs, ninputs, 4, "inputs"), sex};
  if (!disjoint_all(&c, sp, others, 8) || !disjoint_all(&c, sex, others, 7)) return NULL;
  const lopt_mlp_net net = {nsizes - 1, sizes, params, scales, inputs, (float)exp_mult, (float)step_mult};
  if (learned_table(c.k)->mlp_apply(&t, &fo, &net, (flags & LOPT_F_GEMM) != 0, extra) != 0) {
    napi_throw_error(env, NULL, "mlpLoptApply: out of memory for the scratch buffers");
    return NULL;
  }
  return undefined(env);
}

napi_value js_nn_adam_step(napi_env env, napi_callback_info info) {
  call_t c;
  float *p, *m, *v, *g;
  double lr, beta1, beta2, eps, *stats;
  size_t n, nm, nv, ng, nstats;
  if (!begin(env, info, &c, 9, "nnAdamStep") || !arg_f32(&c, 0, "p", &p, &n) || !arg_f32(&c, 1, "m", &m, &nm) ||
      !arg_f32(&c, 2, "v", &v, &nv) || !arg_f32(&c, 3, "g", &g, &ng) || !arg_num(&c, 4, "lr", &lr) ||
      !arg_num(&c, 5, "beta1", &beta1) || !arg_num(&c, 6, "beta2", &beta2) || !arg_num(&c, 7, "eps", &eps) ||
      !arg_f64(&c, 8, "stats", &stats, &nstats))
    return NULL;
  if (!need_exact(&c, "m", nm, n) || !need_exact(&c, "v", nv, n) || !need_exact(&c, "g", ng, n) ||
      !need(&c, "stats", nstats, 9))
    return NULL;
  const span_t sp = span(p, n, 4, "p"), sm = span(m, n, 4, "m"), sv = span(v, n, 4, "v"), sg = span(g, n, 4, "g"),
               ss = span(stats, 9, 8, "stats");
  const span_t all[] = {sp, sm, sv, sg, ss};
  for (size_t i = 0; i < 5; i++)
    for (size_t j = i + 1; j < 5; j++)
      if (!disjoint(&c, all[i], all[j], false)) return NULL;
  learned_table(c.k)->nn_adam_step(n, p, m, v, g, lr, beta1, beta2, eps, stats);
  return undefined(env);
}
