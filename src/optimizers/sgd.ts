// Plain SGD (optax `sgd(lr)`): p ← p − lr·g.
import { cloneParams, type Params } from '../engine/tensor.js';
import { allocatorOf, backendOf, finishOptimizer, type HandDesignedOptimizer, type OptimizerFactoryOptions } from './factory.js';
import { gradientFor } from './grads.js';
import { GRAD_CLIP_SPEC, learningRateSpec, resolveHparams, type HparamSpec } from './hparams.js';

export interface SgdHparams {
  learningRate: number;
  gradClip: number;
}

export const SGD_HPARAMS: readonly HparamSpec[] = [learningRateSpec(0.1), GRAD_CLIP_SPEC];

export interface SgdState {
  /** Updates applied so far. */
  step: number;
  params: Params;
}

export function sgd(
  hparams: Partial<SgdHparams> & { lr?: number } = {}, opts: OptimizerFactoryOptions = {},
): HandDesignedOptimizer<SgdState, SgdHparams> {
  const hp = resolveHparams<SgdHparams>('sgd', SGD_HPARAMS, hparams);
  const backend = backendOf(opts);
  const allocate = allocatorOf(backend);
  return finishOptimizer({
    name: 'sgd',
    init(params: Params): SgdState {
      return { step: 0, params: cloneParams(params, allocate) };
    },
    update(state: SgdState, grads: Params): SgdState {
      for (const name in state.params) {
        const p = state.params[name];
        backend.sgdStep(p.data, gradientFor('sgd', grads, name, p), hp.learningRate);
      }
      state.step += 1;
      return state;
    },
    getParams(state: SgdState): Params {
      return state.params;
    },
    stateBytes(): number {
      return 0;
    },
  }, hp, backend);
}
