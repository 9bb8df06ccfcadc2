// Kernel bodies of the learned-optimizer kernels, included by learned_kernels.c once per instruction set
// with K(name) appending the set's suffix; the surrounding `#pragma GCC target` picks the instructions.
//
// The per-parameter MLP optimizer makes two passes over each tensor (plus, for factored tensors, one
// read-only pass over g first, for the row and column means of g² that every feature depends on):
// - accumulate: per block of CH elements, update the accumulators, build the features and add each
//   feature's square (and value) to CH float lane sums, flushed into double sums every FLUSH blocks.
//   The broadcast features of a factored tensor (v_row, v_col and their rsqrt) are summed from the
//   small row and column arrays times their multiplicity instead.
// - apply, elementwise: the feature normalisation is folded into W0, the per-tensor inputs (time
//   features, ...) into b0, and the broadcast features into per-row and per-column contributions to
//   the first layer. Per block of CH elements the per-element features are built in an L1 block
//   buffer and the MLP runs with its accumulators in vf registers (four output units at a time); the
//   step is written straight into p. No temporary grows with the tensor.
// - small_fc_lopt's layout on factored tensors (n ≥ CH) with 2, 4 or 8 hidden units takes the register
//   loops of learned_small_impl.h for both passes instead.
// - apply, gemm: the straightforward form: blocks of GB elements × (all features, normalised, and the
//   per-tensor inputs) times W0 with cblas_sgemm, then the next layers likewise.
// Blocks that straddle runs (short rows, e.g. a [128, 10] matrix) read the row and column statistics
// through per-element index lists. exp and log are polynomial (lopt_math.h: a few ulp; they vectorize,
// libm does not without -ffast-math). Everything is float32 except the sums. With -ffp-contract=off and fixed
// summation orders every instruction set gives the same bits, except that the register loops fuse
// multiply-adds explicitly where the instruction set has FMA (AVX2 and AVX-512 give the same bits,
// the baseline path rounds the products); the gemm path's OpenBLAS kernel depends on the CPU only.

#ifndef K
#error "learned_kernels_impl.h is included by learned_kernels.c only"
#endif

#define INLINE static inline __attribute__((always_inline))

#include "lopt_math.h"

INLINE vf K(relu)(vf a) {
#ifdef __AVX512F__
  /* maxps(0, a) = 0 > a ? 0 : a: one instruction, NaN stays NaN, the same bits as below. */
  __m512 x;
  memcpy(&x, &a, sizeof x);
  x = _mm512_max_ps(_mm512_setzero_ps(), x);
  memcpy(&a, &x, sizeof a);
  return a;
#elif defined(__AVX2__)
  __m256 x[2];
  memcpy(x, &a, sizeof x);
  x[0] = _mm256_max_ps(_mm256_setzero_ps(), x[0]);
  x[1] = _mm256_max_ps(_mm256_setzero_ps(), x[1]);
  memcpy(&a, x, sizeof a);
  return a;
#else
  const vi negative = a < 0.0f; /* NaN stays NaN, like max(x, 0) in LO */
  return (vf)((vi)a & ~negative);
#endif
}

/* Lane masks (−1 or 0) of a < b and of a being NaN, and the lanes of `yes` where mask, else of `no`.
   AVX2 works on the two halves with intrinsics: GCC lowers these 16-lane operations through scalars
   there. */
INLINE vi K(less)(vf a, vf b) {
#if defined(__AVX2__) && !defined(__AVX512F__)
  __m256 x[2], y[2];
  __m256i m[2];
  memcpy(x, &a, sizeof x);
  memcpy(y, &b, sizeof y);
  m[0] = _mm256_castps_si256(_mm256_cmp_ps(x[0], y[0], _CMP_LT_OQ));
  m[1] = _mm256_castps_si256(_mm256_cmp_ps(x[1], y[1], _CMP_LT_OQ));
  vi r;
  memcpy(&r, m, sizeof r);
  return r;
#else
  return a < b;
#endif
}

INLINE vi K(is_nan)(vf a) {
#if defined(__AVX2__) && !defined(__AVX512F__)
  __m256 x[2];
  __m256i m[2];
  memcpy(x, &a, sizeof x);
  m[0] = _mm256_castps_si256(_mm256_cmp_ps(x[0], x[0], _CMP_UNORD_Q));
  m[1] = _mm256_castps_si256(_mm256_cmp_ps(x[1], x[1], _CMP_UNORD_Q));
  vi r;
  memcpy(&r, m, sizeof r);
  return r;
#else
  return a != a;
#endif
}

INLINE vf K(select)(vi mask, vf yes, vf no) {
#if defined(__AVX2__) && !defined(__AVX512F__)
  __m256 y[2], n[2], m[2];
  memcpy(y, &yes, sizeof y);
  memcpy(n, &no, sizeof n);
  memcpy(m, &mask, sizeof m);
  n[0] = _mm256_blendv_ps(n[0], y[0], m[0]);
  n[1] = _mm256_blendv_ps(n[1], y[1], m[1]);
  memcpy(&no, n, sizeof no);
  return no;
#else
  return (vf)((mask & (vi)yes) | (~mask & (vi)no));
#endif
}

INLINE vf K(load)(const float *p) {
  vf x;
  memcpy(&x, p, sizeof x);
  return x;
}

INLINE void K(store)(float *p, vf x) { memcpy(p, &x, sizeof x); }

/* v in every lane (a broadcast, which AVX-512 folds into the instruction that uses it). */
INLINE vf K(splat)(float v) {
  const vf x = {v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v};
  return x;
}

/* CH lanes from src[off …] (stride 1) or src[off] broadcast (stride 0). */
INLINE vf K(load_strided)(const float *src, size_t off, size_t stride) {
  return stride ? K(load)(src + off) : K(splat)(src[off]);
}

/* CH lanes of src at a block's row (or column) indices: idx[l] when given, else off + l·stride. */
INLINE vf K(load_at)(const float *src, const size_t *idx, size_t off, size_t stride) {
  if (!idx) return K(load_strided)(src, off, stride);
#if defined(__AVX512F__) && defined(__AVX512DQ__)
  /* Two 8-lane gathers: the same values as the scalar loop below without its 16 stores and the
     stalled vector load after them (short rows, e.g. a [128, 10] matrix, take this path per block). */
  if (sizeof(size_t) == 8) {
    __m512i lo, hi;
    memcpy(&lo, idx, sizeof lo);
    memcpy(&hi, idx + 8, sizeof hi);
    const __m512 v = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_i64gather_ps(lo, src, 4)),
                                        _mm512_i64gather_ps(hi, src, 4), 1);
    vf x;
    memcpy(&x, &v, sizeof x);
    return x;
  }
