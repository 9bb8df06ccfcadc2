// The one narrow interface every numerical kernel goes through; `native` and `reference` implement it.
//
// Conventions shared by every kernel:
// - All arrays are row-major Float32Arrays (labels and indices Int32Array), passed with explicit sizes.
// - Kernels write into the buffers they are given and never allocate per call (the hot path is
//   allocation-free); `out` may alias an input where a comment says so.
// - Reductions accumulate in double precision and return a JS number.

import type { MlpLoptNet, MlpLoptTensor } from './mlp-lopt.js';

export type BackendName = 'native' | 'wasm' | 'reference';

/** Five-dimensional view `[pre, na, mid, nb, post]` of a tensor with two marked axes a < b. */
export type FactoredDims = readonly [pre: number, na: number, mid: number, nb: number, post: number];

/**
 * A 2-D convolution over NHWC images `[batch, height, width, channels]` with a square
 * `kernelSize`×`kernelSize` window, the same `stride` along both axes, `padTop`/`padLeft` zero rows and
 * columns before the image (padding after it is implied: every window position outside the image reads
 * zero) and an `outHeight`×`outWidth` output grid. Output position (oh, ow) reads input row
 * oh·stride − padTop + kh and column ow·stride − padLeft + kw for kh, kw in [0, kernelSize).
 */
export interface ConvGeometry {
  batch: number; height: number; width: number; channels: number;
  kernelSize: number; stride: number; padTop: number; padLeft: number;
  outHeight: number; outWidth: number;
}

export interface BackendInfo {
  name: BackendName;
  /** Instruction set the fused loops were dispatched to (`avx512`, `avx2`, `scalar`, `js`). */
  simd: string;
  /** BLAS used for gemm and its thread count. */
  blas: string;
  blasThreads: number;
  /** Threads of the backend's own kernels (setThreads); absent for a backend without threads. */
  threads?: number;
}

export interface Backend {
  readonly name: BackendName;
  info(): BackendInfo;
  /**
   * Threads for this thread's kernels and the BLAS behind gemm (the native backend; a backend without
   * threads leaves these out, and callers skip them: `backend.setThreads?.(n)`). A given count always
   * gives the same results; 1 is the single-threaded kernels.
   */
  setThreads?(threads: number): void;
  threads?(): number;
  /**
   * A zeroed array of `length` elements that this backend's kernels use in place, without copying it
   * (the wasm backend, where its memory is shared: an array in the module's memory). Optimizers make
   * their parameters and state with it (zerosLike, cloneParams). A backend whose kernels take any
   * Float32Array leaves it out.
   */
  allocate?(length: number): Float32Array;

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

