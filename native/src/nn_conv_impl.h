// Convolution kernels (conv2d_forward, conv2d_backward_input, conv2d_backward_filter), included by
// nn_kernels_impl.h once per instruction set, after im2col and col2im.
//
// Two algorithms, chosen by the geometry alone (lopt_conv_winograd in nn_kernels.c):
// - 3x3 kernels with stride 1 (and at most 2 rows/columns of padding before the image): Winograd
//   F(2x2, 3x3) (Lavin & Gray 2016). The output is cut into 2x2 tiles; a block of WG_TILES tiles at a
//   time is transformed (the 4x4 input patch: V = Bᵀ·d·B; the 3x3 kernel once per call: U = G·g·Gᵀ),
//   multiplied as 16 small products M_ξ[tile, co] = Σ_ci V_ξ[tile, ci]·U_ξ[ci, co] and transformed back
//   (Y = Aᵀ·M·A): 16·4 multiply-adds per 2x2 outputs and channel pair instead of 36. The input gradient
//   is the same convolution of dy with the flipped, transposed kernel; the filter gradient is
//   Gᵀ·(Σ_tiles V ⊙ A·dy·Aᵀ)·G, again 16 products, reduced over the tiles.
// - Otherwise (strided, other kernel sizes): im2col of a chunk of images and OpenBLAS sgemm.
//
// Every instruction set gives the same bits: each element of a product is one chain of fused
// multiply-adds in a fixed order (p = 0, 1, …; exactly rounded in software on the baseline x86-64 path,
// which makes that path slow but equal), the transforms are the same float additions and
// multiplications in the same order on every path, and channel counts are padded to multiples of 16
// whatever the vector width. Products are register-blocked: MR rows (tiles, or input channels for the
// filter gradient) by NV vectors of output channels, accumulated in registers.

#ifndef K
#error "nn_conv_impl.h is included by nn_kernels_impl.h only"
#endif

#if defined(__AVX512F__)
#define CV_VL 16 /* floats per vector */
#define CV_MR 6  /* rows of a register block */
#define CV_NV 4  /* vectors of a register block: 6 x 64 floats in 24 of the 32 zmm registers */
#define CV_VEC __m512
#define CV_LOAD _mm512_loadu_ps
#define CV_STORE _mm512_storeu_ps
#define CV_SET1 _mm512_set1_ps
#define CV_ZERO _mm512_setzero_ps
#define CV_FMA _mm512_fmadd_ps
#elif defined(__AVX2__) && defined(__FMA__)
#define CV_VL 8
#define CV_MR 6
#define CV_NV 2 /* 6 x 16 floats in 12 of the 16 ymm registers */
#define CV_VEC __m256
#define CV_LOAD _mm256_loadu_ps
#define CV_STORE _mm256_storeu_ps
#define CV_SET1 _mm256_set1_ps
#define CV_ZERO _mm256_setzero_ps
#define CV_FMA _mm256_fmadd_ps
#else
/* Baseline: 4-float vectors of GCC's vector extension and exactly rounded fused multiply-adds, like the
   hardware instruction of the other paths: fmaf where the target has the instruction (GCC inlines it),
   else emulated in double (below). */
#define CV_VL 4
#define CV_MR 4
#define CV_NV 2
typedef float K(cv_v4) __attribute__((vector_size(16)));
typedef double K(cv_d2) __attribute__((vector_size(16)));
typedef long long K(cv_i2) __attribute__((vector_size(16)));
#define CV_VEC K(cv_v4)
/* a·b + c rounded once to float, for float-valued doubles: the product is exact in double (24 + 24
   bits), the sum's rounding error e is exact (TwoSum), and rounding the sum to odd (when inexact, the
   neighbour with an odd last bit) before rounding to float rounds correctly, since 53 ≥ 24 + 2
   (Boldo & Melquiond 2008). Infinities and NaN pass through as the plain sum gives them. */