#endif
  float a[CH];
  LOOP for (size_t l = 0; l < CH; l++) a[l] = src[idx[l]];
  return K(load)(a);
}

INLINE vf K(vsqrt)(vf x) {
  float a[CH];
  memcpy(a, &x, sizeof a);
  LOOP for (size_t l = 0; l < CH; l++) a[l] = sqrtf(a[l]);
  memcpy(&x, a, sizeof a);
  return x;
}

INLINE vf K(rsqrt)(vf x) { return 1.0f / K(vsqrt)(x); }

/* max(x, lo) that keeps NaN (as jnp.maximum). */
INLINE vf K(max_keep_nan)(vf x, float lo) {
  const vf l = K(splat)(lo);
  return K(select)(K(less)(x, l), l, x);
}

/* ---- walking a tensor: runs on which the row and column indices advance by 0 or 1 ---------------- */

typedef struct {
  size_t run, start, end, row_off, row_stride, col_off, col_stride;
  size_t p0, ia, im, ib; /* the run's position in the 5-D view (run_at), advanced by run_next */
} K(cursor);

/* The offsets of the run at c's position (p0, ia, im, ib). */
static inline void K(run_offsets)(const lopt_mlp_tensor *t, K(cursor) *c) {
  const size_t na = t->dims[1], mid = t->dims[2], nb = t->dims[3], post = t->dims[4];
  size_t len, a_off, b_off, b_stride;
  if (post == 1) {
    /* r = (p0·na + ia)·mid + im; the run is ib = 0..nb−1: A index (p0·mid + im)·nb + ib, B index r. */
    len = nb;
    a_off = (c->p0 * mid + c->im) * nb;
    b_off = c->run;
    b_stride = 0;
  } else {
    /* r = ((p0·na + ia)·mid + im)·nb + ib; the run is q = 0..post−1. */
    len = post;
    a_off = ((c->p0 * mid + c->im) * nb + c->ib) * post;
    b_off = ((c->p0 * na + c->ia) * mid + c->im) * post;
    b_stride = 1;
  }
  c->start = c->run * len;
  c->end = c->start + len;
  if (t->flags & LOPT_F_ROW_IS_A) {
    c->row_off = a_off, c->row_stride = 1, c->col_off = b_off, c->col_stride = b_stride;
  } else {
    c->row_off = b_off, c->row_stride = b_stride, c->col_off = a_off, c->col_stride = 1;
  }
}

static void K(run_at)(const lopt_mlp_tensor *t, size_t r, K(cursor) *c) {
  c->run = r;
  if (!(t->flags & LOPT_F_FACTORED)) {
    c->start = 0;
    c->end = t->n;
    c->row_off = c->col_off = c->row_stride = c->col_stride = 0;
    return;
  }
  const size_t na = t->dims[1], mid = t->dims[2], nb = t->dims[3], post = t->dims[4];
  const size_t t1 = post == 1 ? r : r / nb;
  c->ib = post == 1 ? 0 : r % nb;
  c->im = t1 % mid;
  c->ia = (t1 / mid) % na;
  c->p0 = t1 / (mid * na);
  K(run_offsets)(t, c);
}

/* Moves c (at a run of a factored tensor) to the next run, without divisions. */
static inline void K(run_next)(const lopt_mlp_tensor *t, K(cursor) *c) {
  c->run++;
  if (t->dims[4] == 1 || ++c->ib == t->dims[3]) {
    c->ib = 0;
    if (++c->im == t->dims[2]) {
      c->im = 0;
      if (++c->ia == t->dims[1]) c->ia = 0, c->p0++;
    }
  }
  K(run_offsets)(t, c);
}

/* The segment starting at element i (moving the cursor on when i is past its run), at most max long. */
static inline size_t K(segment)(const lopt_mlp_tensor *t, K(cursor) *c, size_t i, size_t max, size_t *row,
                                size_t *col) {
  if (i >= c->end) K(run_next)(t, c);
  const size_t len = c->end - i < max ? c->end - i : max;
  *row = c->row_off + (i - c->start) * c->row_stride;
  *col = c->col_off + (i - c->start) * c->col_stride;
  return len;
}

INLINE void K(gather)(float *dst, const float *src, size_t off, size_t stride, size_t cnt) {
  if (stride) {
    const float *s = src + off;
    LOOP for (size_t e = 0; e < cnt; e++) dst[e] = s[e];
  } else {
    const float v = src[off];
    LOOP for (size_t e = 0; e < cnt; e++) dst[e] = v;
  }
}

/* The row and column indices of the CH elements from b0 (a block across several runs). */
static void K(block_indices)(const lopt_mlp_tensor *t, K(cursor) *c, size_t b0, size_t *ridx, size_t *cidx) {
  for (size_t e = 0; e < CH; e++) {
    const size_t i = b0 + e;
    if (i >= c->end) K(run_next)(t, c);
    ridx[e] = c->row_off + (i - c->start) * c->row_stride;
    cidx[e] = c->col_off + (i - c->start) * c->col_stride;
  }
}

/* ---- the two passes ------------------------------------------------------------------------------ */

/* Updates the accumulators of elements [i, i + cnt). */
INLINE void K(update)(const lopt_mlp_tensor *t, size_t i, size_t cnt) {
  const size_t n = t->n;
  const float *g = t->g + i;
  for (size_t k = 0; k < t->nm; k++) {
    const float b = t->decays[k], c = (float)(1.0 - (double)b);
    float *m = t->acc + k * n + i;
    LOOP for (size_t e = 0; e < cnt; e++) m[e] = b * m[e] + c * g[e];
  }
  for (size_t k = 0; k < t->nr; k++) {
    const float b = t->decays[t->nm + k], c = (float)(1.0 - (double)b);
    float *v = t->acc + (t->nm + k) * n + i;
    LOOP for (size_t e = 0; e < cnt; e++) v[e] = b * v[e] + c * (g[e] * g[e]);
  }
  if (!(t->flags & LOPT_F_FACTORED)) {
    for (size_t k = 0; k < t->na; k++) {
      const float b = t->decays[t->nm + t->nr + k], c = (float)(1.0 - (double)b);
      float *v = t->acc + (t->nm + t->nr + k) * n + i;
      LOOP for (size_t e = 0; e < cnt; e++) v[e] = b * v[e] + c * (g[e] * g[e] + 1e-30f);
    }
  }
}

