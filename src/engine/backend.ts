// The one narrow interface every numerical kernel goes through; `native` and `reference` implement it.
//
// Conventions shared by every kernel:
// - All arrays are row-major Float32Arrays (labels and indices Int32Array), passed with explicit sizes.
// - Kernels write into the buffers they are given and never allocate per call (the hot path is
//   allocation-free); `out` may alias an input where a comment says so.
// - Reductions accumulate in double precision and return a JS number.

export type BackendName = 'native' | 'reference';

/** Five-dimensional view `[pre, na, mid, nb, post]` of a tensor with two marked axes a < b. */
export type FactoredDims = readonly [pre: number, na: number, mid: number, nb: number, post: number];

export interface BackendInfo {
  name: BackendName;
  /** Instruction set the fused loops were dispatched to (`avx512`, `avx2`, `scalar`, `js`). */
  simd: string;
  /** BLAS used for gemm and its thread count. */
  blas: string;
  blasThreads: number;
}

export interface Backend {
  readonly name: BackendName;
  info(): BackendInfo;

  // ---- matrix products ------------------------------------------------------------------------
  /**
   * C ← alpha·op(A)·op(B) + beta·C, row-major. op(A) is [m, k] (A is stored [k, m] when transA),
   * op(B) is [k, n] (B stored [n, k] when transB), C is [m, n]. With beta = 0, C is not read.
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
  ): void;

  // ---- elementwise and reductions ---------------------------------------------------------------
  fill(x: Float32Array, value: number): void;
  /** y ← y + alpha·x. */
  axpy(alpha: number, x: Float32Array, y: Float32Array): void;
  /** x ← alpha·x. */
  scale(alpha: number, x: Float32Array): void;
  /** Σ x². */
  sumSquares(x: Float32Array): number;
  /** out ← clip(x, lo, hi) elementwise; out may alias x. */
  clip(x: Float32Array, lo: number, hi: number, out: Float32Array): void;
  /** y[r, c] ← y[r, c] + bias[c] for a [rows, cols] matrix. */
  addRowVector(y: Float32Array, bias: Float32Array, rows: number, cols: number): void;
  /** out[c] ← (accumulate ? out[c] : 0) + Σ_r x[r, c] for a [rows, cols] matrix. */
  sumRows(x: Float32Array, rows: number, cols: number, out: Float32Array, accumulate: boolean): void;
  /** y ← max(x, 0); y may alias x. */
  reluForward(x: Float32Array, y: Float32Array): void;
  /** dx ← dy where y > 0, else 0 (y is the ReLU output); dx may alias dy. */
  reluBackward(y: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /**
   * Mean softmax cross-entropy of [rows, cols] logits against integer labels in [0, cols).
   * When dlogits is given it receives d(mean loss)/d(logits) = (softmax − onehot)/rows.
   */
  softmaxCrossEntropy(
    logits: Float32Array, labels: Int32Array, rows: number, cols: number, dlogits: Float32Array | null,
  ): number;
  /** out[i, :] ← scale · src[indices[i]·rowLength : +rowLength] (bytes to floats, e.g. pixels / 255). */
  gatherRowsU8(src: Uint8Array, rowLength: number, indices: Int32Array, scale: number, out: Float32Array): void;

  // ---- fused optimizer kernels: one pass over each tensor ----------------------------------------
  /** p ← p − lr·g. */
  sgdStep(p: Float32Array, g: Float32Array, lr: number): void;
  /** optax trace: m ← g + μ·m; p ← p − lr·(nesterov ? g + μ·m : m). */
  sgdmStep(p: Float32Array, m: Float32Array, g: Float32Array, lr: number, momentum: number, nesterov: boolean): void;
  /**
   * Adam: m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; p ← p − lr·(m/bc1)/(sqrt(v/bc2) + eps).
   * bc1 = 1 − β1^t and bc2 = 1 − β2^t give bias correction; pass 1 and 1 for none.
   */
  adamStep(
    p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array,
    lr: number, beta1: number, beta2: number, eps: number, bc1: number, bc2: number,
  ): void;
  /**
   * LO's NAdamW (REFERENCE §2) with the bias-corrected rate lrT = lr·sqrt(1−β2^t)/(1−β1^t):
   * g' ← g − l2·p; m ← β1 m + (1−β1) g'; v ← β2 v + (1−β2) g'²;
   * step ← lrT·(nesterov ? β1 m + (1−β1) g' : m)/(sqrt(v) + eps) + lrT·adamwDecay·p; p ← p − step.
   */
  nadamwStep(
    p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array,
    lrT: number, beta1: number, beta2: number, eps: number, l2: number, adamwDecay: number, nesterov: boolean,
  ): void;
  /**
   * Unfactored second moment (AdaFactor on small tensors): v ← decay·v + (1−decay)·(g² + eps);
   * u ← g·v^−½. Returns Σ u².
   */
  rmsScale(v: Float32Array, g: Float32Array, decay: number, eps: number, u: Float32Array): number;
  /**
   * Factored second moments over the two marked axes a < b of g viewed as [pre, na, mid, nb, post]:
   * vWithoutA [pre, mid, nb, post] ← decay·vWithoutA + (1−decay)·mean over a of (g² + eps), and
   * vWithoutB [pre, na, mid, post] likewise with the mean over b.
   */
  factoredMoments(
    g: Float32Array, dims: FactoredDims, decay: number, eps: number,
    vWithoutA: Float32Array, vWithoutB: Float32Array,
  ): void;
  /**
   * u ← g · fWithoutA (broadcast over axis a) · fWithoutB (broadcast over axis b), shapes as in
   * factoredMoments. Returns Σ u².
   */
  scaleByFactors(
    g: Float32Array, dims: FactoredDims, fWithoutA: Float32Array, fWithoutB: Float32Array, u: Float32Array,
  ): number;
}
