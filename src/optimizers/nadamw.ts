// LO's NAdamW (`optimizers/nadamw.py`) with its cosine schedule, as used by LO's opt_list
// (docs/specification.md §5).
import { cloneParams, countParams, zerosLike, type Params } from '../engine/tensor.js';
import { allocatorOf, backendOf, finishOptimizer, type HandDesignedOptimizer, type OptimizerFactoryOptions } from './factory.js';
import { gradientFor } from './grads.js';
import { GRAD_CLIP_SPEC, learningRateSpec, resolveHparams, type HparamSpec } from './hparams.js';
import type { OptimizerInitOptions } from './optimizer.js';
import { cosineSchedule } from './schedules.js';

export interface NadamwHparams {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Added to the gradient with LO's sign: g ← g − l2WeightDecay·p. */
  l2WeightDecay: number;
  /** AdamW decay: the step gains lr_t·adamwWeightDecay·p. */
  adamwWeightDecay: number;
  useNesterov: boolean;
  warmupFraction: number;
  constantFraction: number;
  minLearningRateMult: number;
  gradClip: number;
}

// Defaults: entry 0 of LO's opt_list (optimizers/data/opt_list.json; docs/specification.md §8).
export const NADAMW_HPARAMS: readonly HparamSpec[] = [
  learningRateSpec(0.0011948335721160095),
  { name: 'beta1', kind: 'number', default: 0.9360043452616368, min: 0, below: 1, description: 'first-moment decay β1' },
  { name: 'beta2', kind: 'number', default: 0.9989497406214962, min: 0, below: 1, description: 'second-moment decay β2' },
  { name: 'epsilon', kind: 'number', default: 5.875814422073298e-6, min: 0, description: 'ε added to sqrt(v)' },
  { name: 'l2WeightDecay', kind: 'number', default: 0, min: 0, description: 'l2 decay folded into the gradient (g − l2·p, LO sign)' },
  { name: 'adamwWeightDecay', kind: 'number', default: 0.010141964334059882, min: 0, description: 'AdamW-style decay lr_t·wd·p' },
  { name: 'useNesterov', kind: 'boolean', default: false, description: 'Nesterov first moment' },
  { name: 'warmupFraction', kind: 'number', default: 0, min: 0, description: 'cosine schedule: warmup fraction of the run' },
  { name: 'constantFraction', kind: 'number', default: 0.747304046223346, min: 0, description: 'cosine schedule: fraction before the decay starts' },
  { name: 'minLearningRateMult', kind: 'number', default: 0, min: 0, description: 'cosine schedule: final lr as a multiple of lr' },
  GRAD_CLIP_SPEC,
];

export interface NadamwState {
  /** Iterations done; step t of the formulas is step + 1. */
  step: number;
  /** Run length the schedule is laid out over. */
  numSteps: number;
  params: Params;
  m: Params;
  v: Params;
}

export function nadamw(
  hparams: Partial<NadamwHparams> & { lr?: number } = {}, opts: OptimizerFactoryOptions = {},
): HandDesignedOptimizer<NadamwState, NadamwHparams> {
  const hp = resolveHparams<NadamwHparams>('nadamw', NADAMW_HPARAMS, hparams);
  const backend = backendOf(opts);
  const allocate = allocatorOf(backend);
  return finishOptimizer({
    name: 'nadamw',
    init(params: Params, initOpts: OptimizerInitOptions): NadamwState {
      const numSteps = initOpts?.numSteps;
      if (typeof numSteps !== 'number' || !Number.isFinite(numSteps) || numSteps < 0) {
        throw new Error(`nadamw: init needs numSteps (the run length its cosine schedule spans), got ${numSteps}`);
      }
      return { step: 0, numSteps, params: cloneParams(params, allocate), m: zerosLike(params, allocate), v: zerosLike(params, allocate) };
    },
    update(state: NadamwState, grads: Params): NadamwState {
      // The rate of this step is the schedule at the iteration before the increment.
      const lr = cosineSchedule(state.step, state.numSteps, hp);
      const t = state.step + 1;
      const lrT = (lr * Math.sqrt(1 - Math.pow(hp.beta2, t))) / (1 - Math.pow(hp.beta1, t));
      for (const name in state.params) {
        const p = state.params[name];
        backend.nadamwStep(
          p.data, state.m[name].data, state.v[name].data, gradientFor('nadamw', grads, name, p),
          lrT, hp.beta1, hp.beta2, hp.epsilon, hp.l2WeightDecay, hp.adamwWeightDecay, hp.useNesterov,
        );
      }
      state.step = t;
      return state;
    },
    getParams(state: NadamwState): Params {
      return state.params;
    },
    stateBytes(params: Params): number {
      return 8 * countParams(params);
    },
  }, hp, backend);
}