/* Writes the features of elements [i, i + cnt) of one segment to X[f·ld + e]. The broadcast features
   of a factored tensor (row, col and their rsqrt) are written only when `broadcast`. tmp: 3·ld floats. */
INLINE void K(build)(const lopt_mlp_tensor *t, const lopt_mlp_features *fo, size_t i, size_t cnt, size_t row_off,
                     size_t rs, size_t col_off, size_t cs, float *X, size_t ld, int broadcast, float *tmp) {
  const size_t n = t->n, nm = t->nm, nr = t->nr, na = t->na;
  const float *g = t->g + i, *p = t->p + i;
  float *xg = X + fo->g * ld, *xp = X + fo->p * ld;
  LOOP for (size_t e = 0; e < cnt; e++) {
    xg[e] = g[e];
    xp[e] = p[e];
  }
  if (t->flags & LOPT_F_LOG_ABS_P) {
    float *xl = X + fo->logp * ld;
    LOOP for (size_t e = 0; e < cnt; e++) xl[e] = K(log_f)(fabsf(p[e]) + 1e-8f);
  }
  for (size_t k = 0; k < nm; k++) {
    const float *m = t->acc + k * n + i;
    float *x = X + (fo->m + k) * ld;
    LOOP for (size_t e = 0; e < cnt; e++) x[e] = m[e];
  }
  for (size_t k = 0; k < nr; k++) {
    const float *v = t->acc + (nm + k) * n + i;
    float *xv = X + (fo->v + k) * ld, *xr = X + (fo->rs + k) * ld;
    LOOP for (size_t e = 0; e < cnt; e++) {
      xv[e] = v[e];
      xr[e] = 1.0f / sqrtf(v[e] + 1e-6f);
    }
  }
  for (size_t j = 0; j < fo->nmr; j++) {
    const float *xm = X + (fo->m + (nm == 1 ? 0 : j)) * ld, *xr = X + (fo->rs + (nr == 1 ? 0 : j)) * ld;
    float *x = X + (fo->mr + j) * ld;
    LOOP for (size_t e = 0; e < cnt; e++) x[e] = xm[e] * xr[e];
  }
  if (na == 0) return;
  float *pre = tmp, *a = tmp + ld, *b = tmp + 2 * ld;
  if (t->flags & LOPT_F_FACTORED) {
    const size_t sr = t->size_row, sc = t->size_col;
    const float *vrow = t->stats, *vcol = vrow + na * sr, *frow = vcol + na * sc, *fcol = frow + na * sr;
    for (size_t k = 0; k < na; k++) {
      K(gather)(a, frow + k * sr, row_off, rs, cnt);
      K(gather)(b, fcol + k * sc, col_off, cs, cnt);
      float *xf = X + (fo->fg + k) * ld;
      LOOP for (size_t e = 0; e < cnt; e++) {
        pre[e] = a[e] * b[e];
        xf[e] = g[e] * pre[e];
      }
      for (size_t j = 0; j < fo->nmf; j++) {
        if (na > 1 && j != k) continue;
        const float *xm = X + (fo->m + (nm == 1 ? 0 : j)) * ld;
        float *x = X + (fo->mf + j) * ld;
        LOOP for (size_t e = 0; e < cnt; e++) x[e] = xm[e] * pre[e];
      }
      if (broadcast) {
        float *xr = X + (fo->row + k) * ld, *xc = X + (fo->col + k) * ld;
        float *xrr = X + (fo->rrow + k) * ld, *xrc = X + (fo->rcol + k) * ld;
        K(gather)(xr, vrow + k * sr, row_off, rs, cnt);
        K(gather)(xc, vcol + k * sc, col_off, cs, cnt);
        LOOP for (size_t e = 0; e < cnt; e++) {
          xrr[e] = 1.0f / sqrtf(xr[e] + 1e-8f);
          xrc[e] = 1.0f / sqrtf(xc[e] + 1e-8f);
        }
      }
    }
  } else {
    for (size_t k = 0; k < na; k++) {
      const float *v = t->acc + (nm + nr + k) * n + i;
      float *xf = X + (fo->fg + k) * ld, *xr = X + (fo->row + k) * ld, *xc = X + (fo->col + k) * ld;
      float *xrr = X + (fo->rrow + k) * ld, *xrc = X + (fo->rcol + k) * ld;
      LOOP for (size_t e = 0; e < cnt; e++) {
        const float ve = v[e], shifted = ve + 1e-9f;
        xf[e] = g[e] * (1.0f / sqrtf(shifted < 1e-9f ? 1e-9f : shifted)); /* NaN stays NaN */
        xr[e] = ve;
        xc[e] = ve;
        const float r = 1.0f / sqrtf(ve + 1e-8f);
        xrr[e] = r;
        xrc[e] = r;
        pre[e] = 1.0f / sqrtf(ve + 1e-6f);
      }
      for (size_t j = 0; j < fo->nmf; j++) {
        if (na > 1 && j != k) continue;
        const float *xm = X + (fo->m + (nm == 1 ? 0 : j)) * ld;
        float *x = X + (fo->mf + j) * ld;
        LOOP for (size_t e = 0; e < cnt; e++) x[e] = xm[e] * pre[e];
      }
    }
  }
}

/* build() for a whole block of CH elements in vf registers: X[f·CH …]. The block's row and column
   indices are row_off + l·rs, col_off + l·cs (one run), or ridx[l], cidx[l] when given (several runs). */