NN_INLINE K(cv_d2) K(cv_fma_odd)(K(cv_d2) a, K(cv_d2) b, K(cv_d2) c) {
  const K(cv_d2) p = a * b;
  const K(cv_d2) s = p + c;
  const K(cv_d2) bc = s - p;
  const K(cv_d2) ap = s - bc;
  const K(cv_d2) e = (p - ap) + (c - bc);
  K(cv_i2) si, ei;
  memcpy(&si, &s, sizeof si);
  memcpy(&ei, &e, sizeof ei);
  const K(cv_i2) inexact = (e != 0.0) & ((si & 1) == 0) & ((s - s) == 0.0);
  const K(cv_i2) toward_e = ((si ^ ei) >> 63) | 1; /* +1 ulp away from zero when e has s's sign, else −1 */
  si = si + (toward_e & inexact);
  K(cv_d2) r;
  memcpy(&r, &si, sizeof r);
  return r;
}
NN_INLINE CV_VEC K(cv_load)(const float *p) {
  CV_VEC v;
  memcpy(&v, p, sizeof v);
  return v;
}
NN_INLINE void K(cv_store)(float *p, CV_VEC v) { memcpy(p, &v, sizeof v); }
NN_INLINE CV_VEC K(cv_set1)(float a) {
  CV_VEC v = {a, a, a, a};
  return v;
}
NN_INLINE CV_VEC K(cv_zero)(void) { return K(cv_set1)(0.0f); }
NN_INLINE CV_VEC K(cv_fma)(CV_VEC a, CV_VEC b, CV_VEC c) {
  CV_VEC r;
#if defined(__FMA__) || defined(__aarch64__)
  for (int i = 0; i < 4; i++) r[i] = fmaf(a[i], b[i], c[i]);
#else
  for (int h = 0; h < 4; h += 2) {
    const K(cv_d2) ad = {a[h], a[h + 1]}, bd = {b[h], b[h + 1]}, cd = {c[h], c[h + 1]};
    const K(cv_d2) rd = K(cv_fma_odd)(ad, bd, cd);
    r[h] = (float)rd[0];
    r[h + 1] = (float)rd[1];
  }
#endif
  return r;
}
#define CV_LOAD K(cv_load)
#define CV_STORE K(cv_store)
#define CV_SET1 K(cv_set1)
#define CV_ZERO K(cv_zero)
#define CV_FMA K(cv_fma)
#endif

// ---- register-blocked product ---------------------------------------------------------------------

/* c[r·ldc + j] ← (accumulate ? c[r·ldc + j] : 0) + Σ_{p<n} a[r·ars + p·aps]·b[p·ldb + j] for r < R and
   j < NV·CV_VL, each element one fma chain over p in order. R and NV are constants at every call. */
