// small_fc_lopt's register kernels: both passes of the per-parameter MLP optimizer for the layout of
// small_fc_lopt (3 momenta, 1 rms, 3 AdaFactor decays, m·rsqrt(v) and m·preconditioner, no log|p|) on
// factored tensors, with an MLP of two hidden layers of 2, 4 or 8 units. Included by
// learned_kernels_impl.h once per instruction set, after the helpers it uses (load, splat, rsqrt, relu,
// the cursor, update_factored).
//
// The 16 per-element features are, in feature order, g p m0 m1 m2 v m0·r m1·r m2·r r g·q0 g·q1 g·q2
// m0·q0 m1·q1 m2·q2 with r = rsqrt(v + 1e-6) and q_k = rowFactor_k·colFactor_k; the other 12 (v_row,
// v_col and their rsqrt) are broadcast from the row and column arrays and enter the first layer as
// per-row and per-column contributions (apply) or are summed from those arrays (accumulate).
//
// A run (the elements along which one of the row and column indices advances by 1 and the other is
// fixed: a matrix row) of length ≥ CH is walked in whole blocks of CH elements with the fixed side's
// values as per-run constants: q_k = moving_k(lane)·fixed_k and the first-layer contributions
// moving_h(lane) + fixed_h (apply), and the squares of g·q_k and m_k·q_k summed as g²·moving_k² over the
// run and multiplied by fixed_k² at its end (accumulate), no gathers.
// A run's last partial block is computed first, as the CH elements ending at the run's end, into a
// temporary (lanes of elements that the whole blocks cover are masked out of the sums); its leftover
// lanes are copied back after the whole blocks, so every element is read before it is written.
// Tensors with shorter runs (e.g. [128, 10]) or runs in which both indices advance (post > 1) are cut
// into chunks of consecutive whole blocks whose per-element q_k and first-layer contributions are first
// written out (expanded) from the row and column arrays; the same block loops then run with fixed
// factors of 1 (exact).
//
// The first layer is factored by the per-element values: for each hidden unit h,
//   z_h = base_h + p·w_p + v·w_v + r·w_r + g·(w_g + Σ_k q_k·w_gq_k) + Σ_k m_k·(w_m_k + r·w_mr_k + q_k·w_mq_k),
// 16 multiply-adds per unit and no products shared between units; with 16·4 + 4·4 + 4·2 for the layers,
// 4 for exp and 4 more, about 96 vector multiply-adds per block of CH elements, which bound the apply
// pass (one 16-lane FMA per cycle on the machines measured; the accumulate pass is bound by memory
// traffic). Multiply-adds are fused explicitly (fmadd below) where the instruction set has FMA, in the
// same order on AVX2 and AVX-512, so those two give the same bits; the baseline path rounds the
// products separately. The accumulators are updated as m + (1 − β)(g − m), update()'s β·m + (1 − β)·g
// up to rounding.

/* The 16 per-element features of the layout, as feature indices (mlpLoptFeatureNames). */
static const size_t K(small_features)[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 25, 26, 27};

#define SMALL_MAX_H 8
#define SMALL_CHUNK 256 /* elements per expanded chunk (a multiple of CH) */

static int K(is_small_layout)(const lopt_mlp_tensor *t) {
  const int want = LOPT_F_M_RSQRT_V | LOPT_F_M_FACTORS | LOPT_F_FACTORED;
  return t->nm == 3 && t->nr == 1 && t->na == 3 &&
         (t->flags & (LOPT_F_M_RSQRT_V | LOPT_F_M_FACTORS | LOPT_F_LOG_ABS_P | LOPT_F_FACTORED)) == want;
}

/* a·b + c, fused where the instruction set has FMA. */
INLINE vf K(fmadd)(vf a, vf b, vf c) {
#if defined(__AVX512F__)
  __m512 x, y, z;
  memcpy(&x, &a, sizeof x);
  memcpy(&y, &b, sizeof y);
  memcpy(&z, &c, sizeof z);
  x = _mm512_fmadd_ps(x, y, z);
  memcpy(&a, &x, sizeof a);
  return a;
#elif defined(__FMA__)
  __m256 x[2], y[2], z[2];
  memcpy(x, &a, sizeof x);
  memcpy(y, &b, sizeof y);
  memcpy(z, &c, sizeof z);
  x[0] = _mm256_fmadd_ps(x[0], y[0], z[0]);
  x[1] = _mm256_fmadd_ps(x[1], y[1], z[1]);
  memcpy(&a, x, sizeof a);
  return a;
#else
  return a * b + c;
#endif
}

/* c − a·b, fused where the instruction set has FMA: (−a)·b + c rounds exactly as c − a·b. */
INLINE vf K(fnmadd)(vf a, vf b, vf c) {
  return K(fmadd)(-a, b, c);
}

/* exp_f on CH lanes with fused multiply-adds (the same polynomial, limits and NaN handling). */
INLINE vf K(vexp)(vf x) {
  const vf hi = K(splat)(88.72283935546875f), lo = K(splat)(-87.0f);
  vf xc = K(select)(K(less)(hi, x), hi, x);
  xc = K(select)(K(less)(xc, lo), lo, xc);
  const vf magic = K(splat)(12582912.0f);
  const vf nf = K(fmadd)(xc, K(splat)(1.44269504088896341f), magic) - magic; /* round to nearest */
  vf r = K(fnmadd)(nf, K(splat)(0.693145751953125f), xc);
  r = K(fnmadd)(nf, K(splat)(1.428606820309417232e-6f), r);
  const vf r2 = r * r, r4 = r2 * r2;
  const vf q01 = 1.0f + r, q23 = K(fmadd)(r, K(splat)(1.0f / 6.0f), K(splat)(0.5f));
  const vf q45 = K(fmadd)(r, K(splat)(1.0f / 120.0f), K(splat)(1.0f / 24.0f));
  const vf q67 = K(fmadd)(r, K(splat)(1.0f / 5040.0f), K(splat)(1.0f / 720.0f));
  const vf q = K(fmadd)(r4, K(fmadd)(r2, q67, q45), K(fmadd)(r2, q23, q01));
  const vi n = __builtin_convertvector(nf, vi), up = n > 0; /* up: −1 or 0 */
  vf result = (q * (vf)((n + up + 127) << 23)) * (vf)((127 - up) << 23); /* times 2 or 1 */
  result = K(select)(K(less)(hi, x), K(splat)(INFINITY), result);
  result = K(select)(K(less)(x, K(splat)(-87.33654022216797f)), K(splat)(0.0f), result);
  return K(select)(K(is_nan)(x), x, result);
}