INLINE void K(build_full)(const lopt_mlp_tensor *t, const lopt_mlp_features *fo, size_t i, size_t row_off, size_t rs,
                          size_t col_off, size_t cs, const size_t *ridx, const size_t *cidx, float *X, int broadcast) {
  const size_t n = t->n, nm = t->nm, nr = t->nr, na = t->na;
  const vf g = K(load)(t->g + i), p = K(load)(t->p + i);
  K(store)(X + fo->g * CH, g);
  K(store)(X + fo->p * CH, p);
  if (t->flags & LOPT_F_LOG_ABS_P) {
    float a[CH];
    const float *pp = t->p + i;
    LOOP for (size_t e = 0; e < CH; e++) a[e] = K(log_f)(fabsf(pp[e]) + 1e-8f);
    memcpy(X + fo->logp * CH, a, sizeof a);
  }
  for (size_t k = 0; k < nm; k++) K(store)(X + (fo->m + k) * CH, K(load)(t->acc + k * n + i));
  for (size_t k = 0; k < nr; k++) {
    const vf v = K(load)(t->acc + (nm + k) * n + i);
    K(store)(X + (fo->v + k) * CH, v);
    K(store)(X + (fo->rs + k) * CH, K(rsqrt)(v + 1e-6f));
  }
  for (size_t j = 0; j < fo->nmr; j++) {
    const vf m = K(load)(X + (fo->m + (nm == 1 ? 0 : j)) * CH), r = K(load)(X + (fo->rs + (nr == 1 ? 0 : j)) * CH);
    K(store)(X + (fo->mr + j) * CH, m * r);
  }
  if (na == 0) return;
  const int factored = (t->flags & LOPT_F_FACTORED) != 0;
  const size_t sr = t->size_row, sc = t->size_col;
  const float *vrow = t->stats, *vcol = vrow + na * sr, *frow = vcol + na * sc, *fcol = frow + na * sr;
  for (size_t k = 0; k < na; k++) {
    vf pre;
    if (factored) {
      pre = K(load_at)(frow + k * sr, ridx, row_off, rs) * K(load_at)(fcol + k * sc, cidx, col_off, cs);
      K(store)(X + (fo->fg + k) * CH, g * pre);
      if (broadcast) {
        const vf r = K(load_at)(vrow + k * sr, ridx, row_off, rs), c = K(load_at)(vcol + k * sc, cidx, col_off, cs);
        K(store)(X + (fo->row + k) * CH, r);
        K(store)(X + (fo->col + k) * CH, c);
        K(store)(X + (fo->rrow + k) * CH, K(rsqrt)(r + 1e-8f));
        K(store)(X + (fo->rcol + k) * CH, K(rsqrt)(c + 1e-8f));
      }
    } else {
      const vf v = K(load)(t->acc + (nm + nr + k) * n + i);
      K(store)(X + (fo->fg + k) * CH, g * K(rsqrt)(K(max_keep_nan)(v + 1e-9f, 1e-9f)));
      K(store)(X + (fo->row + k) * CH, v);
      K(store)(X + (fo->col + k) * CH, v);
      const vf r = K(rsqrt)(v + 1e-8f);
      K(store)(X + (fo->rrow + k) * CH, r);
      K(store)(X + (fo->rcol + k) * CH, r);
      pre = K(rsqrt)(v + 1e-6f);
    }
    for (size_t j = 0; j < fo->nmf; j++) {
      if (na > 1 && j != k) continue;
      K(store)(X + (fo->mf + j) * CH, K(load)(X + (fo->m + (nm == 1 ? 0 : j)) * CH) * pre);
    }
  }
}

/* Is feature f one of a factored tensor's broadcast features (summed and applied per row/column)? */
static inline int K(is_broadcast)(const lopt_mlp_tensor *t, const lopt_mlp_features *fo, size_t f) {
  return (t->flags & LOPT_F_FACTORED) && f >= fo->row && f < fo->rcol + t->na;
}

#define STAGE_RUNS 16 /* runs (and blocks) summed in float by update_factored before the double sums */

/* Factored tensors, before the features: v_row_k ← β_k v_row_k + (1−β_k)·mean over d0 of g² + 1e-30,
   v_col_k likewise over d1 (sums in double, runs of ≥ CH through float partial sums of ≤ 16 terms), then
   the row and column factors. */
static int K(update_factored)(const lopt_mlp_tensor *t) {
  const size_t n = t->n, na = t->na, sr = t->size_row, sc = t->size_col;
  const size_t len = t->dims[4] == 1 ? t->dims[3] : t->dims[4]; /* every run's length */
  double *sum_row = calloc(sr + sc, sizeof(double));
  float *staged = calloc(len, sizeof(float));
  if (!sum_row || !staged) {
    free(sum_row);
    free(staged);
    return -1;
  }
  double *sum_col = sum_row + sr;
  /* Runs with one fixed index (post 1, len ≥ CH): the moving sums are staged in float over up to
     STAGE_RUNS consecutive runs with the same moving offset, the fixed sum in CH float lanes over up
     to STAGE_RUNS blocks; both then go into the double sums (all terms are positive: a float sum of 16
     terms is within 16 ulp). */
  double *staged_at = NULL;
  size_t staged_runs = 0;
  K(cursor) cur;
  K(run_at)(t, 0, &cur);
  for (size_t i = 0; i < n; K(run_next)(t, &cur)) {
    const float *g = t->g + cur.start;
    double *row = sum_row + cur.row_off, *col = sum_col + cur.col_off;
    if (cur.row_stride && cur.col_stride) {
      for (size_t e = 0; e < len; e++) {
        const double q = (double)(g[e] * g[e] + 1e-30f);
        row[e] += q;
        col[e] += q;
      }
    } else if (len < CH) {
      /* A short run (e.g. rows of 10): one sum in element order, no partial sums to combine. */
      double *moving = cur.row_stride ? row : col, *fixed = cur.row_stride ? col : row;
      double sum = 0.0;
      for (size_t e = 0; e < len; e++) {
        const double q = (double)(g[e] * g[e] + 1e-30f);
        moving[e] += q;
        sum += q;
      }
      fixed[0] += sum;
    } else {
      double *moving = cur.row_stride ? row : col, *fixed = cur.row_stride ? col : row;
      if (moving != staged_at || staged_runs == STAGE_RUNS) {
        if (staged_at) {
          LOOP for (size_t e = 0; e < len; e++) staged_at[e] += (double)staged[e];
          LOOP for (size_t e = 0; e < len; e++) staged[e] = 0.0f;
        }
        staged_at = moving;
        staged_runs = 0;
      }
      staged_runs++;
      const size_t whole = len / CH;
      double lanes[CH] = {0};
      vf acc = K(splat)(0.0f);
      for (size_t b = 0; b < whole; b++) {
        const vf G = K(load)(g + b * CH), q = G * G + 1e-30f;
        K(store)(staged + b * CH, K(load)(staged + b * CH) + q);
        acc = acc + q;
        if ((b + 1) % STAGE_RUNS == 0 || b + 1 == whole) {
          float a[CH];
          memcpy(a, &acc, sizeof a);
          LOOP for (size_t l = 0; l < CH; l++) lanes[l] += (double)a[l];
          acc = K(splat)(0.0f);
        }
      }
      double tail = 0.0;
      for (size_t e = whole * CH; e < len; e++) {
        const float q = g[e] * g[e] + 1e-30f;
        staged[e] += q;
        tail += (double)q;
      }
      fixed[0] += K(combine)(lanes) + tail;
    }
    i = cur.end;
  }
  if (staged_at) {
    LOOP for (size_t e = 0; e < len; e++) staged_at[e] += (double)staged[e];
  }
  free(staged);
  float *vrow = t->stats, *vcol = vrow + na * sr, *frow = vcol + na * sc, *fcol = frow + na * sr;
  const double row_count = (double)(n / sr), col_count = (double)(n / sc);
  /* v_row keeps axis d1: [pre·mid, nb, post] (mean over nb) when d0 = a, else [pre, na, mid·post]. */
  const int row_is_a = (t->flags & LOPT_F_ROW_IS_A) != 0;
  const size_t outer = row_is_a ? t->dims[0] * t->dims[2] : t->dims[0];
  const size_t span = row_is_a ? t->dims[3] : t->dims[1];
  const size_t inner = row_is_a ? t->dims[4] : t->dims[2] * t->dims[4];
  for (size_t k = 0; k < na; k++) {
    const double beta = t->decays[t->nm + t->nr + k], mix = 1.0 - beta;
    float *vr = vrow + k * sr, *vc = vcol + k * sc, *fr = frow + k * sr, *fc = fcol + k * sc;
    for (size_t r = 0; r < sr; r++) vr[r] = (float)(beta * (double)vr[r] + mix * (sum_row[r] / row_count));
    for (size_t c = 0; c < sc; c++) {
      vc[c] = (float)(beta * (double)vc[c] + mix * (sum_col[c] / col_count));
      const float v = vc[c];
      fc[c] = 1.0f / sqrtf(v < 1e-9f ? 1e-9f : v); /* NaN stays NaN */
    }
    for (size_t o = 0; o < outer; o++) {
      for (size_t j = 0; j < inner; j++) {
        const size_t base = o * span * inner + j;
        double sum = 0.0;
        for (size_t s = 0; s < span; s++) sum += (double)vr[base + s * inner];
        const double mean = sum / (double)span + 1e-9;
        for (size_t s = 0; s < span; s++) {
          const size_t at = base + s * inner;
          const float ratio = (float)((double)vr[at] / mean);
          fr[at] = 1.0f / sqrtf(ratio < 1e-9f ? 1e-9f : ratio);
        }
      }
    }
  }
  free(sum_row);
  return 0;
}

