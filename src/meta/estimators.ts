// Gradient estimators over truncated unrolls (LO outer_trainers/truncated_pes.py, truncated_es.py,
// full_es.py): antithetic perturbations θ ± ε of the flattened θ (lexicographic name order), the
// per-slot reductions of docs/specification.md §20, and LO's NaN rules applied after aggregation.
// The estimators themselves are objects, one module each, in estimators/ (registry: estimators/index.ts).
import { foldIn, normal, type Key } from '../engine/random.js';
import type { SlotReduction } from './estimator.js';
import { getEstimator, type EstimatorKind } from './estimators/index.js';

/** ε of global slot `slot` at outer step `outerStep`: σ·N(0, I) over the flattened θ. */
export function perturbation(root: Key, outerStep: number, slot: number, count: number, std: number): Float32Array {
  return normal(foldIn(foldIn(foldIn(root, 0xe751), outerStep), slot), count, std);
}

/** θ + sign·ε, elementwise in float32. */
export function perturb(theta: Float32Array, eps: Float32Array, sign: 1 | -1): Float32Array {
  const out = new Float32Array(theta.length);
  for (let i = 0; i < theta.length; i++) out[i] = theta[i] + sign * eps[i];
  return out;
}

export { reduceSlot, type SlotReduction } from './estimator.js';

/**
 * Adds slot i's contribution to `grad` (not yet divided by 2σ² or the slot count) and, for PES,
 * advances its accumulator: g_i = old·(acc + ε) + new·ε; acc ← ε if finished else acc + ε.
 * Truncated and full ES: g_i = (old + new)·ε. (The formulas live in the estimator modules,
 * estimators/pes.ts, tes.ts, fes.ts.)
 */
export function accumulateSlot(kind: EstimatorKind, red: SlotReduction, eps: Float32Array, acc: Float32Array | null, grad: Float64Array): void {
  getEstimator(kind).accumulate(red, eps, acc, grad);
}

/**
 * LO's rules after aggregation (gradient_learner.py, `_nan_to_num`): a non-finite averaged loss (NaN
 * or ±Inf) becomes 20 and non-finite gradient entries become 0, each counted.
 */
export function sanitize(loss: number, grad: Float64Array): { loss: number; nanCount: number } {
  let nanCount = 0;
  for (let j = 0; j < grad.length; j++) {
    if (!Number.isFinite(grad[j])) { grad[j] = 0; nanCount++; }
  }
  if (!Number.isFinite(loss)) { loss = 20; nanCount++; }
  return { loss, nanCount };
}
