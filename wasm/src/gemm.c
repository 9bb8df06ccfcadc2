// Single-precision gemm for the WebAssembly build, which has no BLAS: C ← alpha·op(A)·op(B) + beta·C,
// row-major with leading dimensions, any transposes. It serves Backend.gemm (wasm/src/lopt_wasm.c) and
// cblas_sgemm for the learned-optimizer kernels' gemm path (cblas.h).
//
// The usual blocking of BLIS/GotoBLAS, with 128-bit SIMD: op(B) is packed KC rows × NC columns at a
// time into panels of NR columns (zero-padded), op(A) MC rows × KC at a time into panels of MR rows,
// so that the micro-kernel reads both contiguously and the packed B block stays in cache while A
// panels stream through. The micro-kernel keeps an MR × NR tile of C in 8 SIMD registers and adds one
// rank-1 product per k. Edge tiles are computed whole on the padding and only their valid part is
// added to C, so there is one micro-kernel for every shape.
#include <stddef.h>
#include <wasm_simd128.h>

#include "cblas.h"

#define MR 4    /* rows of a micro-tile */
#define NR 8    /* columns of a micro-tile: two 4-lane vectors */
#define KC 256  /* depth of a packed block */
#define MC 64   /* rows of A packed at a time (MC·KC floats = 64 KiB) */
#define NC 512  /* columns of B packed at a time (KC·NC floats = 512 KiB) */

static float packed_a[MC * KC] __attribute__((aligned(16)));
static float packed_b[KC * NC] __attribute__((aligned(16)));

/* op(X)[r][c] of a row-major X with leading dimension ld, transposed or not. */
static inline float at(const float *x, int trans, size_t ld, size_t r, size_t c) {
  return trans ? x[c * ld + r] : x[r * ld + c];
}

/* op(A)[i0 .. i0+mc)[p0 .. p0+kc) into panels of MR rows, each [kc][MR], rows past mc zero. */
static void pack_a(const float *a, int trans, size_t lda, size_t i0, size_t mc, size_t p0, size_t kc) {
  float *out = packed_a;
  for (size_t ir = 0; ir < mc; ir += MR) {
    for (size_t p = 0; p < kc; p++) {
      for (size_t r = 0; r < MR; r++) *out++ = ir + r < mc ? at(a, trans, lda, i0 + ir + r, p0 + p) : 0.0f;
    }
  }
}

/* op(B)[p0 .. p0+kc)[j0 .. j0+nc) into panels of NR columns, each [kc][NR], columns past nc zero. */
static void pack_b(const float *b, int trans, size_t ldb, size_t p0, size_t kc, size_t j0, size_t nc) {
  float *out = packed_b;
  for (size_t jr = 0; jr < nc; jr += NR) {
    if (!trans && jr + NR <= nc) {
      for (size_t p = 0; p < kc; p++, out += NR) {
        const float *row = b + (p0 + p) * ldb + j0 + jr;
        wasm_v128_store(out, wasm_v128_load(row));
        wasm_v128_store(out + 4, wasm_v128_load(row + 4));
      }
      continue;
    }
    for (size_t p = 0; p < kc; p++) {
      for (size_t c = 0; c < NR; c++) *out++ = jr + c < nc ? at(b, trans, ldb, p0 + p, j0 + jr + c) : 0.0f;
    }
  }
}

/* tile[MR][NR] ← Σ_p a[p][:] ⊗ b[p][:] over kc packed steps. */
static void micro_kernel(size_t kc, const float *a, const float *b, float *tile) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (size_t p = 0; p < kc; p++, a += MR, b += NR) {
    const v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    v128_t x = wasm_f32x4_splat(a[0]);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x, b1));
    x = wasm_f32x4_splat(a[1]);
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x, b1));
    x = wasm_f32x4_splat(a[2]);
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x, b1));
    x = wasm_f32x4_splat(a[3]);
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x, b1));
  }
  wasm_v128_store(tile, c00), wasm_v128_store(tile + 4, c01);
  wasm_v128_store(tile + 8, c10), wasm_v128_store(tile + 12, c11);
  wasm_v128_store(tile + 16, c20), wasm_v128_store(tile + 20, c21);
  wasm_v128_store(tile + 24, c30), wasm_v128_store(tile + 28, c31);
}

/* C ← beta·C; with beta = 0, C is overwritten without being read (a NaN in C does not survive). */
static void scale_c(size_t m, size_t n, float beta, float *c, size_t ldc) {
  if (beta == 1.0f) return;
  for (size_t i = 0; i < m; i++) {
    float *row = c + i * ldc;
    if (beta == 0.0f) {
      for (size_t j = 0; j < n; j++) row[j] = 0.0f;
    } else {
      for (size_t j = 0; j < n; j++) row[j] = beta * row[j];
    }
  }
}

/* C[i0.., j0..] += alpha · (the mc × nc block of op(A)·op(B) over the packed depth kc). */
static void block_product(size_t mc, size_t nc, size_t kc, float alpha, float *c, size_t ldc) {
  float tile[MR * NR] __attribute__((aligned(16)));
  for (size_t jr = 0; jr < nc; jr += NR) {
    const size_t cols = nc - jr < NR ? nc - jr : NR;
    for (size_t ir = 0; ir < mc; ir += MR) {
      const size_t rows = mc - ir < MR ? mc - ir : MR;
      micro_kernel(kc, packed_a + ir * kc, packed_b + jr * kc, tile);
      for (size_t r = 0; r < rows; r++) {
        float *out = c + (ir + r) * ldc + jr;
        for (size_t col = 0; col < cols; col++) out[col] += alpha * tile[r * NR + col];
      }
    }
  }
}

void lopt_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
               const float *b, size_t ldb, float beta, float *c, size_t ldc) {
  scale_c(m, n, beta, c, ldc);
  if (alpha == 0.0f || k == 0) return;
  for (size_t j0 = 0; j0 < n; j0 += NC) {
    const size_t nc = n - j0 < NC ? n - j0 : NC;
    for (size_t p0 = 0; p0 < k; p0 += KC) {
      const size_t kc = k - p0 < KC ? k - p0 : KC;
      pack_b(b, trans_b, ldb, p0, kc, j0, nc);
      for (size_t i0 = 0; i0 < m; i0 += MC) {
        const size_t mc = m - i0 < MC ? m - i0 : MC;
        pack_a(a, trans_a, lda, i0, mc, p0, kc);
        block_product(mc, nc, kc, alpha, c + i0 * ldc + j0, ldc);
      }
    }
  }
}

void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, int m, int n,
                 int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
  (void)order; /* row-major: the only order learned_kernels_impl.h uses */
  lopt_gemm(trans_a == CblasTrans, trans_b == CblasTrans, (size_t)m, (size_t)n, (size_t)k, alpha, a, (size_t)lda, b,
            (size_t)ldb, beta, c, (size_t)ldc);
}