NN_INLINE void K(cv_block)(const int R, const int NV, size_t n, const float *a, size_t ars, size_t aps,
                           const float *b, size_t ldb, float *c, size_t ldc, int accumulate) {
  CV_VEC s[6][4];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 8
    for (int j = 0; j < NV; j++) s[r][j] = accumulate ? CV_LOAD(c + r * ldc + j * CV_VL) : CV_ZERO();
  for (size_t p = 0; p < n; p++) {
    CV_VEC bv[4];
    const float *bp = b + p * ldb;
    const float *ap = a + p * aps;
#pragma GCC unroll 8
    for (int j = 0; j < NV; j++) bv[j] = CV_LOAD(bp + j * CV_VL);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      const CV_VEC av = CV_SET1(ap[r * ars]);
#pragma GCC unroll 8
      for (int j = 0; j < NV; j++) s[r][j] = CV_FMA(av, bv[j], s[r][j]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 8
    for (int j = 0; j < NV; j++) CV_STORE(c + r * ldc + j * CV_VL, s[r][j]);
}

#define CV_CASE(R, NV) \
  case (R) * 8 + (NV): K(cv_block)((R), (NV), n, a, ars, aps, b, ldb, c, ldc, accumulate); break;
#define CV_CASES_NV(NV) CV_CASE(1, NV) CV_CASE(2, NV) CV_CASE(3, NV) CV_CASE(4, NV) CV_CASE(5, NV) CV_CASE(6, NV)

static void K(cv_block_any)(int R, int NV, size_t n, const float *a, size_t ars, size_t aps, const float *b,
                            size_t ldb, float *c, size_t ldc, int accumulate) {
  switch (R * 8 + NV) {
    CV_CASES_NV(1)
    CV_CASES_NV(2)
#if CV_NV > 2
    CV_CASES_NV(3)
    CV_CASES_NV(4)
#endif
    default: break;
  }
}

/* C[m, n] ← (accumulate ? C : 0) + A·B with A[i, p] = a[i·ars + p·aps], B [k, n] row-major (ldb), C
   row-major (ldc); n a multiple of CV_VL. */
static void K(cv_gemm)(size_t m, size_t n, size_t k, const float *a, size_t ars, size_t aps, const float *b,
                       size_t ldb, float *c, size_t ldc, int accumulate) {
  for (size_t j0 = 0; j0 < n; j0 += CV_NV * CV_VL) {
    const int nv = (n - j0) / CV_VL < CV_NV ? (int)((n - j0) / CV_VL) : CV_NV;
    for (size_t i0 = 0; i0 < m; i0 += CV_MR) {
      const int r = m - i0 < CV_MR ? (int)(m - i0) : CV_MR;
      K(cv_block_any)(r, nv, k, a + i0 * ars, ars, aps, b + j0, ldb, c + i0 * ldc + j0, ldc, accumulate);
    }
  }
}

// ---- Winograd F(2x2, 3x3) transforms --------------------------------------------------------------

/* U[ξ][r][s] (ξ = 4a + b, rows r < rows_p, columns s < cols_p, zero beyond rows × cols) ← (G·g·Gᵀ)[a][b]
   with g[kh][kw] = w[kh][kw][r][s] (w HWIO [3, 3, rows, cols]); flipped: g[kh][kw] = w[2−kh][2−kw][s][r]
   (w [3, 3, cols, rows]: the kernel of the input gradient). */
static void K(wg_kernel_transform)(const float *w, size_t rows, size_t cols, size_t rows_p, size_t cols_p,
                                   int flipped, float *U) {
  const size_t plane = rows_p * cols_p;
  for (size_t i = 0; i < 16 * plane; i++) U[i] = 0.0f;
  for (size_t r = 0; r < rows; r++) {
    for (size_t s = 0; s < cols; s++) {
      float g[3][3], t[4][3];
      for (int kh = 0; kh < 3; kh++)
        for (int kw = 0; kw < 3; kw++)
          g[kh][kw] = flipped ? w[((size_t)((2 - kh) * 3 + (2 - kw)) * cols + s) * rows + r]
                              : w[((size_t)(kh * 3 + kw) * rows + r) * cols + s];
      for (int kw = 0; kw < 3; kw++) {
        t[0][kw] = g[0][kw];
        t[1][kw] = ((g[0][kw] + g[1][kw]) + g[2][kw]) * 0.5f;
        t[2][kw] = ((g[0][kw] - g[1][kw]) + g[2][kw]) * 0.5f;
        t[3][kw] = g[2][kw];
      }
      float *u = U + r * cols_p + s;
      for (int a = 0; a < 4; a++) {
        u[(4 * a + 0) * plane] = t[a][0];
        u[(4 * a + 1) * plane] = ((t[a][0] + t[a][1]) + t[a][2]) * 0.5f;
        u[(4 * a + 2) * plane] = ((t[a][0] - t[a][1]) + t[a][2]) * 0.5f;
        u[(4 * a + 3) * plane] = t[a][2];
      }
    }
  }
}

/* Tile t of a batch of tiles_h × tiles_w tiles per image: its image and tile row and column. */
NN_INLINE void K(wg_tile)(size_t t, size_t tiles_h, size_t tiles_w, size_t *b, size_t *th, size_t *tw) {
  const size_t per_image = tiles_h * tiles_w;
  *b = t / per_image;
  const size_t rest = t - *b * per_image;
  *th = rest / tiles_w;
  *tw = rest - *th * tiles_w;
}

/* V[ξ·ldv + i·cp + c] ← (Bᵀ·d·B)[ξ] of tile t0 + i (i < nt), d the 4x4 patch of `in` [batch, h, w, ch]
   at rows 2·th − pt …, columns 2·tw − pl … (zero outside the image); zero for c in [ch, cp). */
static void K(wg_input_transform)(const float *in, size_t h, size_t w, size_t ch, size_t cp, size_t tiles_h,
                                  size_t tiles_w, size_t pt, size_t pl, size_t t0, size_t nt,
                                  const float *zeros, float *V, size_t ldv) {
  for (size_t i = 0; i < nt; i++) {
    size_t b, th, tw;
    K(wg_tile)(t0 + i, tiles_h, tiles_w, &b, &th, &tw);
    const float *src[16];
    for (int r = 0; r < 4; r++) {
      const ptrdiff_t ih = (ptrdiff_t)(2 * th + (size_t)r) - (ptrdiff_t)pt;
      for (int q = 0; q < 4; q++) {
        const ptrdiff_t iw = (ptrdiff_t)(2 * tw + (size_t)q) - (ptrdiff_t)pl;
        const bool inside = ih >= 0 && ih < (ptrdiff_t)h && iw >= 0 && iw < (ptrdiff_t)w;
        src[4 * r + q] = inside ? in + ((b * h + (size_t)ih) * w + (size_t)iw) * ch : zeros;
      }
    }
    const float *s0 = src[0], *s1 = src[1], *s2 = src[2], *s3 = src[3], *s4 = src[4], *s5 = src[5],
                *s6 = src[6], *s7 = src[7], *s8 = src[8], *s9 = src[9], *s10 = src[10], *s11 = src[11],
                *s12 = src[12], *s13 = src[13], *s14 = src[14], *s15 = src[15];
    float *v = V + i * cp;
    LOOP for (size_t c = 0; c < ch; c++) {
      // Bᵀ·d: rows (d0 − d2, d1 + d2, d2 − d1, d1 − d3) for each column q.
      const float t00 = s0[c] - s8[c], t01 = s1[c] - s9[c], t02 = s2[c] - s10[c], t03 = s3[c] - s11[c];
      const float t10 = s4[c] + s8[c], t11 = s5[c] + s9[c], t12 = s6[c] + s10[c], t13 = s7[c] + s11[c];
      const float t20 = s8[c] - s4[c], t21 = s9[c] - s5[c], t22 = s10[c] - s6[c], t23 = s11[c] - s7[c];
      const float t30 = s4[c] - s12[c], t31 = s5[c] - s13[c], t32 = s6[c] - s14[c], t33 = s7[c] - s15[c];
      // ·B: the same combination of the columns.
      v[0 * ldv + c] = t00 - t02;
      v[1 * ldv + c] = t01 + t02;
      v[2 * ldv + c] = t02 - t01;
      v[3 * ldv + c] = t01 - t03;
      v[4 * ldv + c] = t10 - t12;
      v[5 * ldv + c] = t11 + t12;
      v[6 * ldv + c] = t12 - t11;
      v[7 * ldv + c] = t11 - t13;
      v[8 * ldv + c] = t20 - t22;
      v[9 * ldv + c] = t21 + t22;
      v[10 * ldv + c] = t22 - t21;
      v[11 * ldv + c] = t21 - t23;
      v[12 * ldv + c] = t30 - t32;
      v[13 * ldv + c] = t31 + t32;
      v[14 * ldv + c] = t32 - t31;
      v[15 * ldv + c] = t31 - t33;
    }
    for (int x = 0; x < 16; x++)
      for (size_t c = ch; c < cp; c++) v[x * ldv + c] = 0.0f;
  }
}

/* Z[ξ·ldz + i·cp + c] ← (A·e·Aᵀ)[ξ] of tile t0 + i, e the 2x2 block of dy [batch, h, w, ch] at rows 2·th,
   columns 2·tw (zero outside): the gradient of the tile's M from its 2x2 outputs. */
static void K(wg_grad_transform)(const float *dy, size_t h, size_t w, size_t ch, size_t cp, size_t tiles_h,
                                 size_t tiles_w, size_t t0, size_t nt, const float *zeros, float *Z,
                                 size_t ldz) {
  for (size_t i = 0; i < nt; i++) {
    size_t b, th, tw;
    K(wg_tile)(t0 + i, tiles_h, tiles_w, &b, &th, &tw);
    const size_t oh = 2 * th, ow = 2 * tw;
    const float *e00 = dy + ((b * h + oh) * w + ow) * ch;
    const float *e01 = ow + 1 < w ? e00 + ch : zeros;
    const float *e10 = oh + 1 < h ? e00 + w * ch : zeros;
    const float *e11 = oh + 1 < h && ow + 1 < w ? e00 + (w + 1) * ch : zeros;
    float *z = Z + i * cp;
    LOOP for (size_t c = 0; c < ch; c++) {
      // A·e: rows (e0, e0 + e1, e0 − e1, −e1) for each column; then ·Aᵀ: the same on the columns.
      const float a0 = e00[c], a1 = e01[c];
      const float b0 = e00[c] + e10[c], b1 = e01[c] + e11[c];
      const float c0 = e00[c] - e10[c], c1 = e01[c] - e11[c];
      const float d0 = -e10[c], d1 = -e11[c];
      z[0 * ldz + c] = a0;
      z[1 * ldz + c] = a0 + a1;
      z[2 * ldz + c] = a0 - a1;
      z[3 * ldz + c] = -a1;
      z[4 * ldz + c] = b0;
      z[5 * ldz + c] = b0 + b1;
      z[6 * ldz + c] = b0 - b1;
      z[7 * ldz + c] = -b1;
      z[8 * ldz + c] = c0;
      z[9 * ldz + c] = c0 + c1;
      z[10 * ldz + c] = c0 - c1;
      z[11 * ldz + c] = -c1;
      z[12 * ldz + c] = d0;
      z[13 * ldz + c] = d0 + d1;
      z[14 * ldz + c] = d0 - d1;
      z[15 * ldz + c] = -d1;
    }
    for (int x = 0; x < 16; x++)
      for (size_t c = ch; c < cp; c++) z[x * ldz + c] = 0.0f;
  }
}

/* out[b, 2·th + r, 2·tw + q, c] ← (Aᵀ·M·A)[r][q] (+ bias[c]) for the 2x2 outputs of each tile inside the
   image [batch, h, w, ch]; M[ξ·ldm + i·cp + c]. Outputs past the image go to `sink` (ch floats). */
static void K(wg_output_transform)(const float *M, size_t ldm, size_t cp, size_t tiles_h, size_t tiles_w,
                                   size_t t0, size_t nt, float *out, size_t h, size_t w, size_t ch,
                                   const float *bias, float *sink) {
  for (size_t i = 0; i < nt; i++) {
    size_t b, th, tw;
    K(wg_tile)(t0 + i, tiles_h, tiles_w, &b, &th, &tw);
    const size_t oh = 2 * th, ow = 2 * tw;
    float *o00 = out + ((b * h + oh) * w + ow) * ch;
    float *o01 = ow + 1 < w ? o00 + ch : sink;
    float *o10 = oh + 1 < h ? o00 + w * ch : sink;
    float *o11 = oh + 1 < h && ow + 1 < w ? o00 + (w + 1) * ch : sink;
    const float *m = M + i * cp;
#define WG_OUT_BODY                                                                                   \
  const float s00 = (m[0 * ldm + c] + m[4 * ldm + c]) + m[8 * ldm + c];                              \
  const float s01 = (m[1 * ldm + c] + m[5 * ldm + c]) + m[9 * ldm + c];                              \
  const float s02 = (m[2 * ldm + c] + m[6 * ldm + c]) + m[10 * ldm + c];                             \
  const float s03 = (m[3 * ldm + c] + m[7 * ldm + c]) + m[11 * ldm + c];                             \
  const float s10 = (m[4 * ldm + c] - m[8 * ldm + c]) - m[12 * ldm + c];                             \
  const float s11 = (m[5 * ldm + c] - m[9 * ldm + c]) - m[13 * ldm + c];                             \
  const float s12 = (m[6 * ldm + c] - m[10 * ldm + c]) - m[14 * ldm + c];                            \
  const float s13 = (m[7 * ldm + c] - m[11 * ldm + c]) - m[15 * ldm + c];                            \
  const float y00 = (s00 + s01) + s02, y01 = (s01 - s02) - s03;                                      \
  const float y10 = (s10 + s11) + s12, y11 = (s11 - s12) - s13;
    if (bias) {
      LOOP for (size_t c = 0; c < ch; c++) {
        WG_OUT_BODY
        o00[c] = y00 + bias[c];
        o01[c] = y01 + bias[c];
        o10[c] = y10 + bias[c];
        o11[c] = y11 + bias[c];
      }
    } else {
      LOOP for (size_t c = 0; c < ch; c++) {
        WG_OUT_BODY
        o00[c] = y00;
        o01[c] = y01;
        o10[c] = y10;
        o11[c] = y11;
      }
    }
#undef WG_OUT_BODY
  }
}

/* out [batch, oh, ow, co] ← bias + the 3x3 stride-1 convolution of in [batch, ih, iw, ci] whose output
   (r, q) reads input (r − pt + kh, q − pl + kw), with U = the transformed kernel [16][cip][cop]. ws holds
   V [16][WG_TILES][cip], M [16][WG_TILES][cop] (planes WG_PLANE_PAD floats apart beyond their size, so
   that the 16 planes of a tile do not share cache sets), then zeros and a sink of max(cip, cop) floats. */
static void K(wg_conv)(const float *in, size_t batch, size_t ih, size_t iw, size_t ci, float *out, size_t oh,
                       size_t ow, size_t co, size_t pt, size_t pl, const float *U, const float *bias,
                       float *ws) {
  const size_t cip = lopt_round16(ci), cop = lopt_round16(co), wide = cip > cop ? cip : cop;
  const size_t ldv = WG_TILES * cip + WG_PLANE_PAD, ldm = WG_TILES * cop + WG_PLANE_PAD;
  float *V = ws, *M = V + 16 * ldv, *zeros = M + 16 * ldm, *sink = zeros + wide;
  for (size_t c = 0; c < wide; c++) zeros[c] = 0.0f;
  const size_t tiles_h = (oh + 1) / 2, tiles_w = (ow + 1) / 2, total = batch * tiles_h * tiles_w;
  for (size_t t0 = 0; t0 < total; t0 += WG_TILES) {
    const size_t nt = total - t0 < WG_TILES ? total - t0 : WG_TILES;
    K(wg_input_transform)(in, ih, iw, ci, cip, tiles_h, tiles_w, pt, pl, t0, nt, zeros, V, ldv);
    for (size_t x = 0; x < 16; x++)
      K(cv_gemm)(nt, cop, cip, V + x * ldv, cip, 1, U + x * cip * cop, cop, M + x * ldm, cop, 0);
    K(wg_output_transform)(M, ldm, cop, tiles_h, tiles_w, t0, nt, out, oh, ow, co, bias, sink);
  }
}

// ---- the three convolution kernels ----------------------------------------------------------------

/* Images per chunk of the im2col path: about CV_CHUNK_ROWS output positions, at least one image. */
static size_t K(cv_chunk)(const lopt_conv_geometry *g) {
  const size_t rows = g->out_height * g->out_width;
  size_t images = rows ? CV_CHUNK_ROWS / rows : g->batch;
  if (images < 1) images = 1;
  return images < g->batch ? images : g->batch;
}

static void K(conv2d_forward)(const float *x, const lopt_conv_geometry *g, const float *w, const float *bias,
                              size_t co, float *y, float *ws) {
  const size_t ci = g->channels, positions = g->out_height * g->out_width;
  if (lopt_conv_winograd(g)) {
    const size_t cip = lopt_round16(ci), cop = lopt_round16(co);
    float *U = lopt_align64(ws);
    K(wg_kernel_transform)(w, ci, co, cip, cop, 0, U);
    K(wg_conv)(x, g->batch, g->height, g->width, ci, y, g->out_height, g->out_width, co, g->pad_top, g->pad_left,
               U, bias, U + 16 * cip * cop);
    return;
  }
  const size_t window = g->kernel * g->kernel * ci, image = g->height * g->width * ci;
  const size_t chunk = K(cv_chunk)(g);
  for (size_t b0 = 0; b0 < g->batch; b0 += chunk) {
    lopt_conv_geometry part = *g;
    part.batch = g->batch - b0 < chunk ? g->batch - b0 : chunk;
    const size_t rows = part.batch * positions;
    float *yc = y + b0 * positions * co;
    if (rows == 0 || co == 0) continue;
    if (window == 0) {
      for (size_t i = 0; i < rows * co; i++) yc[i] = 0.0f;
    } else {
      K(im2col)(x + b0 * image, &part, ws);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)co, (int)window, 1.0f, ws,
                  (int)window, w, (int)co, 0.0f, yc, (int)co);
    }
    for (size_t r = 0; r < rows; r++) {
      float *row = yc + r * co;
      LOOP for (size_t c = 0; c < co; c++) row[c] = row[c] + bias[c];
    }
  }
}