  // ---- layer kernels (src/nn): convolution, pooling, activations, embedding, LSTM cells ---------
  /**
   * cols[r, (kh·kernelSize + kw)·channels + c] ← x[b, ih, iw, c] for output row r = (b·outHeight + oh)·
   * outWidth + ow, with ih = oh·stride − padTop + kh and iw = ow·stride − padLeft + kw, and 0 where
   * (ih, iw) is outside the image. cols is [batch·outHeight·outWidth, kernelSize²·channels]: column
   * order (kh, kw, c) is an HWIO kernel flattened to [kernelSize²·channels, outChannels].
   */
  im2col(x: Float32Array, geometry: ConvGeometry, cols: Float32Array): void;
  /**
   * The adjoint of im2col: dx ← 0, then dx[b, ih, iw, c] += cols[r, (kh·kernelSize + kw)·channels + c]
   * for every row r and window entry inside the image, in order of r, kh, kw (float additions).
   */
  col2im(cols: Float32Array, geometry: ConvGeometry, dx: Float32Array): void;
  /**
   * Floats of scratch memory the conv2d kernels need for this geometry and output channel count (0 when
   * none): pass a `workspace` at least this long. The same for all three kernels; its contents are
   * undefined after a call.
   */
  conv2dWorkspaceSize(geometry: ConvGeometry, outChannels: number): number;
  /**
   * Convolution with bias: y[b, oh, ow, co] ← bias[co] + Σ_{kh, kw, c} x[b, ih, iw, c]·w[kh, kw, c, co]
   * with ih, iw as in im2col (0 outside the image). x is [batch, height, width, channels], w HWIO
   * [kernelSize, kernelSize, channels, outChannels], y [batch, outHeight, outWidth, outChannels].
   * Native: Winograd F(2x2, 3x3) for 3x3 stride-1 kernels (padTop, padLeft ≤ 2), else im2col + gemm.
   */
  conv2dForward(
    x: Float32Array, w: Float32Array, bias: Float32Array, geometry: ConvGeometry, outChannels: number,
    y: Float32Array, workspace: Float32Array,
  ): void;
  /**
   * The input gradient of conv2dForward: dx[b, ih, iw, c] ← Σ dy[b, oh, ow, co]·w[kh, kw, c, co] over
   * every output position (oh, ow), tap (kh, kw) and co whose window reads (ih, iw) (0 if none).
   */
  conv2dBackwardInput(
    dy: Float32Array, w: Float32Array, geometry: ConvGeometry, outChannels: number,
    dx: Float32Array, workspace: Float32Array,
  ): void;
  /** The kernel gradient: dw[kh, kw, c, co] ← Σ_{b, oh, ow} x[b, ih, iw, c]·dy[b, oh, ow, co] (overwrites). */
  conv2dBackwardFilter(
    x: Float32Array, dy: Float32Array, geometry: ConvGeometry, outChannels: number,
    dw: Float32Array, workspace: Float32Array,
  ): void;
  /** out[b, c] ← mean over p of x[b, p, c] for x viewed as [batch, positions, channels]. */
  spatialMean(x: Float32Array, batch: number, positions: number, channels: number, out: Float32Array): void;
  /** dx[b, p, c] ← dy[b, c] / positions: the gradient of spatialMean. */
  spatialMeanBackward(dy: Float32Array, batch: number, positions: number, channels: number, dx: Float32Array): void;
  /** y ← 1/(1 + exp(−x)) elementwise, without overflow for any x; y may alias x. */
  sigmoid(x: Float32Array, y: Float32Array): void;
  /** y ← tanh(x) elementwise; y may alias x. */
  tanh(x: Float32Array, y: Float32Array): void;
  /**
   * LO's autoencoder loss: mean over all n = logits.length elements of (target − sigmoid(logits))²
   * (target has n elements too). When dlogits is given it receives the gradient
   * 2·(σ − target)·σ·(1 − σ)/n, σ = sigmoid(logits); dlogits may alias logits.
   */
  sigmoidMse(logits: Float32Array, target: Float32Array, dlogits: Float32Array | null): number;
  /**
   * out[i, :] ← table[indices[i]·rowLength : +rowLength] for i < indices.length (embedding lookup);
   * every index must name a row of table.
   */
  gatherRows(table: Float32Array, rowLength: number, indices: Int32Array, out: Float32Array): void;
  /**
   * table[indices[i]·rowLength : +rowLength] += src[i, :] for i = 0, 1, … in order (the embedding
   * gradient; repeated indices accumulate). Accumulates: zero the table first for a fresh gradient.
   */
  scatterAddRows(src: Float32Array, rowLength: number, indices: Int32Array, table: Float32Array): void;
  /** out[j, i, :] ← x[i, j, :] for x [d0, d1, inner] and out [d1, d0, inner] (e.g. batch- ↔ time-major). */
  swapLeadingAxes(x: Float32Array, d0: number, d1: number, inner: number, out: Float32Array): void;
  /**
   * One LSTM step for `rows` rows of Haiku's cell. gates [rows, 4·hidden] holds the pre-activations of
   * the gates i, g, f, o (in that order, each `hidden` wide) and is overwritten with the activations
   * σ(i), tanh(g), σ(f + 1), σ(o) (the +1 is Haiku's forget bias); then, per element,
   * c ← σ(f + 1)·cPrev + σ(i)·tanh(g), tanhC ← tanh(c), h ← σ(o)·tanhC. c, h, tanhC and cPrev are
   * [rows, hidden]; c may alias cPrev.
   */
  lstmCellForward(
    gates: Float32Array, cPrev: Float32Array, rows: number, hidden: number,
    c: Float32Array, h: Float32Array, tanhC: Float32Array,
  ): void;
  /**
   * Backward of lstmCellForward, from its saved act (the overwritten gates), cPrev and tanhC. dh is
   * dL/dh of this step (all paths); dc holds dL/dc from later steps (through c only) on entry and
   * dL/dcPrev on exit. With dc' = dc + dh·σo·(1 − tanhC²): dGates (dL/d pre-activations, [rows,
   * 4·hidden], order i, g, f, o) ← [dc'·tanh g·σi(1 − σi), dc'·σi·(1 − tanh²g), dc'·cPrev·σf(1 − σf),
   * dh·tanhC·σo(1 − σo)], dc ← dc'·σf.
   */
  lstmCellBackward(
    act: Float32Array, cPrev: Float32Array, tanhC: Float32Array, dh: Float32Array, dc: Float32Array,
    rows: number, hidden: number, dGates: Float32Array,
  ): void;