#define FLUSH 64  /* blocks summed in float lanes before they are added to the double sums */
#define SUPER 256 /* elements whose accumulators are updated before their features are built */

#include "learned_small_impl.h"

/* The moments of a factored tensor's broadcast features (v_row, v_col and their rsqrt): each v_row entry
   is broadcast over shape[d0] = n / size_row elements, each v_col entry over n / size_col. */
static void K(broadcast_moments)(const lopt_mlp_tensor *t, const lopt_mlp_features *fo, double *moments,
                                 int want_sums) {
  const size_t n = t->n, F = fo->count, na = t->na, sr = t->size_row, sc = t->size_col;
  const float *vrow = t->stats, *vcol = vrow + na * sr;
  for (size_t d = 0; d < na; d++) {
    for (int which = 0; which < 2; which++) {
      const float *v = which == 0 ? vrow + d * sr : vcol + d * sc;
      const size_t size = which == 0 ? sr : sc;
      const double mult = (double)(n / size);
      double acc[4][NACC] = {{0}};
      BLOCKED(size, {
        const float x = v[k];
        const float r = 1.0f / sqrtf(x + 1e-8f);
        acc[0][j] += (double)x * (double)x;
        acc[1][j] += (double)x;
        acc[2][j] += (double)r * (double)r;
        acc[3][j] += (double)r;
      });
      const size_t fv = (which == 0 ? fo->row : fo->col) + d, fr = (which == 0 ? fo->rrow : fo->rcol) + d;
      moments[fv] = mult * K(combine)(acc[0]);
      moments[fr] = mult * K(combine)(acc[2]);
      if (want_sums) {
        moments[F + fv] = mult * K(combine)(acc[1]);
        moments[F + fr] = mult * K(combine)(acc[3]);
      }
    }
  }
}

static int K(mlp_accumulate)(const lopt_mlp_tensor *t, const lopt_mlp_features *fo, double *moments, int want_sums) {
  const size_t n = t->n, F = fo->count;
  for (size_t f = 0; f < (want_sums ? 2 : 1) * F; f++) moments[f] = 0.0;
  if (n == 0) return 0;
  if (K(is_small_layout)(t) && !want_sums && n >= CH) {
    K(small_scratch) scratch;
    if (K(small_scratch_alloc)(t, &scratch) != 0 || K(update_factored)(t) != 0) {
      K(small_scratch_free)(&scratch);
      return -1;
    }
    K(small_accumulate_tensor)(t, moments, &scratch);
    K(small_scratch_free)(&scratch);
    K(broadcast_moments)(t, fo, moments, 0);
    return 0;
  }
  /* Scratch first: nothing is written when it cannot be allocated. X [F][CH] | float lane sums [2F][CH] |
     tmp [3][CH]; double lane sums [2F][CH]; the list of per-element features. */
  float *X = malloc((3 * F * CH + 3 * CH) * sizeof(float));
  double *d2 = calloc(2 * F * CH, sizeof(double));
  size_t per_element = 0, fidx[512];
  size_t *list = F <= 512 ? fidx : malloc(F * sizeof(size_t));
  if (!X || !d2 || !list || ((t->flags & LOPT_F_FACTORED) && K(update_factored)(t) != 0)) {
    free(X);
    free(d2);
    if (list != fidx) free(list);
    return -1;
  }
  float *q2 = X + F * CH, *q1 = q2 + F * CH, *tmp = q1 + F * CH;
  double *d1 = d2 + F * CH;
  for (size_t i = 0; i < 2 * F * CH; i++) q2[i] = 0.0f;
  for (size_t f = 0; f < F; f++)
    if (!K(is_broadcast)(t, fo, f)) list[per_element++] = f;
  K(cursor) cur;
  K(run_at)(t, 0, &cur);
  size_t blocks = 0;
  for (size_t s0 = 0; s0 < n; s0 += SUPER) {
    /* Update a super-block's accumulators row by row first: a block's rows are a multiple of 4 KiB apart
       for many shapes, and storing one row right before loading the next stalls on 4K aliasing. */
    const size_t s_end = n - s0 < SUPER ? n : s0 + SUPER;
    if (s_end - s0 == SUPER) {
      K(update)(t, s0, SUPER);
    } else {
      K(update)(t, s0, s_end - s0);
    }
    for (size_t b0 = s0; b0 < s_end;) {
      const size_t cnt = s_end - b0 < CH ? s_end - b0 : CH;
      size_t row, col;
      if (cnt == CH) {
        const size_t len = K(segment)(t, &cur, b0, CH, &row, &col);
        if (len == CH) {
          K(build_full)(t, fo, b0, row, cur.row_stride, col, cur.col_stride, NULL, NULL, X, 0);
        } else {
          size_t ridx[CH], cidx[CH];
          K(block_indices)(t, &cur, b0, ridx, cidx);
          K(build_full)(t, fo, b0, 0, 0, 0, 0, ridx, cidx, X, 0);
        }
      } else {
        for (size_t i = 0; i < F * CH; i++) X[i] = 0.0f;
        for (size_t e0 = 0; e0 < cnt;) {
          const size_t len = K(segment)(t, &cur, b0 + e0, cnt - e0, &row, &col);
          K(build)(t, fo, b0 + e0, len, row, cur.row_stride, col, cur.col_stride, X + e0, CH, 0, tmp);
          e0 += len;
        }
      }
      for (size_t j = 0; j < per_element; j++) {
        const size_t f = list[j];
        const vf x = K(load)(X + f * CH);
        K(store)(q2 + f * CH, K(load)(q2 + f * CH) + x * x);
        if (want_sums) K(store)(q1 + f * CH, K(load)(q1 + f * CH) + x);
      }
      b0 += cnt;
      blocks += 1;
      if (blocks >= FLUSH || b0 >= n) {
        blocks = 0;
        for (size_t j = 0; j < per_element; j++) {
          const size_t f = list[j];
          LOOP for (size_t e = 0; e < CH; e++) {
            d2[f * CH + e] += (double)q2[f * CH + e];
            d1[f * CH + e] += (double)q1[f * CH + e];
            q2[f * CH + e] = 0.0f;
            q1[f * CH + e] = 0.0f;
          }
        }
      }
    }
  }
  for (size_t j = 0; j < per_element; j++) {
    const size_t f = list[j];
    moments[f] = K(combine)(d2 + f * CH);
    if (want_sums) moments[F + f] = K(combine)(d1 + f * CH);
  }
  if (list != fidx) free(list);
  if (t->flags & LOPT_F_FACTORED) K(broadcast_moments)(t, fo, moments, want_sums);
  free(X);
  free(d2);
  return 0;
}

