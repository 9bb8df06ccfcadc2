// The engine shared by the per-parameter MLP learned optimizers (small_fc_lopt, feature_mlp_lopt,
// fc_lopt, and rnn_fc_lopt's per-parameter part): per-tensor state and the two fused kernel passes.
//
// One step on one tensor (LO's order: update the accumulators with the new gradient, then build the
// features from the updated values):
// 1. backend.mlpLoptAccumulate: the per-element accumulators, the factored AdaFactor statistics
//    (rank ≥ 2: v_row, v_col and the row and column factors) and every feature's Σx² (and Σx);
// 2. the feature scales 1/sqrt(1e-5 + mean x²) (LO's second_moment_normalizer);
// 3. backend.mlpLoptApply: features, MLP, p ← p − d·exp(0.001·mag)·0.001.
// Rank-0 tensors are treated as shape [1]; empty tensors are skipped.
import type { Backend } from '../engine/backend.js';
import {
  mlpLoptFeatureCount, type MlpLoptFactored, type MlpLoptLayout, type MlpLoptNet, type MlpLoptTensor,
} from '../engine/mlp-lopt.js';
import { plainArray, sizeOf, sortedNames, type Allocate, type Params } from '../engine/tensor.js';
import { adafactorLayout, type AdafactorLayout } from '../optimizers/adafactor.js';

/** LO's λ1 (step_mult) and λ2 (exp_mult). */
export const STEP_MULT = 0.001;
export const EXP_MULT = 0.001;

/**
 * Above this hidden width `path: auto` runs the gemm path. On the CPUs measured (bench/learned.ts, an
 * AVX-512 EPYC) the elementwise path was as fast or faster at every width up to 128.
 */
export const AUTO_GEMM_WIDTH = 128;

export interface PerParamFeatures {
  /** Effective decays (rms and AdaFactor ones already clipped to [0, 1]). */
  momentum: Float32Array;
  rms: Float32Array;
  adafactor: Float32Array;
  logAbsP: boolean;
  mTimesRsqrtV: boolean;
  mTimesFactors: boolean;
}

export function featureLayout(f: PerParamFeatures): MlpLoptLayout {
  return {
    nm: f.momentum.length, nr: f.rms.length, na: f.adafactor.length,
    logAbsP: f.logAbsP, mTimesRsqrtV: f.mTimesRsqrtV, mTimesFactors: f.mTimesFactors,
  };
}

/** One parameter tensor's accumulators and the buffers of its kernel calls. */
export interface TensorAccumulators {
  readonly name: string;
  readonly n: number;
  /** The kernel view; `g` is set to the current gradient each step. */
  readonly kernel: MlpLoptTensor;
  readonly layout: AdafactorLayout | null;
  /** Σx² of the F features, then Σx when `plainSums` was asked for (mlpLoptAccumulate). */
  readonly moments: Float64Array;
  /** 1/sqrt(1e-5 + mean x²) per feature. */
  readonly scales: Float32Array;
}

const EMPTY = new Float32Array(0);

function dropAxis(shape: readonly number[], axis: number): number[] {
  return shape.filter((_, i) => i !== axis);
}

/**
 * Builds the per-tensor state (zero accumulators) for `params` in name order; `allocate` makes the
 * accumulators (Backend.allocate, so that the kernels use them in place).
 */
export function createTensorAccumulators(
  params: Params, features: PerParamFeatures, plainSums = false, allocate: Allocate = plainArray,
): TensorAccumulators[] {
  const layout = featureLayout(features);
  const count = mlpLoptFeatureCount(layout);
  const { nm, nr, na } = layout;
  const decays = new Float32Array(nm + nr + na);
  decays.set(features.momentum, 0);
  decays.set(features.rms, nm);
  decays.set(features.adafactor, nm + nr);
  const out: TensorAccumulators[] = [];
  for (const name of sortedNames(params)) {
    const p = params[name];
    const n = p.data.length;
    const factorLayout = na > 0 ? adafactorLayout(p.shape, 1) : null;
    let factored: MlpLoptFactored | null = null;
    if (factorLayout && n > 0) {
      const sizeRow = sizeOf(dropAxis(p.shape, factorLayout.d0));
      const sizeCol = sizeOf(dropAxis(p.shape, factorLayout.d1));
      factored = { dims: factorLayout.dims, rowIsA: factorLayout.rowWithoutA, stats: allocate(2 * na * (sizeRow + sizeCol)) };
    }
    const perElement = nm + nr + (factored ? 0 : na);
    out.push({
      name, n,
      kernel: {
        p: p.data, g: EMPTY, nm, nr, na, acc: allocate(perElement * n), decays, factored,
        logAbsP: layout.logAbsP, mTimesRsqrtV: layout.mTimesRsqrtV, mTimesFactors: layout.mTimesFactors,
      },
      layout: factored ? factorLayout : null,
      moments: new Float64Array((plainSums ? 2 : 1) * count),
      scales: new Float32Array(count),
    });
  }
  return out;
}

/** Optimizer-state floats of one tensor: per-element accumulators and the factored v_row, v_col. */
export function tensorStateFloats(tensor: TensorAccumulators): number {
  const f = tensor.kernel.factored;
  return tensor.kernel.acc.length + (f ? f.stats.length / 2 : 0);
}

/** Accumulator floats for a tensor of this shape (stateBytes without building the state). */
export function stateFloatsFor(shape: readonly number[], features: PerParamFeatures): number {
  const { nm, nr, na } = featureLayout(features);
  const n = sizeOf(shape);
  const layout = na > 0 && n > 0 ? adafactorLayout(shape, 1) : null;
  if (!layout) return (nm + nr + na) * n;
  return (nm + nr) * n + na * (sizeOf(dropAxis(shape, layout.d0)) + sizeOf(dropAxis(shape, layout.d1)));
}

/** Steps 1-2 on one tensor: accumulators, feature moments (tensor.moments) and scales (tensor.scales). */
export function accumulateTensor(backend: Backend, tensor: TensorAccumulators, g: Float32Array): void {
  tensor.kernel.g = g;
  backend.mlpLoptAccumulate(tensor.kernel, tensor.moments);
  const count = tensor.scales.length;
  for (let f = 0; f < count; f++) tensor.scales[f] = 1 / Math.sqrt(1e-5 + tensor.moments[f] / tensor.n);
}

/** Step 3 on one tensor, with `net.scales` pointed at the tensor's scales. */
export function applyTensor(backend: Backend, tensor: TensorAccumulators, net: MlpLoptNet, extraSums: Float64Array | null): void {
  net.scales = tensor.scales;
  backend.mlpLoptApply(tensor.kernel, net, extraSums);
}
