// learnable_lr_sgd: SGD whose learning rate is the one meta-parameter, θ = { log_lr: [1] },
// p ← p − exp(log_lr)·g. The smallest learned optimizer: meta-training tests and examples.
import type { Key } from '../engine/random.js';
import { cloneParams, type Params } from '../engine/tensor.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { checkTheta, type LearnedOptimizer, withLearnedSettings } from './learned-optimizer.js';

export interface LearnableSgdState {
  /** Updates applied so far. */
  iteration: number;
  params: Params;
}

const SHAPES = { log_lr: [1] } as const;

/** Options: `initialLr` (default 1e-3) sets log_lr at init. */
export function learnableLrSgd(options: Readonly<Record<string, unknown>> = {}): LearnedOptimizer {
  const initialLr = options.initialLr === undefined ? 1e-3 : Number(options.initialLr);
  if (!(initialLr > 0) || !Number.isFinite(initialLr)) throw new Error(`learnable_lr_sgd: initialLr must be a positive number, got ${String(options.initialLr)}`);
  return {
    name: 'learnable_lr_sgd',
    paramCount: 1,
    options: { initialLr },
    architecture: {},
    thetaShapes: SHAPES,
    init(_key: Key): Params {
      return { log_lr: { shape: [1], data: Float32Array.of(Math.log(initialLr)) } };
    },
    optFn(theta: Params): Optimizer<LearnableSgdState> {
      checkTheta('learnable_lr_sgd', theta, SHAPES);
      const lr = Math.exp(theta.log_lr.data[0]);
      return withLearnedSettings({
        name: 'learnable_lr_sgd',
        init: (params) => ({ iteration: 0, params: cloneParams(params) }),
        update(state, grads) {
          for (const name in state.params) {
            const p = state.params[name].data;
            const g = grads[name].data;
            for (let i = 0; i < p.length; i++) p[i] -= lr * g[i];
          }
          state.iteration++;
          return state;
        },
        getParams: (state) => state.params,
        stateBytes: () => 0,
      }, { initialLr }, theta);
    },
  };
}