/* Z[o] ← init_o + Σ_j W[r_j·wld + o]·Y[r_j] for o < fan_out (rows of CH lanes), r_j = idx ? idx[j] : j;
   init_o is row o of Zinit when given, else bias[o]; ReLU when relu. Four outputs at a time, their
   accumulators in registers. */
static void K(dense)(size_t fan_in, const float *Y, const size_t *idx, const float *W, size_t wld, size_t fan_out,
                     const float *bias, const float *Zinit, float *Z, int relu) {
  size_t o = 0;
  for (; o + 4 <= fan_out; o += 4) {
    vf a0, a1, a2, a3;
    if (Zinit) {
      memcpy(&a0, Zinit + (o + 0) * CH, sizeof a0);
      memcpy(&a1, Zinit + (o + 1) * CH, sizeof a1);
      memcpy(&a2, Zinit + (o + 2) * CH, sizeof a2);
      memcpy(&a3, Zinit + (o + 3) * CH, sizeof a3);
    } else {
      const vf zero = {0};
      a0 = zero + bias[o];
      a1 = zero + bias[o + 1];
      a2 = zero + bias[o + 2];
      a3 = zero + bias[o + 3];
    }
    for (size_t j = 0; j < fan_in; j++) {
      const size_t r = idx ? idx[j] : j;
      vf y;
      memcpy(&y, Y + r * CH, sizeof y);
      const float *w = W + r * wld + o;
      a0 = a0 + w[0] * y;
      a1 = a1 + w[1] * y;
      a2 = a2 + w[2] * y;
      a3 = a3 + w[3] * y;
    }
    if (relu) {
      a0 = K(relu)(a0);
      a1 = K(relu)(a1);
      a2 = K(relu)(a2);
      a3 = K(relu)(a3);
    }
    memcpy(Z + (o + 0) * CH, &a0, sizeof a0);
    memcpy(Z + (o + 1) * CH, &a1, sizeof a1);
    memcpy(Z + (o + 2) * CH, &a2, sizeof a2);
    memcpy(Z + (o + 3) * CH, &a3, sizeof a3);
  }
  for (; o < fan_out; o++) {
    vf a;
    if (Zinit) {
      memcpy(&a, Zinit + o * CH, sizeof a);
    } else {
      const vf zero = {0};
      a = zero + bias[o];
    }
    for (size_t j = 0; j < fan_in; j++) {
      const size_t r = idx ? idx[j] : j;
      vf y;
      memcpy(&y, Y + r * CH, sizeof y);
      a = a + W[r * wld + o] * y;
    }
    if (relu) a = K(relu)(a);
    memcpy(Z + o * CH, &a, sizeof a);
  }
}

/* The step of elements [i, i + cnt) from outputs d and mag (cnt lanes each). */
INLINE void K(write_step)(float *p, const float *d, const float *mag, size_t cnt, float exp_mult, float step_mult) {
  LOOP for (size_t e = 0; e < cnt; e++) p[e] = p[e] - d[e] * K(exp_f)(mag[e] * exp_mult) * step_mult;
}

static size_t K(widest)(const lopt_mlp_net *net) {
  size_t w = 0;
  for (size_t l = 1; l <= net->layers; l++) w = (size_t)net->sizes[l] > w ? (size_t)net->sizes[l] : w;
  return w;
}

