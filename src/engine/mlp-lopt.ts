// Argument types and the feature layout of the fused kernels of per-parameter MLP learned optimizers
// (small_fc_lopt, the feature_mlp_lopt family, fc_lopt, rnn_fc_lopt): see Backend.mlpLoptAccumulate
// and Backend.mlpLoptApply. Shared by both backends; the C addon mirrors featureCount exactly.
import type { FactoredDims } from './backend.js';

/**
 * One parameter tensor of n ≥ 1 elements and its accumulators. The feature layout (which features,
 * in which order) is fixed by the decay counts nm, nr, na and the three switches: see
 * `mlpLoptFeatureNames`.
 */
export interface MlpLoptTensor {
  /** Parameters (before this step) and gradient, n elements each. */
  p: Float32Array;
  g: Float32Array;
  /** Numbers of momentum, second-moment (rms) and AdaFactor decays. */
  nm: number;
  nr: number;
  na: number;
  /**
   * The per-element accumulators, decay-major: [nm momenta | nr second moments | na full AdaFactor
   * accumulators (unfactored tensors only)] × n, so momentum k of element i is acc[k·n + i], second
   * moment k is acc[(nm + k)·n + i] and full AdaFactor accumulator k is acc[(nm + nr + k)·n + i].
   */
  acc: Float32Array;
  /**
   * [nm momentum | nr rms | na AdaFactor] decays, used as given (LO clips the rms and AdaFactor decays
   * to [0, 1] and not the momentum decays: do that beforehand).
   */
  decays: Float32Array;
  /** Factored tensors (rank ≥ 2 with na > 0): the AdaFactor row and column statistics; else null. */
  factored: MlpLoptFactored | null;
  /** Adds the feature log(|p| + 1e-8) after p (rnn_fc_lopt). */
  logAbsP: boolean;
  /** Adds m·rsqrt(v + 1e-6) features (momentum j with rms j, broadcasting a single one). */
  mTimesRsqrtV: boolean;
  /** Adds m·(AdaFactor preconditioner) features (momentum j with AdaFactor decay j, broadcasting a single one). */
  mTimesFactors: boolean;
}

/**
 * AdaFactor statistics of a factored tensor seen as the 5-D view [pre, na, mid, nb, post] with the
 * two factored axes a < b (d0 = the largest dim, last on ties; d1 = the second largest). The row
 * accumulator drops axis d0, the column accumulator drops axis d1.
 */
export interface MlpLoptFactored {
  dims: FactoredDims;
  /** True when d0 is axis a: the row accumulator is then the array without axis a, else without b. */
  rowIsA: boolean;
  /**
   * Four blocks, each decay-major [na, size]: v_row [na, sizeRow] | v_col [na, sizeCol] |
   * rowFactor [na, sizeRow] | colFactor [na, sizeCol], with sizeRow = n / shape[d0] and
   * sizeCol = n / shape[d1]. v_row and v_col are state (mlpLoptAccumulate updates them); the factors
   * are written by mlpLoptAccumulate: rowFactor = rsqrt(max(v_row / (mean of v_row over its d1 axis
   * + 1e-9), 1e-9)), colFactor = rsqrt(max(v_col, 1e-9)).
   */
  stats: Float32Array;
}

/** Sizes of a factored tensor's row and column accumulators (per decay). */
export function factoredSizes(f: MlpLoptFactored): { sizeA: number; sizeB: number; sizeRow: number; sizeCol: number } {
  const [pre, na, mid, nb, post] = f.dims;
  const sizeA = pre * mid * nb * post;
  const sizeB = pre * na * mid * post;
  return { sizeA, sizeB, sizeRow: f.rowIsA ? sizeA : sizeB, sizeCol: f.rowIsA ? sizeB : sizeA };
}

/** The per-element MLP of mlpLoptApply. */
export interface MlpLoptNet {
  /** Layer widths [F + C, h1, …, out]: F normalised features, C per-tensor inputs, out ≥ 2 outputs. */
  sizes: Int32Array;
  /** W0 [sizes0, sizes1] row-major, b0 [sizes1], W1, b1, … concatenated. */
  params: Float32Array;
  /** The per-tensor multipliers of the F features (1/sqrt(1e-5 + mean of the feature's square)). */
  scales: Float32Array;
  /** The C unnormalised inputs shared by every element (time features, per-tensor LSTM outputs). */
  inputs: Float32Array;
  /** step = d·exp(magnitude·expMult)·stepMult (LO: 0.001 and 0.001). */
  expMult: number;
  stepMult: number;
  /**
   * Native implementation of the MLP: `elementwise` (weights broadcast over blocks of elements, no
   * matrix product) or `gemm` (OpenBLAS sgemm on blocks of elements). Same results to float rounding;
   * the reference backend ignores it.
   */
  path: 'elementwise' | 'gemm';
}

