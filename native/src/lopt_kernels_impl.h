// Kernel bodies of the learned-optimizer kernels, included by lopt_kernels.c once per instruction set
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
// - small_fc_lopt's layout (2, 4 or 8 hidden units) has a register path: the features go straight
//   from the loads into the accumulators of two blocks at once (small_sums_body, small_apply); blocks
//   of short rows take per-element index lists (AVX-512: gathers), up to 8 blocks per call.
// - apply, gemm: the straightforward form: blocks of GB elements × (all features, normalised, and the
//   per-tensor inputs) times W0 with cblas_sgemm, then the next layers likewise.
// Blocks that straddle runs (short rows, e.g. a [128, 10] matrix) read the row and column statistics
// through per-element index lists. exp and log are polynomial (a few ulp; they vectorize, libm does
// not without -ffast-math). Everything is float32 except the sums. With -ffp-contract=off and fixed
// summation orders every instruction set gives the same bits, except in the register path (CONTRACT
// below); the gemm path's OpenBLAS kernel depends on the CPU only.

#ifndef K
#error "lopt_kernels_impl.h is included by lopt_kernels.c only"
#endif

#define INLINE static inline __attribute__((always_inline))
/* The register path is FLOP-bound (~90 multiply-adds per parameter): it lets GCC fuse a·b + c into FMA
   where the instruction set has one (AVX2, AVX-512), as BLAS does. Everything else keeps
   -ffp-contract=off and gives the same bits on every instruction set. */
#define CONTRACT __attribute__((optimize("fp-contract=fast")))

INLINE float K(bits_to_float)(int32_t i) {
  float f;
  memcpy(&f, &i, sizeof f);
  return f;
}

INLINE int32_t K(float_to_bits)(float f) {
  int32_t i;
  memcpy(&i, &f, sizeof i);
  return i;
}

/* exp(x) within ~2 ulp: x = n·ln2 + r (Cody–Waite), degree-7 Taylor polynomial of e^r, times 2^(n−1)·2
   (so n = 128 does not overflow the exponent). Overflow gives +inf, x < log(FLT_MIN) gives 0, and
   x in [log(FLT_MIN), −87) gives e^−87 (no subnormals); NaN stays NaN. */
INLINE float K(exp_f)(float x) {
  const float xc = x > 88.72283935546875f ? 88.72283935546875f : (x < -87.0f ? -87.0f : x);
  const float nf = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
  const float r = (xc - nf * 0.693145751953125f) - nf * 1.428606820309417232e-6f;
  /* e^r ≈ 1 + r + r²/2 + … + r⁷/5040 by Estrin's scheme (short dependency chains). */
  const float r2 = r * r, r4 = r2 * r2;
  const float q01 = 1.0f + r, q23 = 0.5f + r * (1.0f / 6.0f), q45 = 1.0f / 24.0f + r * (1.0f / 120.0f);
  const float q67 = 1.0f / 720.0f + r * (1.0f / 5040.0f);
  const float q = (q01 + r2 * q23) + r4 * (q45 + r2 * q67);
  float result = (q * K(bits_to_float)(((int32_t)nf + 126) << 23)) * 2.0f;
  result = x > 88.72283935546875f ? INFINITY : result;
  result = x < -87.33654022216797f ? 0.0f : result;
  return x != x ? x : result;
}

/* log(x) for x ≥ FLT_MIN (here |p| + 1e-8) within ~2 ulp: x = 2^e·m, m in [√½, √2),
   log m = 2·atanh((m − 1)/(m + 1)) by its odd series. +inf stays +inf, NaN stays NaN. */
INLINE float K(log_f)(float x) {
  const int32_t bits = K(float_to_bits)(x);
  int32_t e = ((bits >> 23) & 0xff) - 127;
  float m = K(bits_to_float)((bits & 0x007fffff) | 0x3f800000);
  const int big = m > 1.41421356237f;
  m = big ? m * 0.5f : m;
  e = big ? e + 1 : e;
  const float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
  float q = 1.0f / 11.0f;
  q = q * s2 + 1.0f / 9.0f;
  q = q * s2 + 1.0f / 7.0f;
  q = q * s2 + 1.0f / 5.0f;
  q = q * s2 + 1.0f / 3.0f;
  q = q * s2 + 1.0f;
  const float result = (float)e * 0.693147180559945309f + 2.0f * s * q;
  return (x != x || x == INFINITY) ? x : result;
}