static int K(apply_elementwise)(const lopt_mlp_tensor *t, const lopt_mlp_features *fo, const lopt_mlp_net *net,
                                double *extra_sums) {
  const size_t n = t->n, F = fo->count, na = t->na, layers = net->layers;
  const size_t h1 = (size_t)net->sizes[1], outs = (size_t)net->sizes[layers], extras = outs - 2;
  const size_t inputs = (size_t)net->sizes[0] - F, widest = K(widest)(net);
  const int factored = (t->flags & LOPT_F_FACTORED) != 0;
  const size_t sr = factored ? t->size_row : 0, sc = factored ? t->size_col : 0;
  const size_t floats = F * h1 + h1 + h1 * (sr + sc) + F * CH + h1 * CH + 2 * widest * CH + 3 * CH + sr + sc;
  float *W0 = malloc(floats * sizeof(float));
  double *ex = calloc(extras * CH + 1, sizeof(double));
  size_t *idx = malloc((F + 1) * sizeof(size_t));
  if (!W0 || !ex || !idx) {
    free(W0);
    free(ex);
    free(idx);
    return -1;
  }
  float *b0 = W0 + F * h1, *crow = b0 + h1, *ccol = crow + h1 * sr, *X = ccol + h1 * sc, *Z0 = X + F * CH;
  float *A = Z0 + h1 * CH, *B = A + widest * CH, *tmp = B + widest * CH;
  /* Fold the normalisation into W0 and the per-tensor inputs into b0. */
  const float *w0 = net->params, *bias0 = w0 + net->sizes[0] * h1;
  for (size_t f = 0; f < F; f++)
    for (size_t h = 0; h < h1; h++) W0[f * h1 + h] = w0[f * h1 + h] * net->scales[f];
  for (size_t h = 0; h < h1; h++) {
    double sum = bias0[h];
    for (size_t c = 0; c < inputs; c++) sum += (double)net->inputs[c] * (double)w0[(F + c) * h1 + h];
    b0[h] = (float)sum;
  }
  size_t per_element = 0;
  for (size_t f = 0; f < F; f++)
    if (!K(is_broadcast)(t, fo, f)) idx[per_element++] = f;
  if (factored) {
    /* First-layer contributions of v_row, rsqrt(v_row + 1e-8) per row entry, and likewise per column
       (the rsqrt once per decay, in rr). */
    const float *vrow = t->stats, *vcol = vrow + na * sr;
    float *rr = tmp + 3 * CH;
    for (size_t h = 0; h < h1; h++) {
      float *cr = crow + h * sr, *cc = ccol + h * sc;
      LOOP for (size_t r = 0; r < sr; r++) cr[r] = 0.0f;
      LOOP for (size_t r = 0; r < sc; r++) cc[r] = 0.0f;
    }
    for (size_t k = 0; k < na; k++) {
      const float *v = vrow + k * sr, *u = vcol + k * sc;
      LOOP for (size_t r = 0; r < sr; r++) rr[r] = 1.0f / sqrtf(v[r] + 1e-8f);
      LOOP for (size_t r = 0; r < sc; r++) rr[sr + r] = 1.0f / sqrtf(u[r] + 1e-8f);
      for (size_t h = 0; h < h1; h++) {
        float *cr = crow + h * sr, *cc = ccol + h * sc;
        const float wv = W0[(fo->row + k) * h1 + h], wr = W0[(fo->rrow + k) * h1 + h];
        LOOP for (size_t r = 0; r < sr; r++) cr[r] = cr[r] + wv * v[r] + wr * rr[r];
        const float wc = W0[(fo->col + k) * h1 + h], wrc = W0[(fo->rcol + k) * h1 + h];
        LOOP for (size_t r = 0; r < sc; r++) cc[r] = cc[r] + wc * u[r] + wrc * rr[sr + r];
      }
    }
  }
  const float *layer_params = net->params + net->sizes[0] * h1 + h1;
  /* small_fc_lopt's layout and MLP (two hidden layers of 2, 4 or 8 units): the register loops, with b0
     in the row contributions. */
  if (K(is_small_layout)(t) && layers == 3 && outs == 2 && (size_t)net->sizes[2] == h1 &&
      (h1 == 2 || h1 == 4 || h1 == 8) && n >= CH) {
    for (size_t h = 0; h < h1; h++) {
      float *cr = crow + h * sr;
      const float bh = b0[h];
      LOOP for (size_t r = 0; r < sr; r++) cr[r] = cr[r] + bh;
    }
    const int rc = K(small_apply_tensor)(t, W0, crow, ccol, layer_params, h1, net->exp_mult, net->step_mult);
    free(W0);
    free(ex);
    free(idx);
    return rc;
  }
  K(cursor) cur;
  K(run_at)(t, 0, &cur);
  for (size_t b = 0; b < n;) {
    const size_t cnt = n - b < CH ? n - b : CH;
    if (cnt < CH) {
      /* A partial last block: clear the unused lanes so they compute harmless values. */
      for (size_t i = 0; i < F * CH + h1 * CH; i++) X[i] = 0.0f;
    }
    size_t row, col;
    for (size_t e0 = 0; e0 < cnt;) {
      const size_t len = K(segment)(t, &cur, b + e0, cnt - e0, &row, &col);
      if (cnt == CH) {
        /* A whole block, in one run (strided indices) or across several (index lists). */
        size_t ridx[CH], cidx[CH];
        const int across = len < CH;
        if (across) K(block_indices)(t, &cur, b, ridx, cidx);
        const size_t *ri = across ? ridx : NULL, *ci = across ? cidx : NULL;
        K(build_full)(t, fo, b, row, cur.row_stride, col, cur.col_stride, ri, ci, X, 0);
        for (size_t h = 0; h < h1; h++) {
          vf z = K(splat)(b0[h]);
          if (factored) {
            z = z + K(load_at)(crow + h * sr, ri, row, cur.row_stride) + K(load_at)(ccol + h * sc, ci, col, cur.col_stride);
          }
          K(store)(Z0 + h * CH, z);
        }
        break;
      }
      K(build)(t, fo, b + e0, len, row, cur.row_stride, col, cur.col_stride, X + e0, CH, 0, tmp);
      for (size_t h = 0; h < h1; h++) {
        float *z = Z0 + h * CH + e0;
        const float bh = b0[h];
        if (factored) {
          const float *cr = crow + h * sr + row, *cc = ccol + h * sc + col;
          const size_t rs = cur.row_stride, cs = cur.col_stride;
          if (rs && cs) {
            LOOP for (size_t e = 0; e < len; e++) z[e] = bh + cr[e] + cc[e];
          } else if (rs) {
            const float c0 = cc[0];
            LOOP for (size_t e = 0; e < len; e++) z[e] = bh + cr[e] + c0;
          } else if (cs) {
            const float r0 = cr[0];
            LOOP for (size_t e = 0; e < len; e++) z[e] = bh + r0 + cc[e];
          } else {
            const float v = bh + cr[0] + cc[0];
            LOOP for (size_t e = 0; e < len; e++) z[e] = v;
          }
        } else {
          LOOP for (size_t e = 0; e < len; e++) z[e] = bh;
        }
      }
      e0 += len;
    }
    K(dense)(per_element, X, idx, W0, h1, h1, NULL, Z0, A, layers > 1);
    const float *lp = layer_params;
    for (size_t l = 1; l < layers; l++) {
      const size_t fan_in = (size_t)net->sizes[l], fan_out = (size_t)net->sizes[l + 1];
      K(dense)(fan_in, A, NULL, lp, fan_out, fan_out, lp + fan_in * fan_out, NULL, B, l + 1 < layers);
      lp += fan_in * fan_out + fan_out;
      float *swap = A;
      A = B;
      B = swap;
    }
    if (cnt == CH) {
      K(write_step)(t->p + b, A, A + CH, CH, net->exp_mult, net->step_mult);
    } else {
      K(write_step)(t->p + b, A, A + CH, cnt, net->exp_mult, net->step_mult);
    }
    for (size_t x = 0; x < extras; x++) {
      const float *o = A + (2 + x) * CH;
      double *s = ex + x * CH;
      for (size_t e = 0; e < cnt; e++) s[e] += (double)o[e];
    }
    b += cnt;
  }
  for (size_t x = 0; x < extras; x++) extra_sums[x] = K(combine)(ex + x * CH);
  free(W0);
  free(ex);
  free(idx);
  return 0;
}

