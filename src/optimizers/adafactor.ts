// AdaFactor as LO wraps optax `adafactor` (LO `optimizers/optax_opts.py` Adafactor; optax
// `_src/factorized.py` scale_by_factored_rms, then clip_by_block_rms, the learning rate and
// scale_by_param_block_rms; no momentum, no weight decay).
//
// Per tensor, with t the step count starting at 0 and β = 1 − (t + 1)^(−decayRate):
// - factored (rank ≥ 2 and the second-largest dim ≥ minDimSizeToFactor): d1, d0 are the last two
//   entries of a stable argsort of the shape; gsq = g² + ε;
//   v_row (axis d0 dropped) ← β v_row + (1−β) mean(gsq, d0); v_col (axis d1 dropped) likewise over d1;
//   row_factor = (v_row / mean(v_row over its d1 axis))^−½, col_factor = v_col^−½,
//   u = g · row_factor · col_factor (broadcast);
// - otherwise v ← β v + (1−β)(g² + ε), u = g · v^−½;
// - u ← u / max(1, rms(u)/clippingThreshold)  (clip_by_block_rms);
// - u ← lr · u · max(rms(p), 1e-3) with p the parameters before the update (multiply_by_parameter_scale);
// - p ← p − u.
import type { Backend, FactoredDims } from '../engine/backend.js';
import { cloneParams, sizeOf, type Params } from '../engine/tensor.js';
import { allocatorOf, backendOf, finishOptimizer, type HandDesignedOptimizer, type OptimizerFactoryOptions } from './factory.js';
import { gradientFor } from './grads.js';
import { GRAD_CLIP_SPEC, learningRateSpec, resolveHparams, type HparamSpec } from './hparams.js';

export interface AdafactorHparams {
  learningRate: number;
  /** Exponent of the second-moment decay schedule β_t = 1 − (t+1)^(−decayRate). */
  decayRate: number;
  /** ε added to g² (optax eps). */
  epsilon: number;
  /** Factor the second moment only when the second-largest dim is at least this. */
  minDimSizeToFactor: number;
  /** Update clipping threshold (clip_by_block_rms); 0 turns the clipping off (optax None). */
  clippingThreshold: number;
  /** Scale the update by max(rms(p), 1e-3). */
  multiplyByParameterScale: boolean;
  gradClip: number;
}

export const ADAFACTOR_HPARAMS: readonly HparamSpec[] = [
  learningRateSpec(0.01),
  { name: 'decayRate', kind: 'number', default: 0.8, min: 0, description: 'second-moment decay exponent: β_t = 1 − (t+1)^−decayRate' },
  { name: 'epsilon', kind: 'number', default: 1e-30, min: 0, description: 'ε added to g²' },
  { name: 'minDimSizeToFactor', kind: 'integer', default: 128, min: 1, description: 'factor only when the two largest dims are at least this' },
  { name: 'clippingThreshold', kind: 'number', default: 1.0, min: 0, description: 'update rms clipping threshold (0: off)' },
  { name: 'multiplyByParameterScale', kind: 'boolean', default: true, description: 'scale updates by max(rms(p), 1e-3)' },
  GRAD_CLIP_SPEC,
];

/** optax scale_by_param_block_rms min_scale. */
const MIN_PARAM_SCALE = 1e-3;

/** How a factored tensor maps onto the backend's 5-D view [pre, na, mid, nb, post], a < b. */
export interface AdafactorLayout {
  /** Axis whose mean gives v_row (it is dropped from v_row): the largest dim, last on ties. */
  d0: number;
  /** Axis whose mean gives v_col: the second-largest dim. */
  d1: number;
  dims: FactoredDims;
  /** True when d0 is the earlier axis a, so v_row is the backend's vWithoutA. */
  rowWithoutA: boolean;
}

/**
 * The factoring of a tensor of this shape, or null for a full second moment: optax
 * `_factored_dims` (stable argsort of the shape; d1, d0 = its last two entries).
 */
export function adafactorLayout(shape: readonly number[], minDimSizeToFactor: number): AdafactorLayout | null {
  if (shape.length < 2) return null;
  const order = shape.map((_, i) => i).sort((i, j) => shape[i] - shape[j] || i - j);
  const d0 = order[order.length - 1];
  const d1 = order[order.length - 2];
  if (shape[d1] < minDimSizeToFactor) return null;
  const a = Math.min(d0, d1);
  const b = Math.max(d0, d1);
  const dims: FactoredDims = [
    sizeOf(shape.slice(0, a)), shape[a], sizeOf(shape.slice(a + 1, b)), shape[b], sizeOf(shape.slice(b + 1)),
  ];
  return { d0, d1, dims, rowWithoutA: d0 === a };
}

export interface AdafactorState {
  /** Updates applied so far (optax's count). */
  step: number;
  params: Params;
  /** Full second moments of the tensors that are not factored. */
  v: Params;
  /** Row accumulators (shape with axis d0 dropped) of the factored tensors. */
  vRow: Params;
  /** Column accumulators (shape with axis d1 dropped) of the factored tensors. */
  vCol: Params;
  /** Layout of each factored tensor. */
  layouts: Record<string, AdafactorLayout>;
}

/** A growable scratch buffer handing out exact-length views, cached so updates do not allocate. */
class Scratch {
  private buffer = new Float32Array(0);
  private views = new Map<number, Float32Array>();

  reserve(length: number): void {
    if (length > this.buffer.length) {
      this.buffer = new Float32Array(length);
      this.views.clear();
    }
  }