static inline double K(combine)(double *acc) {
  for (size_t w = NACC / 2; w >= 1; w /= 2)
    for (size_t j = 0; j < w; j++) acc[j] = acc[j] + acc[j + w];
  return acc[0];
}

INLINE vf K(relu)(vf a) {
#ifdef __AVX512F__
  /* maxps(0, a) = 0 > a ? 0 : a: one instruction, NaN stays NaN, the same bits as below. */
  __m512 x;
  memcpy(&x, &a, sizeof x);
  x = _mm512_max_ps(_mm512_setzero_ps(), x);
  memcpy(&a, &x, sizeof a);
  return a;
#else
  const vi negative = a < 0.0f; /* NaN stays NaN, like max(x, 0) in LO */
  return (vf)((vi)a & ~negative);
#endif
}

INLINE vf K(load)(const float *p) {
  vf x;
  memcpy(&x, p, sizeof x);
  return x;
}

INLINE void K(store)(float *p, vf x) { memcpy(p, &x, sizeof x); }

INLINE vf K(splat)(float v) {
  const vf zero = {0};
  return zero + v;
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
  const vi below = x < lo;
  return (vf)((below & (vi)K(splat)(lo)) | (~below & (vi)x));
}

/* ---- walking a tensor: runs on which the row and column indices advance by 0 or 1 ---------------- */

typedef struct {
  size_t run, start, end, row_off, row_stride, col_off, col_stride;
} K(cursor);

static void K(run_at)(const lopt_mlp_tensor *t, size_t r, K(cursor) *c) {
  c->run = r;
  if (!(t->flags & LOPT_F_FACTORED)) {
    c->start = 0;
    c->end = t->n;
    c->row_off = c->col_off = c->row_stride = c->col_stride = 0;
    return;
  }
  const size_t na = t->dims[1], mid = t->dims[2], nb = t->dims[3], post = t->dims[4];
  size_t len, a_off, b_off, b_stride;
  if (post == 1) {
    /* r = (p0·na + ia)·mid + im; the run is ib = 0..nb−1: A index (p0·mid + im)·nb + ib, B index r. */
    const size_t im = r % mid, p0 = r / (mid * na);
    len = nb;
    a_off = (p0 * mid + im) * nb;
    b_off = r;
    b_stride = 0;
  } else {
    /* r = ((p0·na + ia)·mid + im)·nb + ib; the run is q = 0..post−1. */
    const size_t ib = r % nb, t1 = r / nb, im = t1 % mid, ia = (t1 / mid) % na, p0 = t1 / (mid * na);
    len = post;
    a_off = ((p0 * mid + im) * nb + ib) * post;
    b_off = ((p0 * na + ia) * mid + im) * post;
    b_stride = 1;
  }
  c->start = r * len;
  c->end = c->start + len;
  if (t->flags & LOPT_F_ROW_IS_A) {
    c->row_off = a_off, c->row_stride = 1, c->col_off = b_off, c->col_stride = b_stride;
  } else {
    c->row_off = b_off, c->row_stride = b_stride, c->col_off = a_off, c->col_stride = 1;
  }
}