/* Are all lanes of x in [−lim, lim] (NaN is not)? */
INLINE int K(all_within)(vf x, float lim) {
#if defined(__AVX512F__)
  __m512 v;
  memcpy(&v, &x, sizeof v);
  const __mmask16 in = _mm512_cmp_ps_mask(v, _mm512_set1_ps(lim), _CMP_LE_OQ) &
                       _mm512_cmp_ps_mask(v, _mm512_set1_ps(-lim), _CMP_GE_OQ);
  return in == 0xffff;
#elif defined(__AVX2__)
  __m256 v[2];
  memcpy(v, &x, sizeof v);
  int all = 1;
  for (int i = 0; i < 2; i++) {
    const __m256 in = _mm256_and_ps(_mm256_cmp_ps(v[i], _mm256_set1_ps(lim), _CMP_LE_OQ),
                                    _mm256_cmp_ps(v[i], _mm256_set1_ps(-lim), _CMP_GE_OQ));
    all &= _mm256_movemask_ps(in) == 0xff;
  }
  return all;
#else
  float a[CH];
  memcpy(a, &x, sizeof a);
  int all = 1;
  for (size_t l = 0; l < CH; l++) all &= a[l] <= lim && a[l] >= -lim;
  return all;
#endif
}

/* e^x for |x| ≤ 1/16: 1 + x + x²/2 + x³/6 + x⁴/24 (the next term is below 1e-8 relative). The MLP's
   magnitude output times exp_mult (0.001) is nearly always this small; vexp takes the other blocks. */
INLINE vf K(vexp_small)(vf x) {
  vf q = K(fmadd)(x, K(splat)(1.0f / 24.0f), K(splat)(1.0f / 6.0f));
  q = K(fmadd)(x, q, K(splat)(0.5f));
  q = K(fmadd)(x, q, K(splat)(1.0f));
  return K(fmadd)(x, q, K(splat)(1.0f));
}

#define SMALL_EXP_LIM 0.0625f

/* ---- apply --------------------------------------------------------------------------------------- */

/* Per-tensor constants of the apply loops. A multiplicand is a float, broadcast from memory inside the
   instruction that uses it (AVX-512: a 4-byte load, no separate broadcast); it is stored once per block
   of a group ([2]) so that the compiler does not merge the two blocks' broadcasts into a register. An
   addend is a whole vf. */
typedef struct {
  size_t H;
  /* First layer [term][h], terms: 0 g, 1 p, 2 v, 3 r, 4-6 m_k, 7-9 m_k·r, 10-12 g·q_k, 13-15 m_k·q_k
     (normalisation folded in); the addends of the coefficients of g and m_k: [k][h], k = 0 for g. */
  float l1[2][16 * SMALL_MAX_H];
  vf add[4 * SMALL_MAX_H];
  float w1[2][SMALL_MAX_H * SMALL_MAX_H];
  vf b1[SMALL_MAX_H];
  /* Last layer [h][2] and bias, the step multiplier folded into d and the exp multiplier into mag. */
  float w2[2][2 * SMALL_MAX_H];
  vf b2[2];
  /* The fixed factors of q_k and first-layer contributions of a run (apply_tensor sets them). */
  float run[2][3 + SMALL_MAX_H];
} K(small_net);

/* Where the block loops of a stretch of consecutive elements read and write. */
typedef struct {
  const float *g, *p, *m0, *m1, *m2, *v; /* at the stretch's first element */
  float *out;                            /* apply: the new p */
  float *wm0, *wm1, *wm2, *wv;           /* accumulate: the updated accumulators */
  const float *q[3];                     /* apply: moving factors of q_k; accumulate: their squares */
  const float *base[SMALL_MAX_H];        /* apply: the moving first-layer contributions */
} K(small_span);

#define W(x) K(splat)(x)
#define UNROLL _Pragma("GCC unroll 16")
/* An addend in a register, so that the multiplicand of its fmadd stays a broadcast memory operand. */
#ifdef __AVX512F__
#define REG(x) ({ vf r_ = (x); __asm__("" : "+v"(r_)); r_; })
#else
#define REG(x) (x)
#endif

/* The MLP of NB (1 or 2) blocks from element e, side by side. run: the fixed factors of q_k (3) and
   the fixed first-layer contributions (H). The first layer goes term by term over all units and
   blocks: few values live, 2·H independent chains. */