static int K(apply_gemm)(const lopt_mlp_tensor *t, const lopt_mlp_features *fo, const lopt_mlp_net *net,
                         double *extra_sums) {
  const size_t n = t->n, F = fo->count, layers = net->layers, k0 = (size_t)net->sizes[0];
  const size_t h1 = (size_t)net->sizes[1], outs = (size_t)net->sizes[layers], extras = outs - 2;
  const size_t widest = K(widest)(net);
  float *X = malloc((k0 * GB + 2 * widest * GB + 3 * GB) * sizeof(float));
  if (!X) return -1;
  float *A = X + k0 * GB, *B = A + widest * GB, *tmp = B + widest * GB;
  for (size_t x = 0; x < extras; x++) extra_sums[x] = 0.0;
  K(cursor) cur;
  K(run_at)(t, 0, &cur);
  for (size_t b = 0; b < n; b += GB) {
    const size_t cnt = n - b < GB ? n - b : GB;
    size_t row, col;
    for (size_t e0 = 0; e0 < cnt;) {
      const size_t len = K(segment)(t, &cur, b + e0, cnt - e0, &row, &col);
      K(build)(t, fo, b + e0, len, row, cur.row_stride, col, cur.col_stride, X + e0, GB, 1, tmp);
      e0 += len;
    }
    for (size_t f = 0; f < F; f++) {
      float *x = X + f * GB;
      const float s = net->scales[f];
      LOOP for (size_t e = 0; e < cnt; e++) x[e] = x[e] * s;
    }
    for (size_t c = F; c < k0; c++) {
      float *x = X + c * GB;
      const float v = net->inputs[c - F];
      LOOP for (size_t e = 0; e < cnt; e++) x[e] = v;
    }
    /* A [cnt, h1] = Xᵀ·W0 + b0, X stored feature-major [k0, GB]. */
    const float *lp = net->params;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)cnt, (int)h1, (int)k0, 1.0f, X, (int)GB, lp, (int)h1,
                0.0f, A, (int)h1);
    lp += k0 * h1;
    for (size_t l = 0; l < layers; l++) {
      const size_t fan_out = (size_t)net->sizes[l + 1];
      if (l > 0) {
        const size_t fan_in = (size_t)net->sizes[l];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)cnt, (int)fan_out, (int)fan_in, 1.0f, A,
                    (int)fan_in, lp, (int)fan_out, 0.0f, B, (int)fan_out);
        lp += fan_in * fan_out;
        float *swap = A;
        A = B;
        B = swap;
      }
      const float *bias = lp;
      lp += fan_out;
      const int relu = l + 1 < layers;
      for (size_t e = 0; e < cnt; e++) {
        float *a = A + e * fan_out;
        LOOP for (size_t o = 0; o < fan_out; o++) {
          const float z = a[o] + bias[o];
          a[o] = relu && z < 0.0f ? 0.0f : z;
        }
      }
    }
    float *p = t->p + b;
    for (size_t e = 0; e < cnt; e++) {
      const float *o = A + e * outs;
      p[e] = p[e] - o[0] * K(exp_f)(o[1] * net->exp_mult) * net->step_mult;
      for (size_t x = 0; x < extras; x++) extra_sums[x] += (double)o[2 + x];
    }
  }
  free(X);
  return 0;
}

static int K(mlp_apply)(const lopt_mlp_tensor *t, const lopt_mlp_features *fo, const lopt_mlp_net *net, int gemm,
                        double *extra_sums) {
  if (t->n == 0) {
    const size_t extras = (size_t)net->sizes[net->layers] - 2;
    for (size_t x = 0; x < extras; x++) extra_sums[x] = 0.0;
    return 0;
  }
  return gemm ? K(apply_gemm)(t, fo, net, extra_sums) : K(apply_elementwise)(t, fo, net, extra_sums);
}

static void K(nn_adam_step)(size_t n, float *p, float *m, float *v, const float *g, double lr, double beta1,
                            double beta2, double eps, double *stats) {
  const float b1 = (float)beta1, c1 = (float)(1.0 - beta1), b2 = (float)beta2, c2 = (float)(1.0 - beta2);
  const float scale = (float)(lr * (1.0 + eps)), e = (float)eps;
  double acc[9][NACC] = {{0}};
  BLOCKED(n, {
    const float graw = g[k];
    const float gk = graw < -1000.0f ? -1000.0f : (graw > 1000.0f ? 1000.0f : graw);
    const float pk = p[k];
    const float mk = b1 * m[k] + c1 * gk;
    const float vk = b2 * v[k] + c2 * (gk * gk);
    m[k] = mk;
    v[k] = vk;
    acc[0][j] += (double)pk;
    acc[1][j] += (double)pk * (double)pk;
    acc[2][j] += (double)gk;
    acc[3][j] += (double)gk * (double)gk;
    acc[4][j] += (double)fabsf(gk);
    acc[5][j] += (double)mk;
    acc[6][j] += (double)mk * (double)mk;
    acc[7][j] += (double)vk;
    acc[8][j] += (double)vk * (double)vk;
    p[k] = pk - scale / (e + sqrtf(vk + 1e-10f)) * mk;
  });
  for (size_t s = 0; s < 9; s++) stats[s] = K(combine)(acc[s]);
}

const lopt_learned_kernels K(lopt_learned_kernels) = {
    .name = SIMD_NAME,
    LOPT_LEARNED_KERNELS(LOPT_KERNEL_ENTRY)
};

#undef INLINE