/* The segment starting at element i (moving the cursor on when i is past its run), at most max long. */
static inline size_t K(segment)(const lopt_mlp_tensor *t, K(cursor) *c, size_t i, size_t max, size_t *row,
                                size_t *col) {
  if (i >= c->end) K(run_at)(t, c->run + 1, c);
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
    if (i >= c->end) K(run_at)(t, c->run + 1, c);
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

/* ---- small_fc_lopt's layout on factored tensors: everything in registers ----------------------------
   3 momenta, 1 rms, 3 AdaFactor decays, m·rsqrt(v) and m·preconditioner, no log|p|: the 16 per-element
   features are, in feature order, g p m0 m1 m2 v m0·r m1·r m2·r r g·pre0 g·pre1 g·pre2 m0·pre0 m1·pre1
   m2·pre2 (r = rsqrt(v + 1e-6), pre_k = rowFactor_k·colFactor_k); the 12 broadcast ones come from the
   row and column arrays. These loops run whole blocks of one run with the sums or the MLP's units in
   vf registers; they compute the same float operations as build_full. */

#ifndef SHORT_PAIRS
#define SHORT_PAIRS 4 /* pairs of blocks of short runs handled per call (index lists on the stack) */
#endif

static const size_t K(small_features)[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 25, 26, 27};

static int K(is_small_layout)(const lopt_mlp_tensor *t) {
  const int want = LOPT_F_M_RSQRT_V | LOPT_F_M_FACTORS | LOPT_F_FACTORED;
  return t->nm == 3 && t->nr == 1 && t->na == 3 &&
         (t->flags & (LOPT_F_M_RSQRT_V | LOPT_F_M_FACTORS | LOPT_F_LOG_ABS_P | LOPT_F_FACTORED)) == want;
}

#define SMALL_POINTERS                                                                                        \
  const size_t n = t->n, sr = t->size_row, sc = t->size_col;                                                  \
  const float *g = t->g + i0, *p = t->p + i0, *m0 = t->acc + i0, *m1 = m0 + n, *m2 = m1 + n, *vv = m2 + n;     \
  const float *frow = t->stats + 3 * (sr + sc), *fcol = frow + 3 * sr;

/* Updates the momenta and the rms of `blocks` whole blocks from element i0 (as update()) and adds the
   squares of their 16 features to q2[f·CH …]. The squares of r = rsqrt(v + 1e-6) and m·r are taken as
   1/(v + 1e-6) and m²/(v + 1e-6) (no sqrt). */
CONTRACT INLINE void K(small_sums_body)(const lopt_mlp_tensor *t, size_t i0, size_t blocks, size_t row_off, size_t rs,
                                        size_t col_off, size_t cs, const size_t *ridx, const size_t *cidx, float *q2) {
  SMALL_POINTERS
  float *mw0 = t->acc + i0, *mw1 = mw0 + n, *mw2 = mw1 + n, *vw = mw2 + n;
  const vf B0 = K(splat)(t->decays[0]), B1 = K(splat)(t->decays[1]), B2 = K(splat)(t->decays[2]),
           BV = K(splat)(t->decays[3]);
  const vf C0 = K(splat)((float)(1.0 - (double)t->decays[0])), C1 = K(splat)((float)(1.0 - (double)t->decays[1])),
           C2 = K(splat)((float)(1.0 - (double)t->decays[2])), CV = K(splat)((float)(1.0 - (double)t->decays[3]));
  vf S[16];
  for (size_t f = 0; f < 16; f++) S[f] = K(splat)(0.0f);
  for (size_t b = 0; b < blocks; b++) {
    const size_t e = b * CH;
    const vf G = K(load)(g + e), P = K(load)(p + e);
    const vf M0 = B0 * K(load)(m0 + e) + C0 * G, M1 = B1 * K(load)(m1 + e) + C1 * G;
    const vf M2 = B2 * K(load)(m2 + e) + C2 * G, V = BV * K(load)(vv + e) + CV * (G * G);
    K(store)(mw0 + e, M0);
    K(store)(mw1 + e, M1);
    K(store)(mw2 + e, M2);
    K(store)(vw + e, V);
    const vf W = 1.0f / (V + 1e-6f);
    const size_t ro = row_off + e * rs, co = col_off + e * cs;
    const size_t *ri = ridx ? ridx + e : NULL, *ci = cidx ? cidx + e : NULL;
    const vf Q0 = K(load_at)(frow, ri, ro, rs) * K(load_at)(fcol, ci, co, cs);
    const vf Q1 = K(load_at)(frow + sr, ri, ro, rs) * K(load_at)(fcol + sc, ci, co, cs);
    const vf Q2 = K(load_at)(frow + 2 * sr, ri, ro, rs) * K(load_at)(fcol + 2 * sc, ci, co, cs);
    const vf GG = G * G, MM0 = M0 * M0, MM1 = M1 * M1, MM2 = M2 * M2;
    const vf QQ0 = Q0 * Q0, QQ1 = Q1 * Q1, QQ2 = Q2 * Q2;
    S[0] = S[0] + GG;
    S[1] = S[1] + P * P;
    S[2] = S[2] + MM0;
    S[3] = S[3] + MM1;
    S[4] = S[4] + MM2;
    S[5] = S[5] + V * V;
    S[6] = S[6] + MM0 * W;
    S[7] = S[7] + MM1 * W;
    S[8] = S[8] + MM2 * W;
    S[9] = S[9] + W;
    S[10] = S[10] + GG * QQ0;
    S[11] = S[11] + GG * QQ1;
    S[12] = S[12] + GG * QQ2;
    S[13] = S[13] + MM0 * QQ0;
    S[14] = S[14] + MM1 * QQ1;
    S[15] = S[15] + MM2 * QQ2;
  }
  for (size_t f = 0; f < 16; f++) {
    float *q = q2 + K(small_features)[f] * CH;
    K(store)(q, K(load)(q) + S[f]);
  }
}

/* small_sums_body on whole blocks of one run (strided indices) or with index lists (CH per block), each
   compiled on its own so that the strided loop has no index-list branches. */
CONTRACT static void K(small_sums_run)(const lopt_mlp_tensor *t, size_t i0, size_t blocks, size_t row_off, size_t rs,
                                       size_t col_off, size_t cs, float *q2) {
  K(small_sums_body)(t, i0, blocks, row_off, rs, col_off, cs, NULL, NULL, q2);
}

CONTRACT static void K(small_sums_lists)(const lopt_mlp_tensor *t, size_t i0, size_t blocks, const size_t *ridx,
                                         const size_t *cidx, float *q2) {
  K(small_sums_body)(t, i0, blocks, 0, 0, 0, 0, ridx, cidx, q2);
}

/* The MLP of `pairs` pairs of whole blocks (2·CH elements) of one run from element i0, with H hidden
   units in two layers. wv holds every weight broadcast to a vf: W0 of the 16 per-element features
   (folded) [16][H], W1 [H][H], W2 [H][2], b1 [H], b2 [2]; crow/ccol the first layer's row and column
   contributions with b0 already added to crow. RS and CS (the row and column strides, 0 or 1) are
   constants after inlining, so the loop has no branches. The two blocks of a pair are computed side by
   side, each feature feeding both blocks' accumulators as soon as it exists: 2·H independent chains. */
#define SMALL_BLOCK_INPUTS(s, e)                                                                             \
  const vf G##s = K(load)(g + (e)), P##s = K(load)(p + (e)), M0##s = K(load)(m0 + (e)),                        \
           M1##s = K(load)(m1 + (e)), M2##s = K(load)(m2 + (e)), V##s = K(load)(vv + (e));                      \
  const vf R##s = K(rsqrt)(V##s + 1e-6f);                                                                    \
  const size_t ro##s = row_off + (e) * RS, co##s = col_off + (e) * CS;                                       \
  const size_t *ri##s = ridx ? ridx + (e) : NULL, *ci##s = cidx ? cidx + (e) : NULL;                            \
  const vf Q0##s = K(load_at)(frow, ri##s, ro##s, RS) * K(load_at)(fcol, ci##s, co##s, CS);                    \
  const vf Q1##s = K(load_at)(frow + sr, ri##s, ro##s, RS) * K(load_at)(fcol + sc, ci##s, co##s, CS);          \
  const vf Q2##s = K(load_at)(frow + 2 * sr, ri##s, ro##s, RS) * K(load_at)(fcol + 2 * sc, ci##s, co##s, CS);

#define SMALL_ACC(f, x0, x1)                                                                                 \
  do {                                                                                                       \
    const vf xa_ = (x0), xb_ = (x1);                                                                         \
    for (size_t h = 0; h < H; h++) {                                                                         \
      A0[h] = A0[h] + w0[(f) * H + h] * xa_;                                                                 \
      A1[h] = A1[h] + w0[(f) * H + h] * xb_;                                                                 \
    }                                                                                                        \
  } while (0)

CONTRACT INLINE void K(small_apply)(const lopt_mlp_tensor *t, size_t i0, size_t pairs, size_t row_off, size_t col_off,
                                    const size_t *ridx, const size_t *cidx, const vf *wv, const float *crow,
                                    const float *ccol, float exp_mult, float step_mult, const size_t H,
                                    const size_t RS, const size_t CS) {
  SMALL_POINTERS
  const vf *w0 = wv, *w1 = w0 + 16 * H, *w2 = w1 + H * H, *b1 = w2 + 2 * H, *b2 = b1 + H;
  float *pw = t->p + i0;
  for (size_t b = 0; b < pairs; b++) {
    const size_t e0 = 2 * b * CH, e1 = e0 + CH;
    SMALL_BLOCK_INPUTS(a, e0)
    SMALL_BLOCK_INPUTS(b, e1)
    vf A0[8], A1[8];
    for (size_t h = 0; h < H; h++) {
      A0[h] = K(load_at)(crow + h * sr, ria, roa, RS) + K(load_at)(ccol + h * sc, cia, coa, CS);
      A1[h] = K(load_at)(crow + h * sr, rib, rob, RS) + K(load_at)(ccol + h * sc, cib, cob, CS);
    }
    SMALL_ACC(0, Ga, Gb);
    SMALL_ACC(1, Pa, Pb);
    SMALL_ACC(2, M0a, M0b);
    SMALL_ACC(3, M1a, M1b);
    SMALL_ACC(4, M2a, M2b);
    SMALL_ACC(5, Va, Vb);
    SMALL_ACC(6, M0a * Ra, M0b * Rb);
    SMALL_ACC(7, M1a * Ra, M1b * Rb);
    SMALL_ACC(8, M2a * Ra, M2b * Rb);
    SMALL_ACC(9, Ra, Rb);
    SMALL_ACC(10, Ga * Q0a, Gb * Q0b);
    SMALL_ACC(11, Ga * Q1a, Gb * Q1b);
    SMALL_ACC(12, Ga * Q2a, Gb * Q2b);
    SMALL_ACC(13, M0a * Q0a, M0b * Q0b);
    SMALL_ACC(14, M1a * Q1a, M1b * Q1b);
    SMALL_ACC(15, M2a * Q2a, M2b * Q2b);
    vf Z0[8], Z1[8];
    for (size_t h = 0; h < H; h++) {
      A0[h] = K(relu)(A0[h]);
      A1[h] = K(relu)(A1[h]);
      Z0[h] = Z1[h] = b1[h];
    }
    for (size_t j = 0; j < H; j++)
      for (size_t h = 0; h < H; h++) {
        Z0[h] = Z0[h] + w1[j * H + h] * A0[j];
        Z1[h] = Z1[h] + w1[j * H + h] * A1[j];
      }
    vf D0 = b2[0], D1 = b2[0], MAG0 = b2[1], MAG1 = b2[1];
    for (size_t j = 0; j < H; j++) {
      const vf z0 = K(relu)(Z0[j]), z1 = K(relu)(Z1[j]);
      D0 = D0 + w2[j * 2] * z0;
      D1 = D1 + w2[j * 2] * z1;
      MAG0 = MAG0 + w2[j * 2 + 1] * z0;
      MAG1 = MAG1 + w2[j * 2 + 1] * z1;
    }
    float d[2 * CH], mag[2 * CH], out[2 * CH];
    memcpy(d, &D0, sizeof D0);
    memcpy(d + CH, &D1, sizeof D1);
    memcpy(mag, &MAG0, sizeof MAG0);
    memcpy(mag + CH, &MAG1, sizeof MAG1);
    const float *pin = pw + e0;
    LOOP for (size_t l = 0; l < 2 * CH; l++) out[l] = pin[l] - d[l] * K(exp_f)(mag[l] * exp_mult) * step_mult;
    memcpy(pw + e0, out, sizeof out);
  }
}

/* Dispatches small_apply on the width (2, 4, 8) and the strides, all compile-time inside. */
CONTRACT static void K(small_apply_any)(const lopt_mlp_tensor *t, size_t i0, size_t pairs, size_t row_off, size_t rs,
                                        size_t col_off, size_t cs, const size_t *ridx, const size_t *cidx,
                                        const vf *wv, const float *crow, const float *ccol, float em, float sm,
                                        size_t H) {
  if (ridx) {
    /* Pairs of blocks across several runs: row and column indices from the lists (2·CH per pair). */
    if (H == 4) K(small_apply)(t, i0, pairs, 0, 0, ridx, cidx, wv, crow, ccol, em, sm, 4, 0, 0);
    if (H == 2) K(small_apply)(t, i0, pairs, 0, 0, ridx, cidx, wv, crow, ccol, em, sm, 2, 0, 0);
    if (H == 8) K(small_apply)(t, i0, pairs, 0, 0, ridx, cidx, wv, crow, ccol, em, sm, 8, 0, 0);
    return;
  }
#define SMALL_CASE(h, r, c)                                                                                   \
  if (H == (h) && rs == (r) && cs == (c)) {                                                                   \
    K(small_apply)(t, i0, pairs, row_off, col_off, NULL, NULL, wv, crow, ccol, em, sm, (h), (r), (c));        \
    return;                                                                                                   \
  }
#define SMALL_WIDTH(h) SMALL_CASE(h, 1, 0) SMALL_CASE(h, 0, 1) SMALL_CASE(h, 1, 1) SMALL_CASE(h, 0, 0)
  SMALL_WIDTH(4)
  SMALL_WIDTH(2)
  SMALL_WIDTH(8)
#undef SMALL_WIDTH
#undef SMALL_CASE
}

#undef SMALL_ACC
#undef SMALL_BLOCK_INPUTS
#undef SMALL_POINTERS

/* Factored tensors, before the features: v_row_k ← β_k v_row_k + (1−β_k)·mean over d0 of g² + 1e-30,
   v_col_k likewise over d1 (sums in double, in element order), then the row and column factors. */
static int K(update_factored)(const lopt_mlp_tensor *t) {
  const size_t n = t->n, na = t->na, sr = t->size_row, sc = t->size_col;
  double *sum_row = calloc(sr + sc, sizeof(double));
  if (!sum_row) return -1;
  double *sum_col = sum_row + sr;
  K(cursor) cur;
  for (size_t r = 0, i = 0; i < n; r++) {
    K(run_at)(t, r, &cur);
    const size_t len = cur.end - cur.start;
    const float *g = t->g + cur.start;
    double *row = sum_row + cur.row_off, *col = sum_col + cur.col_off;
    if (cur.row_stride && cur.col_stride) {
      for (size_t e = 0; e < len; e++) {
        const double q = (double)(g[e] * g[e] + 1e-30f);
        row[e] += q;
        col[e] += q;
      }
    } else {
      /* One of the two indices is constant over the run: its sum in NACC partial sums, the other per element. */
      double *moving = cur.row_stride ? row : col, *fixed = cur.row_stride ? col : row;
      if (len < NACC) {
        /* A short run (e.g. rows of 10): one sum in element order, no partial sums to combine. */
        double sum = 0.0;
        for (size_t e = 0; e < len; e++) {
          const double q = (double)(g[e] * g[e] + 1e-30f);
          moving[e] += q;
          sum += q;
        }
        fixed[0] += sum;
        i = cur.end;
        continue;
      }
      double acc[NACC] = {0};
      BLOCKED(len, {
        const double q = (double)(g[k] * g[k] + 1e-30f);
        moving[k] += q;
        acc[j] += q;
      });
      fixed[0] += K(combine)(acc);
    }
    i = cur.end;
  }
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

static int K(mlp_accumulate)(const lopt_mlp_tensor *t, const lopt_mlp_features *fo, double *moments, int want_sums) {
  const size_t n = t->n, F = fo->count;
  for (size_t f = 0; f < (want_sums ? 2 : 1) * F; f++) moments[f] = 0.0;
  if (n == 0) return 0;
  if ((t->flags & LOPT_F_FACTORED) && K(update_factored)(t) != 0) return -1;
  /* X [F][CH] | float lane sums [2F][CH] | tmp [3][CH]; double lane sums [2F][CH]. */
  float *X = malloc((3 * F * CH + 3 * CH) * sizeof(float));
  double *d2 = calloc(2 * F * CH, sizeof(double));
  if (!X || !d2) {
    free(X);
    free(d2);
    return -1;
  }
  float *q2 = X + F * CH, *q1 = q2 + F * CH, *tmp = q1 + F * CH;
  double *d1 = d2 + F * CH;
  for (size_t i = 0; i < 2 * F * CH; i++) q2[i] = 0.0f;
  size_t per_element = 0, fidx[512];
  size_t *list = F <= 512 ? fidx : NULL;
  if (!list) {
    list = malloc(F * sizeof(size_t));
    if (!list) {
      free(X);
      free(d2);
      return -1;
    }
  }
  for (size_t f = 0; f < F; f++)
    if (!K(is_broadcast)(t, fo, f)) list[per_element++] = f;
  K(cursor) cur;
  K(run_at)(t, 0, &cur);
  const int small = K(is_small_layout)(t) && !want_sums;
  size_t blocks = 0;
  for (size_t s0 = 0; s0 < n; s0 += SUPER) {
    /* Update a super-block's accumulators row by row first: a block's rows are a multiple of 4 KiB apart
       for many shapes, and storing one row right before loading the next stalls on 4K aliasing. */
    const size_t s_end = n - s0 < SUPER ? n : s0 + SUPER;
    if (small) {
      /* small_sums updates its blocks itself; other blocks are updated one by one below. */
    } else if (s_end - s0 == SUPER) {
      K(update)(t, s0, SUPER);
    } else {
      K(update)(t, s0, s_end - s0);
    }
    for (size_t b0 = s0; b0 < s_end;) {
      const size_t cnt = s_end - b0 < CH ? s_end - b0 : CH;
      size_t row, col;
      if (small && cnt == CH) {
        const size_t len = K(segment)(t, &cur, b0, s_end - b0, &row, &col);
        if (len >= CH) {
          const size_t whole = len / CH;
          K(small_sums_run)(t, b0, whole, row, cur.row_stride, col, cur.col_stride, q2);
          b0 += whole * CH;
          blocks += whole;
          goto flush;
        }
      }
      if (small && cnt == CH) {
        /* Short runs: up to 2·SHORT_PAIRS whole blocks of this super-block at once with index lists. */
        size_t ridx[2 * SHORT_PAIRS * CH], cidx[2 * SHORT_PAIRS * CH];
        const size_t left = (s_end - b0) / CH, nb = left < 2 * SHORT_PAIRS ? left : 2 * SHORT_PAIRS;
        K(segment)(t, &cur, b0, CH, &row, &col);
        for (size_t q = 0; q < nb; q++) K(block_indices)(t, &cur, b0 + q * CH, ridx + q * CH, cidx + q * CH);
        K(small_sums_lists)(t, b0, nb, ridx, cidx, q2);
        b0 += nb * CH;
        blocks += nb;
        goto flush;
      }
      if (small) K(update)(t, b0, cnt);
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
    flush:
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
  if (t->flags & LOPT_F_FACTORED) {
    /* Each v_row entry is broadcast over shape[d0] = n / size_row elements, each v_col entry over n / size_col. */
    const size_t na = t->na, sr = t->size_row, sc = t->size_col;
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
  const size_t floats = F * h1 + h1 + h1 * (sr + sc) + F * CH + h1 * CH + 2 * widest * CH + 3 * CH;
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
    /* First-layer contributions of v_row, rsqrt(v_row + 1e-8) per row entry, and likewise per column. */
    const float *vrow = t->stats, *vcol = vrow + na * sr;
    for (size_t h = 0; h < h1; h++) {
      float *cr = crow + h * sr, *cc = ccol + h * sc;
      LOOP for (size_t r = 0; r < sr; r++) cr[r] = 0.0f;
      LOOP for (size_t r = 0; r < sc; r++) cc[r] = 0.0f;
      for (size_t k = 0; k < na; k++) {
        const float wv = W0[(fo->row + k) * h1 + h], wr = W0[(fo->rrow + k) * h1 + h];
        const float *v = vrow + k * sr;
        LOOP for (size_t r = 0; r < sr; r++) cr[r] = cr[r] + wv * v[r] + wr * (1.0f / sqrtf(v[r] + 1e-8f));
        const float wc = W0[(fo->col + k) * h1 + h], wrc = W0[(fo->rcol + k) * h1 + h];
        const float *u = vcol + k * sc;
        LOOP for (size_t r = 0; r < sc; r++) cc[r] = cc[r] + wc * u[r] + wrc * (1.0f / sqrtf(u[r] + 1e-8f));
      }
    }
  }
  const float *layer_params = net->params + net->sizes[0] * h1 + h1;
  /* small_fc_lopt's layout and MLP (two hidden layers of 2, 4 or 8 units): the register path. */
  const int small = K(is_small_layout)(t) && layers == 3 && outs == 2 && (size_t)net->sizes[2] == h1 &&
                    (h1 == 2 || h1 == 4 || h1 == 8);
  vf wv[16 * 8 + 8 * 8 + 8 * 2 + 8 + 2];
  if (small) {
    const float *W1 = layer_params, *b1 = W1 + h1 * h1, *W2 = b1 + h1, *b2 = W2 + 2 * h1;
    vf *w = wv;
    for (size_t f = 0; f < 16; f++)
      for (size_t h = 0; h < h1; h++) *w++ = K(splat)(W0[K(small_features)[f] * h1 + h]);
    for (size_t i = 0; i < h1 * h1; i++) *w++ = K(splat)(W1[i]);
    for (size_t i = 0; i < 2 * h1; i++) *w++ = K(splat)(W2[i]);
    for (size_t i = 0; i < h1; i++) *w++ = K(splat)(b1[i]);
    for (size_t i = 0; i < 2; i++) *w++ = K(splat)(b2[i]);
    /* b0 goes into the row contributions. */
    for (size_t h = 0; h < h1; h++) {
      float *cr = crow + h * sr;
      const float bh = b0[h];
      LOOP for (size_t r = 0; r < sr; r++) cr[r] = cr[r] + bh;
    }
  }
  K(cursor) cur;
  K(run_at)(t, 0, &cur);
  for (size_t b = 0; b < n;) {
    if (small && n - b >= 2 * CH) {
      size_t row, col;
      const size_t len = K(segment)(t, &cur, b, n - b, &row, &col);
      if (len < 2 * CH) {
        /* Short runs: up to SHORT_PAIRS pairs of blocks at once with index lists. */
        size_t ridx[2 * SHORT_PAIRS * CH], cidx[2 * SHORT_PAIRS * CH];
        const size_t left = (n - b) / (2 * CH), pairs = left < SHORT_PAIRS ? left : SHORT_PAIRS;
        for (size_t q = 0; q < 2 * pairs; q++) K(block_indices)(t, &cur, b + q * CH, ridx + q * CH, cidx + q * CH);
        K(small_apply_any)(t, b, pairs, 0, 0, 0, 0, ridx, cidx, wv, crow, ccol, net->exp_mult, net->step_mult, h1);
        b += pairs * 2 * CH;
        continue;
      }
      if (len >= 2 * CH) {
        const size_t pairs = len / (2 * CH);
        K(small_apply_any)(t, b, pairs, row, cur.row_stride, col, cur.col_stride, NULL, NULL, wv, crow, ccol,
                           net->exp_mult, net->step_mult, h1);
        b += pairs * 2 * CH;
        continue;
      }
    }
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
          vf z = K(splat)(small ? 0.0f : b0[h]); /* the register path put b0 into crow */
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
        const float bh = small ? 0.0f : b0[h];
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
    .mlp_accumulate = K(mlp_accumulate),
    .mlp_apply = K(mlp_apply),
    .nn_adam_step = K(nn_adam_step),
};

#undef INLINE
#undef CONTRACT