INLINE void K(small_apply_group)(const K(small_net) *net, const K(small_span) *s, size_t e,
                                 const size_t NB, const size_t H) {
  vf Z[2][SMALL_MAX_H], Q[2][3], R[2];
  UNROLL for (size_t u = 0; u < NB; u++) {
    const size_t o = e + u * CH;
    R[u] = K(rsqrt)(K(load)(s->v + o) + 1e-6f);
    UNROLL for (size_t k = 0; k < 3; k++) Q[u][k] = K(load)(s->q[k] + o) * W(net->run[u][k]);
  }
  /* base + g·(w_g + Σ_k q_k·w_gq_k) */
  UNROLL for (size_t h = 0; h < H; h++)
    UNROLL for (size_t u = 0; u < NB; u++) {
      const size_t o = e + u * CH;
      const float *l1 = net->l1[u];
      vf c = K(fmadd)(Q[u][0], W(l1[10 * H + h]), REG(net->add[h]));
      c = K(fmadd)(Q[u][1], W(l1[11 * H + h]), c);
      c = K(fmadd)(Q[u][2], W(l1[12 * H + h]), c);
      Z[u][h] = K(fmadd)(K(load)(s->g + o), c, K(load)(s->base[h] + o) + W(net->run[u][3 + h]));
    }
  UNROLL for (size_t u = 0; u < NB; u++) {
    const size_t o = e + u * CH;
    const vf P = K(load)(s->p + o), V = K(load)(s->v + o);
    const float *l1 = net->l1[u];
    UNROLL for (size_t h = 0; h < H; h++) {
      Z[u][h] = K(fmadd)(P, W(l1[1 * H + h]), Z[u][h]);
      Z[u][h] = K(fmadd)(V, W(l1[2 * H + h]), Z[u][h]);
      Z[u][h] = K(fmadd)(R[u], W(l1[3 * H + h]), Z[u][h]);
    }
  }
  /* m_k·(w_m_k + r·w_mr_k + q_k·w_mq_k) */
  UNROLL for (size_t k = 0; k < 3; k++)
    UNROLL for (size_t h = 0; h < H; h++)
      UNROLL for (size_t u = 0; u < NB; u++) {
        const float *m = k == 0 ? s->m0 : (k == 1 ? s->m1 : s->m2);
        const float *l1 = net->l1[u];
        vf c = K(fmadd)(R[u], W(l1[(7 + k) * H + h]), REG(net->add[(1 + k) * H + h]));
        c = K(fmadd)(Q[u][k], W(l1[(13 + k) * H + h]), c);
        Z[u][h] = K(fmadd)(K(load)(m + e + u * CH), c, Z[u][h]);
      }
  vf A[2][SMALL_MAX_H];
  UNROLL for (size_t u = 0; u < NB; u++)
    UNROLL for (size_t h = 0; h < H; h++) A[u][h] = K(relu)(Z[u][h]);
  UNROLL for (size_t h = 0; h < H; h++)
    UNROLL for (size_t u = 0; u < NB; u++) {
      vf z = K(fmadd)(A[u][0], W(net->w1[u][h]), REG(net->b1[h]));
      UNROLL for (size_t j = 1; j < H; j++) z = K(fmadd)(A[u][j], W(net->w1[u][j * H + h]), z);
      Z[u][h] = K(relu)(z);
    }
  vf D[2], MAG[2];
  UNROLL for (size_t u = 0; u < NB; u++) {
    D[u] = K(fmadd)(Z[u][0], W(net->w2[u][0]), REG(net->b2[0]));
    MAG[u] = K(fmadd)(Z[u][0], W(net->w2[u][1]), REG(net->b2[1]));
    UNROLL for (size_t j = 1; j < H; j++) {
      D[u] = K(fmadd)(Z[u][j], W(net->w2[u][2 * j]), D[u]);
      MAG[u] = K(fmadd)(Z[u][j], W(net->w2[u][2 * j + 1]), MAG[u]);
    }
  }
  /* Which exp a block takes depends on that block alone (the same on every instruction set). */
  UNROLL for (size_t u = 0; u < NB; u++) {
    const size_t o = e + u * CH;
    const vf E = K(all_within)(MAG[u], SMALL_EXP_LIM) ? K(vexp_small)(MAG[u]) : K(vexp)(MAG[u]);
    K(store)(s->out + o, K(fnmadd)(D[u], E, K(load)(s->p + o)));
  }
}

#undef W
#undef UNROLL
#undef REG

/* small_apply_group over `blocks` blocks, two at a time with AVX-512's 32 registers (AVX2's 16 hold the
   values of one block), for each width, compiled on its own. */
#ifdef __AVX512F__
#define SMALL_PAIRS 1
#else
#define SMALL_PAIRS 0
#endif
#define SMALL_APPLY_WIDTH(h)                                                                                  \
  static void K(small_apply_h##h)(const K(small_net) *net, const K(small_span) *s, size_t blocks) {         \
    size_t b = 0;                                                                                             \
    if (SMALL_PAIRS)                                                                                          \
      for (; b + 2 <= blocks; b += 2) K(small_apply_group)(net, s, b * CH, 2, h);                             \
    for (; b < blocks; b++) K(small_apply_group)(net, s, b * CH, 1, h);                                       \
  }
SMALL_APPLY_WIDTH(2)
SMALL_APPLY_WIDTH(4)
SMALL_APPLY_WIDTH(8)
#undef SMALL_APPLY_WIDTH

static void K(small_apply_any)(const K(small_net) *net, const K(small_span) *s, size_t blocks) {
  if (net->H == 4) K(small_apply_h4)(net, s, blocks);
  else if (net->H == 2) K(small_apply_h2)(net, s, blocks);
  else K(small_apply_h8)(net, s, blocks);
}

/* The span of elements from i for the element arrays of t. */
static void K(small_elements)(const lopt_mlp_tensor *t, size_t i, K(small_span) *s) {
  const size_t n = t->n;
  s->g = t->g + i;
  s->p = t->p + i;
  s->m0 = t->acc + i;
  s->m1 = t->acc + n + i;
  s->m2 = t->acc + 2 * n + i;
  s->v = t->acc + 3 * n + i;
  s->wm0 = t->acc + i;
  s->wm1 = t->acc + n + i;
  s->wm2 = t->acc + 2 * n + i;
  s->wv = t->acc + 3 * n + i;
  s->out = t->p + i;
}