static void K(conv2d_backward_input)(const float *dy, const lopt_conv_geometry *g, const float *w, size_t co,
                                     float *dx, float *ws) {
  const size_t ci = g->channels, positions = g->out_height * g->out_width;
  if (lopt_conv_winograd(g)) {
    // dx[r, q] = Σ dy[r + pt − kh, q + pl − kw]·w[kh, kw] = a stride-1 convolution of dy with the kernel
    // flipped in space and transposed in channels, padded by 2 − pt and 2 − pl.
    const size_t cip = lopt_round16(ci), cop = lopt_round16(co);
    float *U = lopt_align64(ws);
    K(wg_kernel_transform)(w, co, ci, cop, cip, 1, U);
    K(wg_conv)(dy, g->batch, g->out_height, g->out_width, co, dx, g->height, g->width, ci, 2 - g->pad_top,
               2 - g->pad_left, U, NULL, U + 16 * cip * cop);
    return;
  }
  const size_t window = g->kernel * g->kernel * ci, image = g->height * g->width * ci;
  const size_t chunk = K(cv_chunk)(g);
  if (g->batch == 0) return;
  for (size_t b0 = 0; b0 < g->batch; b0 += chunk) {
    lopt_conv_geometry part = *g;
    part.batch = g->batch - b0 < chunk ? g->batch - b0 : chunk;
    const size_t rows = part.batch * positions;
    if (rows > 0 && window > 0) {
      if (co == 0) {
        for (size_t i = 0; i < rows * window; i++) ws[i] = 0.0f;
      } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)window, (int)co, 1.0f,
                    dy + b0 * positions * co, (int)co, w, (int)co, 0.0f, ws, (int)window);
      }
    }
    K(col2im)(ws, &part, dx + b0 * image);
  }
}