  view(length: number): Float32Array {
    this.reserve(length);
    let view = this.views.get(length);
    if (view === undefined) {
      view = this.buffer.subarray(0, length);
      this.views.set(length, view);
    }
    return view;
  }
}

function dropAxis(shape: readonly number[], axis: number): number[] {
  return shape.filter((_, i) => i !== axis);
}

/**
 * factor[i] = (vRow[i] / mean of vRow over its d1 axis)^−½, vRow viewed as [outer, k, inner] with
 * the mean over k.
 */
function rowFactors(vRow: Float32Array, layout: AdafactorLayout, out: Float32Array): void {
  const [pre, na, mid, nb, post] = layout.dims;
  // v_row keeps d1: it is [pre, mid, nb, post] (d1 = b) when d0 = a, else [pre, na, mid, post] (d1 = a).
  const outer = layout.rowWithoutA ? pre * mid : pre;
  const k = layout.rowWithoutA ? nb : na;
  const inner = layout.rowWithoutA ? post : mid * post;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * k * inner + i;
      let sum = 0;
      for (let j = 0; j < k; j++) sum += vRow[base + j * inner];
      const mean = sum / k;
      for (let j = 0; j < k; j++) {
        const idx = base + j * inner;
        out[idx] = 1 / Math.sqrt(vRow[idx] / mean);
      }
    }
  }
}

function inverseSqrt(v: Float32Array, out: Float32Array): void {
  for (let i = 0; i < v.length; i++) out[i] = 1 / Math.sqrt(v[i]);
}

export function adafactor(
  hparams: Partial<AdafactorHparams> & { lr?: number } = {}, opts: OptimizerFactoryOptions = {},
): HandDesignedOptimizer<AdafactorState, AdafactorHparams> {
  const hp = resolveHparams<AdafactorHparams>('adafactor', ADAFACTOR_HPARAMS, hparams);
  const backend: Backend = backendOf(opts);
  const allocate = allocatorOf(backend);
  const updateScratch = new Scratch();
  const rowScratch = new Scratch();
  const colScratch = new Scratch();

  function reserveFor(state: AdafactorState): void {
    for (const name in state.params) updateScratch.reserve(state.params[name].data.length);
    for (const name in state.vRow) rowScratch.reserve(state.vRow[name].data.length);
    for (const name in state.vCol) colScratch.reserve(state.vCol[name].data.length);
  }

  return finishOptimizer({
    name: 'adafactor',
    init(params: Params): AdafactorState {
      const state: AdafactorState = { step: 0, params: cloneParams(params, allocate), v: {}, vRow: {}, vCol: {}, layouts: {} };
      for (const name of Object.keys(params)) {
        const shape = params[name].shape;
        const layout = adafactorLayout(shape, hp.minDimSizeToFactor);
        if (layout === null) {
          state.v[name] = { shape: [...shape], data: allocate(params[name].data.length) };
        } else {
          state.layouts[name] = layout;
          const rowShape = dropAxis(shape, layout.d0);
          const colShape = dropAxis(shape, layout.d1);
          state.vRow[name] = { shape: rowShape, data: allocate(sizeOf(rowShape)) };
          state.vCol[name] = { shape: colShape, data: allocate(sizeOf(colShape)) };
        }
      }
      reserveFor(state);
      return state;
    },
    update(state: AdafactorState, grads: Params): AdafactorState {
      const decay = 1 - Math.pow(state.step + 1, -hp.decayRate);
      for (const name in state.params) {
        const p = state.params[name].data;
        const g = gradientFor('adafactor', grads, name, state.params[name]);
        const n = p.length;
        if (n === 0) continue;
        // Parameter scale from the parameters before this update.
        const paramScale = hp.multiplyByParameterScale
          ? Math.max(Math.sqrt(backend.sumSquares(p) / n), MIN_PARAM_SCALE)
          : 1;
        const u = updateScratch.view(n);
        let sumSq: number;
        const layout = state.layouts[name];
        if (layout === undefined) {
          sumSq = backend.rmsScale(state.v[name].data, g, decay, hp.epsilon, u);
        } else {
          const vRow = state.vRow[name].data;
          const vCol = state.vCol[name].data;
          const fRow = rowScratch.view(vRow.length);
          const fCol = colScratch.view(vCol.length);
          if (layout.rowWithoutA) {
            backend.factoredMoments(g, layout.dims, decay, hp.epsilon, vRow, vCol);
          } else {
            backend.factoredMoments(g, layout.dims, decay, hp.epsilon, vCol, vRow);
          }
          rowFactors(vRow, layout, fRow);
          inverseSqrt(vCol, fCol);
          sumSq = layout.rowWithoutA
            ? backend.scaleByFactors(g, layout.dims, fRow, fCol, u)
            : backend.scaleByFactors(g, layout.dims, fCol, fRow, u);
        }
        const clipDenom = hp.clippingThreshold > 0
          ? Math.max(1, Math.sqrt(sumSq / n) / hp.clippingThreshold)
          : 1;
        backend.axpy(-(hp.learningRate * paramScale) / clipDenom, u, p);
      }
      state.step += 1;
      return state;
    },
    getParams(state: AdafactorState): Params {
      return state.params;
    },
    stateBytes(params: Params): number {
      let floats = 0;
      for (const name of Object.keys(params)) {
        const shape = params[name].shape;
        const layout = adafactorLayout(shape, hp.minDimSizeToFactor);
        floats += layout === null
          ? params[name].data.length
          : sizeOf(dropAxis(shape, layout.d0)) + sizeOf(dropAxis(shape, layout.d1));
      }
      return 4 * floats;
    },
  }, hp, backend);
}
