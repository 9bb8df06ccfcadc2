// Adam (optax `adam`, eps outside the square root): with t = step + 1,
// m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; p ← p − lr·(m/(1−β1^t))/(sqrt(v/(1−β2^t)) + ε).
import { cloneParams, countParams, zerosLike, type Params } from '../engine/tensor.js';
import { allocatorOf, backendOf, finishOptimizer, type HandDesignedOptimizer, type OptimizerFactoryOptions } from './factory.js';
import { gradientFor } from './grads.js';
import { GRAD_CLIP_SPEC, learningRateSpec, resolveHparams, type HparamSpec } from './hparams.js';

export interface AdamHparams {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  gradClip: number;
}

export const ADAM_HPARAMS: readonly HparamSpec[] = [
  learningRateSpec(1e-3),
  { name: 'beta1', kind: 'number', default: 0.9, min: 0, below: 1, description: 'first-moment decay β1' },
  { name: 'beta2', kind: 'number', default: 0.999, min: 0, below: 1, description: 'second-moment decay β2' },
  { name: 'epsilon', kind: 'number', default: 1e-8, min: 0, description: 'ε added to sqrt(v̂)' },
  GRAD_CLIP_SPEC,
];

export interface AdamState {
  step: number;
  params: Params;
  /** First moment (no bias correction stored). */
  m: Params;
  /** Second moment. */
  v: Params;
}

export function adam(
  hparams: Partial<AdamHparams> & { lr?: number } = {}, opts: OptimizerFactoryOptions = {},
): HandDesignedOptimizer<AdamState, AdamHparams> {
  const hp = resolveHparams<AdamHparams>('adam', ADAM_HPARAMS, hparams);
  const backend = backendOf(opts);
  const allocate = allocatorOf(backend);
  return finishOptimizer({
    name: 'adam',
    init(params: Params): AdamState {
      return { step: 0, params: cloneParams(params, allocate), m: zerosLike(params, allocate), v: zerosLike(params, allocate) };
    },
    update(state: AdamState, grads: Params): AdamState {
      const t = state.step + 1;
      const bc1 = 1 - Math.pow(hp.beta1, t);
      const bc2 = 1 - Math.pow(hp.beta2, t);
      for (const name in state.params) {
        const p = state.params[name];
        backend.adamStep(
          p.data, state.m[name].data, state.v[name].data, gradientFor('adam', grads, name, p),
          hp.learningRate, hp.beta1, hp.beta2, hp.epsilon, bc1, bc2,
        );
      }
      state.step = t;
      return state;
    },
    getParams(state: AdamState): Params {
      return state.params;
    },
    stateBytes(params: Params): number {
      return 8 * countParams(params);
    },
  }, hp, backend);
}