static void K(conv2d_backward_filter)(const float *x, const float *dy, const lopt_conv_geometry *g, size_t co,
                                      float *dw, float *ws) {
  const size_t ci = g->channels, positions = g->out_height * g->out_width;
  if (lopt_conv_winograd(g)) {
    const size_t cip = lopt_round16(ci), cop = lopt_round16(co), wide = cip > cop ? cip : cop;
    const size_t ldv = WG_TILES * cip + WG_PLANE_PAD, ldz = WG_TILES * cop + WG_PLANE_PAD;
    float *dU = lopt_align64(ws), *V = dU + 16 * cip * cop, *Z = V + 16 * ldv, *zeros = Z + 16 * ldz;
    for (size_t i = 0; i < 16 * cip * cop; i++) dU[i] = 0.0f;
    for (size_t c = 0; c < wide; c++) zeros[c] = 0.0f;
    const size_t oh = g->out_height, ow = g->out_width;
    const size_t tiles_h = (oh + 1) / 2, tiles_w = (ow + 1) / 2, total = g->batch * tiles_h * tiles_w;
    for (size_t t0 = 0; t0 < total; t0 += WG_TILES) {
      const size_t nt = total - t0 < WG_TILES ? total - t0 : WG_TILES;
      K(wg_input_transform)(x, g->height, g->width, ci, cip, tiles_h, tiles_w, g->pad_top, g->pad_left, t0, nt,
                            zeros, V, ldv);
      K(wg_grad_transform)(dy, oh, ow, co, cop, tiles_h, tiles_w, t0, nt, zeros, Z, ldz);
      // dU_ξ[ci, co] += Σ_tiles V_ξ[tile, ci]·Z_ξ[tile, co]: rows are input channels.
      for (size_t x16 = 0; x16 < 16; x16++)
        K(cv_gemm)(cip, cop, nt, V + x16 * ldv, 1, cip, Z + x16 * ldz, cop, dU + x16 * cip * cop, cop, 1);
    }
    // dw[kh, kw] = (Gᵀ·dU·G)[kh][kw], G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]].
    const size_t plane = cip * cop;
    for (size_t r = 0; r < ci; r++) {
      const float *u = dU + r * cop;
      float *d = dw + r * co;
      const size_t tap = ci * co; /* distance between (kh, kw) taps in dw */
      LOOP for (size_t c = 0; c < co; c++) {
        float q[3][4];
        for (int b = 0; b < 4; b++) {
          const float u0 = u[(size_t)(0 + b) * plane + c], u1 = u[(size_t)(4 + b) * plane + c];
          const float u2 = u[(size_t)(8 + b) * plane + c], u3 = u[(size_t)(12 + b) * plane + c];
          q[0][b] = u0 + (u1 + u2) * 0.5f;
          q[1][b] = (u1 - u2) * 0.5f;
          q[2][b] = (u1 + u2) * 0.5f + u3;
        }
        for (int kh = 0; kh < 3; kh++) {
          d[(size_t)(kh * 3 + 0) * tap + c] = q[kh][0] + (q[kh][1] + q[kh][2]) * 0.5f;
          d[(size_t)(kh * 3 + 1) * tap + c] = (q[kh][1] - q[kh][2]) * 0.5f;
          d[(size_t)(kh * 3 + 2) * tap + c] = (q[kh][1] + q[kh][2]) * 0.5f + q[kh][3];
        }
      }
    }
    return;
  }
  const size_t window = g->kernel * g->kernel * ci, image = g->height * g->width * ci;
  const size_t chunk = K(cv_chunk)(g);
  for (size_t i = 0; i < window * co; i++) dw[i] = 0.0f;
  if (window == 0 || co == 0) return;
  for (size_t b0 = 0; b0 < g->batch; b0 += chunk) {
    lopt_conv_geometry part = *g;
    part.batch = g->batch - b0 < chunk ? g->batch - b0 : chunk;
    const size_t rows = part.batch * positions;
    if (rows == 0) continue;
    K(im2col)(x + b0 * image, &part, ws);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)window, (int)co, (int)rows, 1.0f, ws, (int)window,
                dy + b0 * positions * co, (int)co, 1.0f, dw, (int)co);
  }
}

#undef CV_VL
#undef CV_MR
#undef CV_NV
#undef CV_VEC
#undef CV_LOAD
#undef CV_STORE
#undef CV_SET1
#undef CV_ZERO
#undef CV_FMA
#undef CV_CASE
#undef CV_CASES_NV
