// The one CBLAS routine the learned-optimizer kernels call (learned_kernels_impl.h's gemm path), for the
// WebAssembly build, which has no OpenBLAS: cblas_sgemm, row-major only, runs gemm.c's blocked SIMD
// loops. The native build never sees this file (it includes OpenBLAS's cblas.h).
#ifndef LOPT_WASM_CBLAS_H
#define LOPT_WASM_CBLAS_H

enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112 };

/* C ← alpha·op(A)·op(B) + beta·C with leading dimensions, as CBLAS; order must be CblasRowMajor. */
void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, int m, int n,
                 int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

#endif