/* Does the tensor take the per-run loops (runs of ≥ CH elements with one fixed index)? Else expanded
   chunks. len: the run length. */
static int K(small_by_runs)(const lopt_mlp_tensor *t, size_t *len) {
  const size_t post = t->dims[4];
  *len = post == 1 ? t->dims[3] : post;
  return post == 1 && *len >= CH;
}

/* Writes, for the cnt elements from i, q_k = rowFactor_k·colFactor_k (or its square when `square`) into
   q[k·SMALL_CHUNK …] and, when rows is given, rows[h·size_row + row] + cols[h·size_col + col] into
   base[h·SMALL_CHUNK …]. */
static void K(small_expand)(const lopt_mlp_tensor *t, size_t i, size_t cnt, int square, float *q, const float *rows,
                            const float *cols, size_t H, float *base) {
  const size_t sr = t->size_row, sc = t->size_col, len = t->dims[4] == 1 ? t->dims[3] : t->dims[4];
  const float *frow = t->stats + 3 * (sr + sc), *fcol = frow + 3 * sr;
  K(cursor) cur;
  K(run_at)(t, i / len, &cur);
  for (size_t e0 = 0; e0 < cnt;) {
    size_t row, col;
    const size_t seg = K(segment)(t, &cur, i + e0, cnt - e0, &row, &col);
    const size_t rs = cur.row_stride, cs = cur.col_stride;
    for (size_t k = 0; k < 3; k++) {
      const float *fr = frow + k * sr, *fc = fcol + k * sc;
      float *qk = q + k * SMALL_CHUNK + e0;
      for (size_t e = 0; e < seg; e++) {
        const float x = fr[row + e * rs] * fc[col + e * cs];
        qk[e] = square ? x * x : x;
      }
    }
    for (size_t h = 0; rows && h < H; h++) {
      const float *cr = rows + h * sr, *cc = cols + h * sc;
      float *bh = base + h * SMALL_CHUNK + e0;
      for (size_t e = 0; e < seg; e++) bh[e] = cr[row + e * rs] + cc[col + e * cs];
    }
    e0 += seg;
  }
}

/* Short runs of a matrix-like tensor (post 1, pre·mid 1, runs shorter than CH): chunks of CH runs (len
   blocks) start at a run boundary, so lane l of block b of every chunk is at run CH·c + (CH·b + l)/len
   and moving index (CH·b + l) % len. The expanded values are built per block with one permutation of
   CH consecutive fixed-side values instead of per run. */
typedef struct {
  size_t len, runs, count; /* count: 3 q factors (+ H first-layer contributions) */
  vi run_of[CH];           /* [b]: (CH·b + l) / len */
  vf moving[(3 + SMALL_MAX_H) * CH]; /* [j·CH + b]: the moving side's value j at (CH·b + l) % len */
  float *fixed;            /* [j][runs + CH]: the fixed side's value j per run, zero padded */
} K(small_periodic);

static int K(is_periodic)(const lopt_mlp_tensor *t) {
  return t->dims[4] == 1 && t->dims[0] * t->dims[2] == 1 && t->dims[3] < CH;
}

/* A periodic layout for t with room for 3 (+ H when apply) values, or NULL when out of memory. */
static K(small_periodic) *K(periodic_alloc)(const lopt_mlp_tensor *t, size_t H) {
  K(small_periodic) *p = aligned_alloc(64, sizeof(K(small_periodic)));
  if (!p) return NULL;
  p->len = t->dims[3];
  p->runs = t->n / p->len;
  p->count = 3 + H;
  p->fixed = calloc(p->count * (p->runs + CH), sizeof(float));
  if (!p->fixed) {
    free(p);
    return NULL;
  }
  return p;
}

static void K(periodic_free)(K(small_periodic) *p) {
  if (p) free(p->fixed);
  free(p);
}

/* Fills p from t's row and column factors and, for apply, the first-layer contributions rows/cols. */
static void K(periodic_fill)(K(small_periodic) *p, const lopt_mlp_tensor *t, const float *rows, const float *cols) {
  const size_t sr = t->size_row, sc = t->size_col, len = p->len, runs = p->runs;
  const int row_moves = (t->flags & LOPT_F_ROW_IS_A) != 0;
  const float *frow = t->stats + 3 * (sr + sc), *fcol = frow + 3 * sr;
  /* Lane l of block b is element CH·b + l of the chunk: run (CH·b + l) / len, position (CH·b + l) % len. */
  int32_t pos[CH * CH];
  for (size_t e = 0, run = 0, at = 0; e < len * CH; e++) {
    p->run_of[e / CH][e % CH] = (int32_t)run;
    pos[e] = (int32_t)at;
    if (++at == len) at = 0, run++;
  }
  for (size_t j = 0; j < p->count; j++) {
    /* Value j: q factor j (row or column factor), or the first-layer contribution of unit j − 3. */
    const float *ms, *fs;
    if (j < 3) {
      ms = row_moves ? frow + j * sr : fcol + j * sc;
      fs = row_moves ? fcol + j * sc : frow + j * sr;
    } else {
      ms = row_moves ? rows + (j - 3) * sr : cols + (j - 3) * sc;
      fs = row_moves ? cols + (j - 3) * sc : rows + (j - 3) * sr;
    }
    for (size_t e = 0; e < len * CH; e++) p->moving[j * CH + e / CH][e % CH] = ms[pos[e]];
    memcpy(p->fixed + j * (runs + CH), fs, runs * sizeof(float));
  }
}

