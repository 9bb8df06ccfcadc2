// Gradient transformations for `chain` (optax's GradientTransformation, adapted to lopt's optimizers
// that own their parameters): each acts in place on a tree — the gradients when it stands before the
// chain's optimizer, the step p_new − p_old when it stands after it — and keeps its state (if any) as
// plain data in the chained state.
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/select.js';
import type { Params } from '../engine/tensor.js';
import { compileNameMatcher, describeNameMatcher, type NameMatcher } from './name-match.js';
import type { OptimizerInitOptions } from './optimizer.js';
import type { StepSchedule } from './step-schedules.js';

export interface TransformContext {
  /** Updates the chain has done before this one (0 at the first). */
  step: number;
  /** The run length the chained state was initialised with. */
  numSteps: number;
  /** The parameters before this update (read only). */
  params: Params;
  /** What `tree` holds: the gradients, or the optimizer's step p_new − p_old. */
  target: 'gradient' | 'step';
  loss: number;
}

export interface GradientTransform<S = unknown> {
  readonly name: string;
  /** Where it may stand in a chain: before the optimizer, after it, or either. */
  readonly acts: 'gradient' | 'step' | 'both';
  /** Its state: plain data (numbers, typed arrays, arrays, objects of those) or null. */
  init(params: Params, opts: OptimizerInitOptions): S;
  /**
   * Transforms `tree` in place. Returns the next state and whether the tree was changed (a chain
   * skips rewriting the parameters when no transform after the optimizer changed the step).
   */
  apply(state: S, tree: Params, ctx: TransformContext): { state: S; changed: boolean };
  /** Accumulator bytes of its state (4 per float); 0 for the transforms here. */
  stateBytes(params: Params): number;
}

function finitePositive(what: string, value: number): void {
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`${what} must be a finite number > 0, got ${value}`);
}

/** √(Σ x²) over every tensor of the tree, accumulated in float64 (per-tensor sums from the backend). */
export function globalNorm(tree: Params, backend: Backend = getBackend()): number {
  let sum = 0;
  for (const name in tree) sum += backend.sumSquares(tree[name].data);
  return Math.sqrt(sum);
}

/**
 * optax `clip_by_global_norm(maxNorm)`: when ‖tree‖ (the global norm of all tensors together)
 * exceeds maxNorm, every element is multiplied by maxNorm/‖tree‖; otherwise nothing changes. A
 * non-finite norm leaves the tree as it is (a NaN stays visible to divergence checks). No state.
 */
export function clipByGlobalNorm(maxNorm: number, opts: { backend?: Backend } = {}): GradientTransform<null> {
  finitePositive('clipByGlobalNorm max norm', maxNorm);
  const backend = opts.backend ?? getBackend();
  return {
    name: `clipGlobalNorm(${maxNorm})`,
    acts: 'both',
    init: () => null,
    apply(state, tree) {
      const norm = globalNorm(tree, backend);
      if (!(norm > maxNorm) || !Number.isFinite(norm)) return { state, changed: false };
      const factor = maxNorm / norm;
      for (const name in tree) backend.scale(factor, tree[name].data);
      return { state, changed: true };
    },
    stateBytes: () => 0,
  };
}

/**
 * Clips every element of `data` to [−clipValue, clipValue] into `out` (which may be `data`). Shared by
 * `clipByValue` and `withGradientClip`.
 */
export function clipElements(data: Float32Array, clipValue: number, out: Float32Array, backend: Backend): void {
  backend.clip(data, -clipValue, clipValue, out);
}

/** optax `clip(maxDelta)`: every element clipped to [−clipValue, clipValue]. No state. */
export function clipByValue(clipValue: number, opts: { backend?: Backend } = {}): GradientTransform<null> {
  finitePositive('clipByValue clip value', clipValue);
  const backend = opts.backend ?? getBackend();
  return {
    name: `clipValue(${clipValue})`,
    acts: 'both',
    init: () => null,
    apply(state, tree) {
      for (const name in tree) clipElements(tree[name].data, clipValue, tree[name].data, backend);
      return { state, changed: true };
    },
    stateBytes: () => 0,
  };
}

/**
 * Multiplies the optimizer's step p_new − p_old by schedule(t, T), t the chain's step count (kept in
 * the chained state) and T its numSteps (optax `scale_by_schedule`, on the step of any optimizer:
 * a learned optimizer's too). A factor of exactly 1 leaves the step untouched. Stands after the
 * optimizer. No state of its own.
 */
export function scaleBySchedule(schedule: StepSchedule, opts: { backend?: Backend } = {}): GradientTransform<null> {
  if (typeof schedule !== 'function') throw new Error('scaleBySchedule needs a schedule function (step, numSteps) => factor');
  const backend = opts.backend ?? getBackend();
  return {
    name: `schedule(${schedule.description ?? schedule.name ?? 'custom'})`,
    acts: 'step',
    init: () => null,
    apply(state, tree, ctx) {
      const factor = schedule(ctx.step, ctx.numSteps);
      if (!Number.isFinite(factor)) throw new Error(`the step schedule gave ${factor} at step ${ctx.step}`);
      if (factor === 1) return { state, changed: false };
      for (const name in tree) backend.scale(factor, tree[name].data);
      return { state, changed: true };
    },
    stateBytes: () => 0,
  };
}

export interface WeightDecayOptions {
  /** Which parameters decay (default: all). */
  mask?: NameMatcher;
  /** The learning rate the decay is multiplied by (default 1). */
  learningRate?: number;
  backend?: Backend;
}

/**
 * Decoupled weight decay (AdamW's, optax `add_decayed_weights` scaled by −lr): the step of every
 * parameter whose name matches `mask` gets −learningRate·rate·p added, p the parameters before the
 * update; so, alone after an optimizer, p ← p + step − lr·rate·p. A later `scaleBySchedule` in
 * the chain scales the decay too (as optax's adamw with a schedule). Stands after the optimizer.
 * No state.
 */
export function decoupledWeightDecay(rate: number, opts: WeightDecayOptions = {}): GradientTransform<null> {
  if (!(rate >= 0) || !Number.isFinite(rate)) throw new Error(`weight decay must be a finite number >= 0, got ${rate}`);
  const learningRate = opts.learningRate ?? 1;
  if (!(learningRate >= 0) || !Number.isFinite(learningRate)) throw new Error(`weight decay learning rate must be a finite number >= 0, got ${learningRate}`);
  const backend = opts.backend ?? getBackend();
  const matches = opts.mask === undefined ? () => true : compileNameMatcher(opts.mask);
  const coefficient = learningRate * rate;
  return {
    name: `weightDecay(${rate}${opts.mask === undefined ? '' : ` on ${describeNameMatcher(opts.mask)}`})`,
    acts: 'step',
    init: () => null,
    apply(state, tree, ctx) {
      if (coefficient === 0) return { state, changed: false };
      let changed = false;
      for (const name in tree) {
        if (!matches(name)) continue;
        backend.axpy(-coefficient, ctx.params[name].data, tree[name].data);
        changed = true;
      }
      return { state, changed };
    },
    stateBytes: () => 0,
  };
}