/** Number of pairs m_j·x_j when nm momenta meet nx other accumulators (equal counts, or one broadcast). */
export function pairCount(nm: number, nx: number, what: string): number {
  if (nm === 0 || nx === 0) throw new Error(`${what} features need at least one momentum and one accumulator to pair with`);
  if (nm !== nx && nm !== 1 && nx !== 1) {
    throw new Error(`${what} pairs ${nm} momenta with ${nx} accumulators: the counts must be equal or one of them 1`);
  }
  return Math.max(nm, nx);
}

export interface MlpLoptLayout {
  nm: number;
  nr: number;
  na: number;
  logAbsP: boolean;
  mTimesRsqrtV: boolean;
  mTimesFactors: boolean;
}

/**
 * The features, in order (F = their count). For factored tensors row/col are v_row, v_col broadcast
 * and `pre` is rowFactor·colFactor; for unfactored ones row = col = vFull and fac_g uses
 * rsqrt(max(vFull + 1e-9, 1e-9)), m·pre uses (vFull + 1e-6)^−½.
 */
export function mlpLoptFeatureNames(layout: MlpLoptLayout): string[] {
  const { nm, nr, na } = layout;
  const names = ['g', 'p'];
  if (layout.logAbsP) names.push('log(|p|+1e-8)');
  for (let k = 0; k < nm; k++) names.push(`m${k}`);
  for (let k = 0; k < nr; k++) names.push(`v${k}`);
  if (layout.mTimesRsqrtV) {
    const count = pairCount(nm, nr, 'm·rsqrt(v)');
    for (let j = 0; j < count; j++) names.push(`m${nm === 1 ? 0 : j}·rsqrt(v${nr === 1 ? 0 : j}+1e-6)`);
  }
  for (let k = 0; k < nr; k++) names.push(`rsqrt(v${k}+1e-6)`);
  for (let k = 0; k < na; k++) names.push(`fac_g${k}`);
  for (let k = 0; k < na; k++) names.push(`row${k}`);
  for (let k = 0; k < na; k++) names.push(`col${k}`);
  for (let k = 0; k < na; k++) names.push(`rsqrt(row${k}+1e-8)`);
  for (let k = 0; k < na; k++) names.push(`rsqrt(col${k}+1e-8)`);
  if (layout.mTimesFactors) {
    const count = pairCount(nm, na, 'm·factors');
    for (let j = 0; j < count; j++) names.push(`m${nm === 1 ? 0 : j}·pre${na === 1 ? 0 : j}`);
  }
  return names;
}

export function mlpLoptFeatureCount(layout: MlpLoptLayout): number {
  return mlpLoptFeatureNames(layout).length;
}

export function mlpLoptLayoutOf(t: MlpLoptTensor): MlpLoptLayout {
  return { nm: t.nm, nr: t.nr, na: t.na, logAbsP: t.logAbsP, mTimesRsqrtV: t.mTimesRsqrtV, mTimesFactors: t.mTimesFactors };
}

/** Bits of the packed layout the native addon reads (see packMlpLoptLayout). */
export const MLP_LOPT_FLAGS = { logAbsP: 1, mTimesRsqrtV: 2, mTimesFactors: 4, factored: 8, rowIsA: 16, gemm: 32 } as const;

/**
 * Packs what the native addon needs besides the arrays into `out` (≥ 9 Int32 values):
 * [nm, nr, na, flags, pre, na5, mid, nb, post] (dims zero when unfactored).
 */
export function packMlpLoptLayout(t: MlpLoptTensor, gemm: boolean, out: Int32Array): Int32Array {
  const f = MLP_LOPT_FLAGS;
  out[0] = t.nm;
  out[1] = t.nr;
  out[2] = t.na;
  out[3] = (t.logAbsP ? f.logAbsP : 0) | (t.mTimesRsqrtV ? f.mTimesRsqrtV : 0) | (t.mTimesFactors ? f.mTimesFactors : 0)
    | (t.factored ? f.factored : 0) | (t.factored?.rowIsA ? f.rowIsA : 0) | (gemm ? f.gemm : 0);
  for (let d = 0; d < 5; d++) out[4 + d] = t.factored ? t.factored.dims[d] : 0;
  return out;
}