/* The lanes of v at the lane indices idx: GCC's __builtin_shuffle; clang (the WebAssembly build,
   scripts/build-wasm.mjs) has no shuffle with a variable mask, so it reads the lanes one by one. */
INLINE vf K(permute)(vf v, vi idx) {
#if defined(__clang__)
  vf out;
  for (size_t l = 0; l < CH; l++) out[l] = v[idx[l] & (CH - 1)];
  return out;
#else
  return __builtin_shuffle(v, idx);
#endif
}

/* The expanded values of the `blocks` blocks of chunk c (as small_expand). */
static void K(periodic_expand)(const K(small_periodic) *p, size_t c, size_t blocks, int square, float *q,
                               float *base) {
  for (size_t j = 0; j < p->count; j++) {
    const vf window = K(load)(p->fixed + j * (p->runs + CH) + CH * c);
    float *out = j < 3 ? q + j * SMALL_CHUNK : base + (j - 3) * SMALL_CHUNK;
    for (size_t b = 0; b < blocks; b++) {
      const vf fixed = K(permute)(window, p->run_of[b]), moving = p->moving[j * CH + b];
      vf x;
      if (j < 3) {
        x = moving * fixed;
        if (square) x = x * x;
      } else {
        x = moving + fixed;
      }
      K(store)(out + b * CH, x);
    }
  }
}

/* The apply pass of a small_fc_lopt tensor (n ≥ CH). W0: the first layer with the normalisation folded
   in, [F][H]; crow/ccol: the per-row and per-column first-layer contributions, b0 included in crow. */
static int K(small_apply_tensor)(const lopt_mlp_tensor *t, const float *W0, const float *crow, const float *ccol,
                                 const float *layer_params, size_t H, float exp_mult, float step_mult) {
  K(small_net) *net = aligned_alloc(64, sizeof(K(small_net)));
  size_t len;
  const int by_runs = K(small_by_runs)(t, &len), periodic = !by_runs && K(is_periodic)(t);
  K(small_periodic) *per = periodic ? K(periodic_alloc)(t, H) : NULL;
  if (!net || (periodic && !per)) {
    free(net);
    K(periodic_free)(per);
    return -1;
  }
  net->H = H;
  static const size_t terms[16] = {0, 1, 5, 9, 2, 3, 4, 6, 7, 8, 10, 11, 12, 25, 26, 27};
  for (size_t u = 0; u < 2; u++)
    for (size_t j = 0; j < 16; j++)
      for (size_t h = 0; h < H; h++) net->l1[u][j * H + h] = W0[terms[j] * H + h];
  for (size_t h = 0; h < H; h++) {
    net->add[h] = K(splat)(W0[h]); /* g */
    for (size_t k = 0; k < 3; k++) net->add[(1 + k) * H + h] = K(splat)(W0[(2 + k) * H + h]); /* m_k */
  }
  const float *W1 = layer_params, *b1 = W1 + H * H, *W2 = b1 + H, *b2 = W2 + 2 * H;
  for (size_t u = 0; u < 2; u++) {
    for (size_t i = 0; i < H * H; i++) net->w1[u][i] = W1[i];
    for (size_t h = 0; h < H; h++) {
      net->w2[u][2 * h] = W2[2 * h] * step_mult;
      net->w2[u][2 * h + 1] = W2[2 * h + 1] * exp_mult;
    }
  }
  for (size_t h = 0; h < H; h++) net->b1[h] = K(splat)(b1[h]);
  net->b2[0] = K(splat)(b2[0] * step_mult);
  net->b2[1] = K(splat)(b2[1] * exp_mult);
  const size_t n = t->n, sr = t->size_row, sc = t->size_col;
  const float *frow = t->stats + 3 * (sr + sc), *fcol = frow + 3 * sr;
  K(small_span) s;
  if (by_runs) {
    const int row_moves = (t->flags & LOPT_F_ROW_IS_A) != 0;
    const size_t whole = len / CH, rem = len % CH, runs = n / len;
    const float *mf = row_moves ? frow : fcol, *ff = row_moves ? fcol : frow;
    const float *mb = row_moves ? crow : ccol, *fb = row_moves ? ccol : crow;
    const size_t ms = row_moves ? sr : sc, fs = row_moves ? sc : sr;
    float tail[CH];
    K(cursor) cur;
    K(run_at)(t, 0, &cur);
    for (size_t r = 0; r < runs; r++, K(run_next)(t, &cur)) {
      const size_t moving = row_moves ? cur.row_off : cur.col_off, fixed = row_moves ? cur.col_off : cur.row_off;
      for (size_t k = 0; k < 3; k++) net->run[0][k] = net->run[1][k] = ff[k * fs + fixed];
      for (size_t h = 0; h < H; h++) net->run[0][3 + h] = net->run[1][3 + h] = fb[h * fs + fixed];
      const size_t skip = rem ? len - CH : 0; /* the tail block: the last CH elements of the run */
      if (rem) {
        K(small_elements)(t, cur.start + skip, &s);
        s.out = tail;
        for (size_t k = 0; k < 3; k++) s.q[k] = mf + k * ms + moving + skip;
        for (size_t h = 0; h < H; h++) s.base[h] = mb + h * ms + moving + skip;
        K(small_apply_any)(net, &s, 1);
      }
      K(small_elements)(t, cur.start, &s);
      for (size_t k = 0; k < 3; k++) s.q[k] = mf + k * ms + moving;
      for (size_t h = 0; h < H; h++) s.base[h] = mb + h * ms + moving;
      K(small_apply_any)(net, &s, whole);
      if (rem) memcpy(t->p + cur.start + whole * CH, tail + CH - rem, rem * sizeof(float));
    }
  } else {
    /* Expanded chunks: q_k and the first-layer contributions per element; fixed factors 1 and −0 (exact). */
    float q[3 * SMALL_CHUNK], base[SMALL_MAX_H * SMALL_CHUNK], tail[CH];
    for (size_t k = 0; k < 3; k++) net->run[0][k] = net->run[1][k] = 1.0f;
    for (size_t h = 0; h < H; h++) net->run[0][3 + h] = net->run[1][3 + h] = -0.0f;
    for (size_t k = 0; k < 3; k++) s.q[k] = q + k * SMALL_CHUNK;
    for (size_t h = 0; h < H; h++) s.base[h] = base + h * SMALL_CHUNK;
    const size_t whole = n / CH, rem = n % CH;
    if (rem) {
      /* The last CH elements first, into tail. */
      K(small_expand)(t, n - CH, CH, 0, q, crow, ccol, H, base);
      K(small_elements)(t, n - CH, &s);
      s.out = tail;
      K(small_apply_any)(net, &s, 1);
    }
    if (periodic) {
      K(periodic_fill)(per, t, crow, ccol);
      for (size_t c = 0; c * len < whole; c++) {
        const size_t cnt = whole - c * len < len ? whole - c * len : len;
        K(periodic_expand)(per, c, cnt, 0, q, base);
        K(small_elements)(t, c * len * CH, &s);
        K(small_apply_any)(net, &s, cnt);
      }
    } else {
      for (size_t i = 0; i < whole * CH; i += SMALL_CHUNK) {
        const size_t cnt = whole * CH - i < SMALL_CHUNK ? whole * CH - i : SMALL_CHUNK;
        K(small_expand)(t, i, cnt, 0, q, crow, ccol, H, base);
        K(small_elements)(t, i, &s);
        K(small_apply_any)(net, &s, cnt / CH);
      }
    }
    if (rem) memcpy(t->p + whole * CH, tail + CH - rem, rem * sizeof(float));
  }
  free(net);
  K(periodic_free)(per);
  return 0;
}

