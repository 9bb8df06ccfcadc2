// The gradient-estimator interface (LO outer_trainers/gradient_learner.py, GradientEstimator; one
// module per estimator under estimators/, listed in estimators/index.ts). An estimator decides how
// many inner steps an estimate unrolls, how a slot's positive and negative copies are prepared around
// an unroll, what per-slot state it keeps across estimates (plain data, e.g. the PES accumulator) and
// how a slot's UnrollResult becomes its gradient contribution (docs/specification.md §20).
import type { TruncationSchedule } from './truncation.js';
import type { SlotState, UnrollResult } from './unroll.js';

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

/** g = (old + new)·ε: the plain antithetic ES contribution (truncated and full ES). */
export function accumulateEs(red: SlotReduction, eps: Float32Array, grad: Float64Array): void {
  const d = red.old + red.new;
  for (let j = 0; j < eps.length; j++) grad[j] += d * eps[j];
}

/** The options that fix how many inner steps one estimate unrolls. */
export interface UnrollLengthOptions {
  /** Inner steps per truncation (K). */
  truncLength: number;
  /** Length of one inner run (constant schedule) unless `schedule` is given. */
  innerSteps: number;
  schedule?: TruncationSchedule;
}

/**
 * One gradient estimator. Its per-slot state is plain data (structured-clone safe, checkpointed in
 * the learner's snapshot as `accumulators`); the object itself is stateless.
 */
export interface Estimator {
  /** The name used by `--estimator` and stored in checkpoints. */
  readonly name: string;
  /** One line for help texts. */
  readonly description: string;
  /** The state a slot keeps across estimates, fresh, for a θ of `size` values; null when it keeps none. */
  initSlotState(size: number): Float32Array | null;
  /** Inner steps one estimate unrolls per slot. */
  unrollSteps(o: UnrollLengthOptions): number;
  /** Whether a slot's first run may start at a random initial step (§19). */
  readonly randomInitialStep: boolean;
  /** Whether the unroll stops at the step where the run finishes (the later steps stay unrecorded). */
  readonly stopAtDone: boolean;
  /** Before an unroll, before any run is started: drops copies that must not carry over. */
  beforeUnroll(slot: SlotState): void;
  /** Once the slot has a positive copy, before stepping: makes the negative copy it unrolls. */
  prepareCopies(slot: SlotState): void;
  /** After an unroll: drops copies that must not persist to the next estimate. */
  afterUnroll(slot: SlotState): void;
  /**
   * Adds the slot's contribution to `grad` (not yet divided by 2σ² or the slot count) from its
   * reduction, advancing `state` (the slot's `initSlotState`) when the estimator keeps one.
   */
  accumulate(red: SlotReduction, eps: Float32Array, state: Float32Array | null, grad: Float64Array): void;
}

/** A slot's gradient contribution from its UnrollResult: reduction, then the estimator's formula. */
export function contribute(est: Estimator, r: UnrollResult, eps: Float32Array, state: Float32Array | null, grad: Float64Array): SlotReduction {
  const red = reduceSlot(r);
  est.accumulate(red, eps, state, grad);
  return red;
}

/**
 * An estimator's fresh per-slot states for `slotCount` slots and a θ of `size` values, as the
 * learner's snapshot keeps them (`accumulators`): empty when the estimator keeps none.
 */
export function initialSlotStates(est: Estimator, slotCount: number, size: number): Float32Array[] {
  const states: Float32Array[] = [];
  for (let s = 0; s < slotCount; s++) {
    const state = est.initSlotState(size);
    if (state === null) return [];
    states.push(state);
  }
  return states;
}
