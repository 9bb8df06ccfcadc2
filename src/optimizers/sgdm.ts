// SGD with momentum as optax `sgd(lr, momentum)` (trace without dampening): m ← g + μ·m; p ← p − lr·m,
// or with Nesterov p ← p − lr·(g + μ·m).
import { cloneParams, countParams, zerosLike, type Params } from '../engine/tensor.js';
import { allocatorOf, backendOf, finishOptimizer, type HandDesignedOptimizer, type OptimizerFactoryOptions } from './factory.js';
import { gradientFor } from './grads.js';
import { GRAD_CLIP_SPEC, learningRateSpec, resolveHparams, type HparamSpec } from './hparams.js';

export interface SgdmHparams {
  learningRate: number;
  momentum: number;
  nesterov: boolean;
  gradClip: number;
}

export const SGDM_HPARAMS: readonly HparamSpec[] = [
  learningRateSpec(0.01),
  { name: 'momentum', kind: 'number', default: 0.9, min: 0, description: 'momentum decay μ' },
  { name: 'nesterov', kind: 'boolean', default: false, description: 'Nesterov momentum (optax nesterov=True)' },
  GRAD_CLIP_SPEC,
];

export interface SgdmState {
  step: number;
  params: Params;
  /** The momentum trace m, one float per parameter. */
  momentum: Params;
}

export function sgdm(
  hparams: Partial<SgdmHparams> & { lr?: number } = {}, opts: OptimizerFactoryOptions = {},
): HandDesignedOptimizer<SgdmState, SgdmHparams> {
  const hp = resolveHparams<SgdmHparams>('sgdm', SGDM_HPARAMS, hparams);
  const backend = backendOf(opts);
  const allocate = allocatorOf(backend);
  return finishOptimizer({
    name: 'sgdm',
    init(params: Params): SgdmState {
      return { step: 0, params: cloneParams(params, allocate), momentum: zerosLike(params, allocate) };
    },
    update(state: SgdmState, grads: Params): SgdmState {
      for (const name in state.params) {
        const p = state.params[name];
        backend.sgdmStep(
          p.data, state.momentum[name].data, gradientFor('sgdm', grads, name, p),
          hp.learningRate, hp.momentum, hp.nesterov,
        );
      }
      state.step += 1;
      return state;
    },
    getParams(state: SgdmState): Params {
      return state.params;
    },
    stateBytes(params: Params): number {
      return 4 * countParams(params);
    },
  }, hp, backend);
}