  // ---- normalization, pooling, residual sums, GELU, attention (ResNet V2 and the transformer) -----
  /**
   * BatchNorm over the rows of x [rows, channels] (NHWC activations: rows = batch·height·width), with
   * Haiku's formulas (hk.BatchNorm). When training, first mean[c] ← the column mean and invStd[c] ←
   * 1/sqrt(var + eps) with var = E[x²] − E[x]² (clamped at 0, sums in double); otherwise mean and
   * invStd are read (running statistics). Then y ← (x − mean)·(gamma·invStd) + beta, in float. y may
   * alias x.
   */
  batchNormForward(
    x: Float32Array, rows: number, channels: number, gamma: Float32Array, beta: Float32Array, eps: number,
    training: boolean, mean: Float32Array, invStd: Float32Array, y: Float32Array,
  ): void;
  /**
   * Backward of training-mode batchNormForward from its x, mean and invStd, with x̂ = (x − mean)·invStd:
   * dbeta ← Σ_rows dy, dgamma ← Σ_rows dy·x̂ (double sums, overwriting), then dx ← gamma·invStd·((dy −
   * dbeta/rows) − x̂·dgamma/rows). dx may alias dy.
   */
  batchNormBackward(
    x: Float32Array, dy: Float32Array, rows: number, channels: number, gamma: Float32Array,
    mean: Float32Array, invStd: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array,
  ): void;
  /**
   * LayerNorm over the last axis of x [rows, features] (hk.LayerNorm(axis=-1)): mean[r] and invStd[r] ←
   * 1/sqrt(var + eps) of each row as in batchNormForward, then y ← ((x − mean)·invStd)·gamma + beta.
   * y may alias x.
   */
  layerNormForward(
    x: Float32Array, rows: number, features: number, gamma: Float32Array, beta: Float32Array, eps: number,
    mean: Float32Array, invStd: Float32Array, y: Float32Array,
  ): void;
  /**
   * Backward of layerNormForward: dgamma ← Σ_rows dy·x̂, dbeta ← Σ_rows dy (overwriting), and per row with
   * g = dy·gamma: dx ← invStd·((g − mean(g)) − x̂·mean(g·x̂)). dx may alias dy.
   */
  layerNormBackward(
    x: Float32Array, dy: Float32Array, rows: number, features: number, gamma: Float32Array,
    mean: Float32Array, invStd: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array,
  ): void;
  /**
   * Max pooling over the windows of im2col's geometry (outChannels = channels): y[b, oh, ow, c] ← the
   * largest x[b, ih, iw, c] of the window inside the image (positions outside are −inf, SAME padding),
   * argmax ← its flat index into x (the first maximum in (kh, kw) order; −1 and y = −inf for a window
   * with no position inside the image).
   */
  maxPoolForward(x: Float32Array, geometry: ConvGeometry, y: Float32Array, argmax: Int32Array): void;
  /** dx ← 0, then dx[argmax[i]] += dy[i] for i = 0, 1, … (skipping argmax −1): the gradient of maxPoolForward. */
  maxPoolBackward(dy: Float32Array, argmax: Int32Array, dx: Float32Array): void;
  /** out ← a + b elementwise (a residual connection); out may alias a or b. */
  add(a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** y ← ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (GELU, jax.nn.gelu's tanh form); y may alias x. */
  geluForward(x: Float32Array, y: Float32Array): void;
  /** dx ← dy·GELU′(x); dx may alias dy. */
  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /**
   * Causal softmax of attention scores x [heads, length, length] (query i, key j): y[h, i, j] ←
   * exp(scale·x[h, i, j])/Σ_{k ≤ i} exp(scale·x[h, i, k]) for j ≤ i, 0 for j > i (keys after the
   * query are masked). y may alias x.
   */
  causalSoftmax(x: Float32Array, heads: number, length: number, scale: number, y: Float32Array): void;
  /**
   * The gradient with respect to x of causalSoftmax, from its output y: dx[h, i, j] ← scale·y·(dy −
   * Σ_{k ≤ i} y[h, i, k]·dy[h, i, k]) for j ≤ i, 0 for j > i. dx may alias dy.
   */
  causalSoftmaxBackward(y: Float32Array, dy: Float32Array, heads: number, length: number, scale: number, dx: Float32Array): void;

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
   * LO's NAdamW (docs/specification.md §5) with the bias-corrected rate
   * lrT = lr·sqrt(1−β2^t)/(1−β1^t): g' ← g − l2·p; m ← β1 m + (1−β1) g'; v ← β2 v + (1−β2) g'²;
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

  // ---- learned optimizers (src/learned): fused per-parameter MLP kernels, nn_adam -----------------
  /**
   * Pass 1 of a per-parameter MLP learned optimizer on one tensor (types in mlp-lopt.ts): updates the
   * accumulators with the gradient, then sums every feature built from the updated values.
   * m_k ← β_k m_k + (1−β_k) g; v_k ← β_k v_k + (1−β_k) g²; for unfactored tensors
   * vFull_k ← β_k vFull_k + (1−β_k)(g² + 1e-30); for factored ones, with gsq = g² + 1e-30,
   * v_row_k ← β_k v_row_k + (1−β_k)·mean of gsq over axis d0, v_col_k likewise over d1, then the
   * row and column factors (MlpLoptFactored.stats).
   * Then with x_f(i) feature f of element i (order: mlpLoptFeatureNames), moments[f] ← Σ_i x_f(i)²
   * and, when moments has ≥ 2F elements, moments[F + f] ← Σ_i x_f(i) (it needs ≥ F).
   */
  mlpLoptAccumulate(t: MlpLoptTensor, moments: Float64Array): void;
  /**
   * Pass 2: per element i, x = [net.scales_f·x_f(i) for f < F, net.inputs…] (features from the
   * accumulators as left by mlpLoptAccumulate and p before this step); the MLP of net.sizes with ReLU
   * after every layer but the last gives out; d = out[0], mag = out[1];
   * p_i ← p_i − d·exp(mag·expMult)·stepMult. When the net has out > 2 outputs,
   * extraSums[j] ← Σ_i out[2 + j] (pass null otherwise).
   */
  mlpLoptApply(t: MlpLoptTensor, net: MlpLoptNet, extraSums: Float64Array | null): void;
  /**
   * LO's nn_adam step for one tensor: g' = clip(g, −1000, 1000); m ← β1 m + (1−β1) g';
   * v ← β2 v + (1−β2) g'²; p ← p − lr·(1 + eps)/(eps + sqrt(v + 1e-10))·m (updated m, v). stats
   * (≥ 9 elements) ← [Σp, Σp², Σg', Σg'², Σ|g'|, Σm, Σm², Σv, Σv²] with p before the step.
   */
  nnAdamStep(
    p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array,
    lr: number, beta1: number, beta2: number, eps: number, stats: Float64Array,
  ): void;
}