#define SUNROLL _Pragma("GCC unroll 16")

/* ---- accumulate ---------------------------------------------------------------------------------- */

/* Updates the accumulators of `blocks` whole blocks (m + (1 − β)(g − m)) and adds their features' squares to
   A[16] (small_features order) and T[6]: the squares of (g·q_k) and (m_k·q_k) are summed into T as
   g²·s.q[k] and m_k²·s.q[k] (the moving factors squared), to be multiplied by the fixed factors squared.
   With a mask, only its lanes count. The squares of r and m·r are taken as 1/(v + 1e-6) and
   m²/(v + 1e-6). decay: B0 B1 B2 BV C0 C1 C2 CV (C = 1 − B). */
INLINE void K(small_sums_blocks)(const vf *decay, const K(small_span) *s, size_t blocks, vf *A, vf *T,
                                 const vi *mask) {
  for (size_t b = 0; b < blocks; b++) {
    const size_t e = b * CH;
    const vf G = K(load)(s->g + e);
    const vf m0 = K(load)(s->m0 + e), m1 = K(load)(s->m1 + e), m2 = K(load)(s->m2 + e), v = K(load)(s->v + e);
    vf M0 = K(fmadd)(decay[4], G - m0, m0);
    vf M1 = K(fmadd)(decay[5], G - m1, m1);
    vf M2 = K(fmadd)(decay[6], G - m2, m2);
    vf GG = G * G;
    vf V = K(fmadd)(decay[7], GG - v, v);
    K(store)(s->wm0 + e, M0);
    K(store)(s->wm1 + e, M1);
    K(store)(s->wm2 + e, M2);
    K(store)(s->wv + e, V);
    vf P = K(load)(s->p + e), W = 1.0f / (V + 1e-6f);
    if (mask) {
      const vi m = *mask;
      GG = (vf)((vi)GG & m), P = (vf)((vi)P & m), V = (vf)((vi)V & m), W = (vf)((vi)W & m);
      M0 = (vf)((vi)M0 & m), M1 = (vf)((vi)M1 & m), M2 = (vf)((vi)M2 & m);
    }
    const vf MM0 = M0 * M0, MM1 = M1 * M1, MM2 = M2 * M2;
    A[0] = A[0] + GG;
    A[1] = K(fmadd)(P, P, A[1]);
    A[2] = A[2] + MM0;
    A[3] = A[3] + MM1;
    A[4] = A[4] + MM2;
    A[5] = K(fmadd)(V, V, A[5]);
    A[6] = K(fmadd)(MM0, W, A[6]);
    A[7] = K(fmadd)(MM1, W, A[7]);
    A[8] = K(fmadd)(MM2, W, A[8]);
    A[9] = A[9] + W;
    const vf QQ0 = K(load)(s->q[0] + e), QQ1 = K(load)(s->q[1] + e), QQ2 = K(load)(s->q[2] + e);
    T[0] = K(fmadd)(GG, QQ0, T[0]);
    T[1] = K(fmadd)(GG, QQ1, T[1]);
    T[2] = K(fmadd)(GG, QQ2, T[2]);
    T[3] = K(fmadd)(MM0, QQ0, T[3]);
    T[4] = K(fmadd)(MM1, QQ1, T[4]);
    T[5] = K(fmadd)(MM2, QQ2, T[5]);
  }
}

/* A[10 + k] += T[k]·fixed2[k], A[13 + k] += T[3 + k]·fixed2[k]. */
INLINE void K(small_sums_fold)(vf *A, const vf *T, const vf *fixed2) {
  SUNROLL for (size_t k = 0; k < 3; k++) {
    A[10 + k] = K(fmadd)(T[k], fixed2[k], A[10 + k]);
    A[13 + k] = K(fmadd)(T[3 + k], fixed2[k], A[13 + k]);
  }
}

