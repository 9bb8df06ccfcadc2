// Gradient estimators over truncated unrolls (LO outer_trainers/truncated_pes.py, truncated_es.py,
// full_es.py): antithetic perturbations θ ± ε of the flattened θ (lexicographic name order), the
// per-slot reductions of docs/specification.md §20, and LO's NaN rules applied after aggregation.
import { foldIn, normal, type Key } from '../engine/random.js';
import type { EstimatorKind, UnrollResult } from './unroll.js';

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

export interface SlotReduction {
  /** Mask-weighted mean of Δ = L⁺ − L⁻ before and after the first finish (PES old/new). */
  old: number;
  new: number;
  /** Whether the slot's run finished during this truncation. */
  finished: boolean;
  /** Mask-weighted mean of (L⁺ + L⁻)/2. */
  loss: number;
}

/** docs/specification.md §20: fin = inclusive cumsum(done) > 0, den = Σ mask. */
export function reduceSlot(r: UnrollResult): SlotReduction {
  let den = 0;
  let old = 0;
  let neu = 0;
  let loss = 0;
  let fin = false;
  for (let k = 0; k < r.pos.length; k++) {
    if (r.done[k]) fin = true;
    if (!r.mask[k]) continue;
    den += 1;
    const delta = r.pos[k] - r.neg[k];
    if (fin) neu += delta;
    else old += delta;
    loss += 0.5 * (r.pos[k] + r.neg[k]);
  }
  if (den === 0) return { old: 0, new: 0, finished: fin, loss: NaN };
  return { old: old / den, new: neu / den, finished: fin, loss: loss / den };
}

/**
 * Adds slot i's contribution to `grad` (not yet divided by 2σ² or the slot count) and, for PES,
 * advances its accumulator: g_i = old·(acc + ε) + new·ε; acc ← ε if finished else acc + ε.
 * Truncated and full ES: g_i = (old + new)·ε.
 */
export function accumulateSlot(kind: EstimatorKind, red: SlotReduction, eps: Float32Array, acc: Float32Array | null, grad: Float64Array): void {
  if (kind === 'pes') {
    if (!acc) throw new Error('PES needs an accumulator per slot');
    for (let j = 0; j < eps.length; j++) {
      const a = acc[j] + eps[j];
      grad[j] += red.old * a + red.new * eps[j];
      acc[j] = red.finished ? eps[j] : a;
    }
    return;
  }
  const d = red.old + red.new;
  for (let j = 0; j < eps.length; j++) grad[j] += d * eps[j];
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