/* small_sums_blocks over one stretch with fixed factors fixed2 (squared), adding to S. */
INLINE void K(small_sums_body)(const vf *decay, const K(small_span) *s, size_t blocks, const vf *fixed2, vf *S,
                               const vi *mask) {
  vf A[16], T[6];
  SUNROLL for (size_t f = 0; f < 16; f++) A[f] = S[f];
  SUNROLL for (size_t k = 0; k < 6; k++) T[k] = K(splat)(0.0f);
  K(small_sums_blocks)(decay, s, blocks, A, T, mask);
  K(small_sums_fold)(A, T, fixed2);
  SUNROLL for (size_t f = 0; f < 16; f++) S[f] = A[f];
}

static void K(small_sums)(const vf *decay, const K(small_span) *s, size_t blocks, const vf *fixed2, vf *S) {
  K(small_sums_body)(decay, s, blocks, fixed2, S, NULL);
}

static void K(small_sums_masked)(const vf *decay, const K(small_span) *s, const vf *fixed2, vf *S, const vi *mask) {
  K(small_sums_body)(decay, s, 1, fixed2, S, mask);
}

/* small_sums over the whole runs r0 … r0 + nruns − 1 of a tensor whose runs are whole blocks (post 1):
   run r starts at element r·len, its fixed index is r and its moving index starts at (p0·mid + im)·nb
   (run_at). mq/fq: the moving/fixed factors squared, [3][ms] and [3][fs]. The sums stay in registers
   from run to run. */
static void K(small_sums_runs)(const vf *decay, const lopt_mlp_tensor *t, size_t r0, size_t nruns, const float *mq,
                               size_t ms, const float *fq, size_t fs, vf *S) {
  const size_t na = t->dims[1], mid = t->dims[2], nb = t->dims[3], whole = nb / CH;
  size_t im = r0 % mid, ia = (r0 / mid) % na, p0 = r0 / (mid * na);
  vf A[16], T[6];
  SUNROLL for (size_t f = 0; f < 16; f++) A[f] = S[f];
  K(small_span) s;
  for (size_t r = r0; r < r0 + nruns; r++) {
    const size_t moving = (p0 * mid + im) * nb;
    K(small_elements)(t, r * nb, &s);
    SUNROLL for (size_t k = 0; k < 3; k++) s.q[k] = mq + k * ms + moving;
    SUNROLL for (size_t k = 0; k < 6; k++) T[k] = K(splat)(0.0f);
    K(small_sums_blocks)(decay, &s, whole, A, T, NULL);
    const vf fixed2[3] = {K(splat)(fq[r]), K(splat)(fq[fs + r]), K(splat)(fq[2 * fs + r])};
    K(small_sums_fold)(A, T, fixed2);
    if (++im == mid) {
      im = 0;
      if (++ia == na) ia = 0, p0++;
    }
  }
  SUNROLL for (size_t f = 0; f < 16; f++) S[f] = A[f];
}

#undef SUNROLL

/* Adds the float lane sums S into the double lane sums d [16][CH] and clears them. */
static void K(small_flush)(vf *S, double *d) {
  for (size_t f = 0; f < 16; f++) {
    float a[CH];
    memcpy(a, &S[f], sizeof a);
    double *df = d + f * CH;
    LOOP for (size_t l = 0; l < CH; l++) df[l] += (double)a[l];
    S[f] = K(splat)(0.0f);
  }
}

/* Scratch memory of small_accumulate_tensor, allocated before anything is written: the squared factors
   (per-run loops) or the periodic layout (short runs of a matrix). */
typedef struct {
  float *sq;
  K(small_periodic) *per;
} K(small_scratch);

static int K(small_scratch_alloc)(const lopt_mlp_tensor *t, K(small_scratch) *x) {
  size_t len;
  x->sq = NULL;
  x->per = NULL;
  if (K(small_by_runs)(t, &len)) {
    x->sq = malloc(3 * (t->size_row + t->size_col) * sizeof(float));
    return x->sq ? 0 : -1;
  }
  if (K(is_periodic)(t)) {
    x->per = K(periodic_alloc)(t, 0);
    return x->per ? 0 : -1;
  }
  return 0;
}

static void K(small_scratch_free)(K(small_scratch) *x) {
  free(x->sq);
  K(periodic_free)(x->per);
}

/* The accumulate pass of a small_fc_lopt tensor (n ≥ CH) after update_factored: the accumulators and the
   sums of squares of the 16 per-element features into moments (feature order). */
static void K(small_accumulate_tensor)(const lopt_mlp_tensor *t, double *moments, K(small_scratch) *x) {
  const size_t n = t->n, sr = t->size_row, sc = t->size_col;
  const float *frow = t->stats + 3 * (sr + sc);
  double d[16 * CH];
  for (size_t i = 0; i < 16 * CH; i++) d[i] = 0.0;
  vf S[16], decay[8], fixed2[3];
  for (size_t f = 0; f < 16; f++) S[f] = K(splat)(0.0f);
  for (size_t k = 0; k < 4; k++) {
    decay[k] = K(splat)(t->decays[k]);
    decay[4 + k] = K(splat)((float)(1.0 - (double)t->decays[k]));
  }
  size_t pending = 0; /* blocks in S since the last flush */
  K(small_span) s;
  float tm[4 * CH];
  vi mask;
  size_t len;
  if (K(small_by_runs)(t, &len)) {
    /* Squares of the row and column factors. */
    float *sq = x->sq;
    LOOP for (size_t i = 0; i < 3 * (sr + sc); i++) sq[i] = frow[i] * frow[i];
    const int row_moves = (t->flags & LOPT_F_ROW_IS_A) != 0;
    const float *mq = row_moves ? sq : sq + 3 * sr, *fq = row_moves ? sq + 3 * sr : sq;
    const size_t ms = row_moves ? sr : sc, fs = row_moves ? sc : sr;
    const size_t whole = len / CH, rem = len % CH;
    size_t runs = n / len; /* left to the per-run loop below */
    for (size_t l = 0; l < CH; l++) mask[l] = l >= CH - rem ? -1 : 0;
    if (rem == 0 && whole <= FLUSH) {
      /* Runs of whole blocks, as many per call as fit between two flushes. */
      const size_t per = FLUSH / whole;
      for (size_t r = 0; r < runs; r += per) {
        const size_t cnt = runs - r < per ? runs - r : per;
        K(small_sums_runs)(decay, t, r, cnt, mq, ms, fq, fs, S);
        K(small_flush)(S, d);
      }
      runs = 0;
    }
    K(cursor) cur;
    K(run_at)(t, 0, &cur);
    for (size_t r = 0; r < runs; r++, K(run_next)(t, &cur)) {
      const size_t moving = row_moves ? cur.row_off : cur.col_off, fixed = row_moves ? cur.col_off : cur.row_off;
      for (size_t k = 0; k < 3; k++) fixed2[k] = K(splat)(fq[k * fs + fixed]);
      if (rem) {
        /* The tail block (the run's last CH elements) first: its accumulators into tm, only the
           leftover lanes into the sums. */
        const size_t skip = len - CH;
        if (pending + 1 > FLUSH) K(small_flush)(S, d), pending = 0;
        K(small_elements)(t, cur.start + skip, &s);
        s.wm0 = tm, s.wm1 = tm + CH, s.wm2 = tm + 2 * CH, s.wv = tm + 3 * CH;
        for (size_t k = 0; k < 3; k++) s.q[k] = mq + k * ms + moving + skip;
        K(small_sums_masked)(decay, &s, fixed2, S, &mask);
        pending += 1;
      }
      for (size_t b = 0; b < whole;) {
        const size_t cnt = whole - b < FLUSH ? whole - b : FLUSH;
        if (pending + cnt > FLUSH) K(small_flush)(S, d), pending = 0;
        K(small_elements)(t, cur.start + b * CH, &s);
        for (size_t k = 0; k < 3; k++) s.q[k] = mq + k * ms + moving + b * CH;
        K(small_sums)(decay, &s, cnt, fixed2, S);
        pending += cnt;
        b += cnt;
      }
      if (rem) {
        const size_t at = cur.start + whole * CH;
        for (size_t k = 0; k < 4; k++) memcpy(t->acc + k * n + at, tm + k * CH + CH - rem, rem * sizeof(float));
      }
    }
  } else {
    /* Expanded chunks of q_k², fixed factors 1. */
    float q[3 * SMALL_CHUNK];
    for (size_t k = 0; k < 3; k++) fixed2[k] = K(splat)(1.0f);
    const size_t whole = n / CH, rem = n % CH;
    if (rem) {
      for (size_t l = 0; l < CH; l++) mask[l] = l >= CH - rem ? -1 : 0;
      K(small_expand)(t, n - CH, CH, 1, q, NULL, NULL, 0, NULL);
      K(small_elements)(t, n - CH, &s);
      s.wm0 = tm, s.wm1 = tm + CH, s.wm2 = tm + 2 * CH, s.wv = tm + 3 * CH;
      for (size_t k = 0; k < 3; k++) s.q[k] = q + k * SMALL_CHUNK;
      K(small_sums_masked)(decay, &s, fixed2, S, &mask);
      pending += 1;
    }
    for (size_t k = 0; k < 3; k++) s.q[k] = q + k * SMALL_CHUNK;
    if (x->per) {
      K(small_periodic) *per = x->per;
      K(periodic_fill)(per, t, NULL, NULL);
      const size_t len = per->len;
      for (size_t c = 0; c * len < whole; c++) {
        const size_t cnt = whole - c * len < len ? whole - c * len : len;
        if (pending + cnt > FLUSH) K(small_flush)(S, d), pending = 0;
        K(periodic_expand)(per, c, cnt, 1, q, NULL);
        K(small_elements)(t, c * len * CH, &s);
        for (size_t k = 0; k < 3; k++) s.q[k] = q + k * SMALL_CHUNK;
        K(small_sums)(decay, &s, cnt, fixed2, S);
        pending += cnt;
      }
    } else {
      for (size_t i = 0; i < whole * CH; i += SMALL_CHUNK) {
        const size_t cnt = whole * CH - i < SMALL_CHUNK ? whole * CH - i : SMALL_CHUNK;
        if (pending + cnt / CH > FLUSH) K(small_flush)(S, d), pending = 0;
        K(small_expand)(t, i, cnt, 1, q, NULL, NULL, 0, NULL);
        K(small_elements)(t, i, &s);
        for (size_t k = 0; k < 3; k++) s.q[k] = q + k * SMALL_CHUNK;
        K(small_sums)(decay, &s, cnt / CH, fixed2, S);
        pending += cnt / CH;
      }
    }
    if (rem) {
      for (size_t k = 0; k < 4; k++) memcpy(t->acc + k * n + whole * CH, tm + k * CH + CH - rem, rem * sizeof(float));
    }
  }
  K(small_flush)(S, d);
  for (size_t f = 0; f < 16; f++) moments[K(small_features)[f]] = K(combine)(d + f * CH);
}

#undef SMALL_MAX_H
#undef SMALL_PAIRS
#undef SMALL_CHUNK
#undef SMALL_EXP_LIM
