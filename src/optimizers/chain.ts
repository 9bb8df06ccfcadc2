// `chain(...)`: gradient transformations around one optimizer, as optax chains them; the result is
// itself an Optimizer whose state holds each element's state (a tuple, in chain order) as plain data.
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/select.js';
import type { Params } from '../engine/tensor.js';
import { gradientFor } from './grads.js';
import type { Optimizer, OptimizerInitOptions, UpdateContext } from './optimizer.js';
import type { GradientTransform, TransformContext } from './transforms.js';

export type ChainElement = GradientTransform<any> | Optimizer<any>;

export interface ChainState {
  /** Updates done so far (schedules read it). */
  step: number;
  /** The run length given to init (schedules without their own length are laid out over it). */
  numSteps: number;
  /** One state per chain element, in chain order; the optimizer's at its own position. */
  states: unknown[];
  /**
   * Working buffers, shaped like the parameters, kept in the state so that it is complete plain data:
   * `grads` (the transformed gradients; when transforms stand before the optimizer), `before` and
   * `step` (the parameters before the update and the step; when transforms stand after it). Their
   * values carry nothing from one update to the next.
   */
  work: { grads?: Params; before?: Params; step?: Params };
}

export interface ChainOptions {
  backend?: Backend;
}

function isOptimizer(element: ChainElement): element is Optimizer<unknown> {
  return typeof (element as Optimizer<unknown>).getParams === 'function' && typeof (element as Optimizer<unknown>).update === 'function';
}

function isTransform(element: ChainElement): element is GradientTransform<unknown> {
  return typeof (element as GradientTransform<unknown>).apply === 'function' && typeof (element as GradientTransform<unknown>).init === 'function';
}

function emptyLike(params: Params): Params {
  const out: Params = {};
  for (const name of Object.keys(params)) out[name] = { shape: [...params[name].shape], data: new Float32Array(params[name].data.length) };
  return out;
}

/**
 * Chains gradient transformations and exactly one optimizer (hand-designed, learned — `optFn(θ)` —,
 * a `partition`, or another chain). Transforms before the optimizer act on a copy of the gradients
 * (the caller's are never modified); transforms after it act on the optimizer's step
 * p_new − p_old, and the parameters become p_old + the transformed step. E.g. AdamW with global-norm
 * clipping and a warmup-cosine schedule:
 *
 *     chain(clipByGlobalNorm(1), adam({ learningRate: 1e-3 }),
 *           decoupledWeightDecay(1e-4, { learningRate: 1e-3, mask: /\/w$/ }),
 *           scaleBySchedule(warmupCosineSchedule({ warmupSteps: 100 })))
 *
 * The state (ChainState) is plain data — numbers, arrays, objects and typed arrays — when the
 * optimizer's is: it survives structuredClone and continuing from a clone gives the same results.
 * stateBytes is the optimizer's plus the transforms' (the working buffers are not counted, like
 * gradients).
 */
export function chain(...elements: ChainElement[]): Optimizer<ChainState> & { readonly elements: readonly ChainElement[] } {
  return chainWith({}, ...elements);
}

/** `chain` with options (the backend for the copies). */
export function chainWith(opts: ChainOptions, ...elements: ChainElement[]): Optimizer<ChainState> & { readonly elements: readonly ChainElement[] } {
  const backend = opts.backend ?? getBackend();
  const at: number[] = [];
  elements.forEach((element, i) => {
    if (element === null || typeof element !== 'object') throw new Error(`chain: element ${i} is not an optimizer or a gradient transformation`);
    if (isOptimizer(element)) at.push(i);
    else if (!isTransform(element)) throw new Error(`chain: element ${i} is not an optimizer or a gradient transformation`);
  });
  if (at.length !== 1) {
    throw new Error(`chain needs exactly one optimizer among its elements (got ${at.length}); combine optimizers with partition()`);
  }
  const k = at[0];
  const optimizer = elements[k] as Optimizer<unknown>;
  const before = elements.slice(0, k) as GradientTransform<unknown>[];
  const after = elements.slice(k + 1) as GradientTransform<unknown>[];
  for (const t of before) if (t.acts === 'step') throw new Error(`chain: ${t.name} acts on the optimizer's step: put it after the optimizer`);
  for (const t of after) if (t.acts === 'gradient') throw new Error(`chain: ${t.name} acts on gradients: put it before the optimizer`);
  const name = elements.map((e) => e.name).join('+');

  return {
    name,
    elements: Object.freeze([...elements]),
    init(params: Params, initOpts: OptimizerInitOptions): ChainState {
      const states = elements.map((e) => e.init(params, initOpts));
      const work: ChainState['work'] = {};
      if (before.length) work.grads = emptyLike(params);
      if (after.length) {
        work.before = emptyLike(params);
        work.step = emptyLike(params);
      }
      return { step: 0, numSteps: initOpts.numSteps, states, work };
    },
    update(state: ChainState, grads: Params, ctx: UpdateContext): ChainState {
      let params = optimizer.getParams(state.states[k]);
      const tctx: TransformContext = { step: state.step, numSteps: state.numSteps, params, target: 'gradient', loss: ctx.loss };
      let g = grads;
      if (before.length) {
        const work = state.work.grads!;
        for (const n in work) work[n].data.set(gradientFor(name, grads, n, params[n]));
        for (let i = 0; i < before.length; i++) state.states[i] = before[i].apply(state.states[i], work, tctx).state;
        g = work;
      }
      if (after.length) {
        const saved = state.work.before!;
        for (const n in saved) saved[n].data.set(params[n].data);
        tctx.params = saved;
      }
      state.states[k] = optimizer.update(state.states[k], g, ctx);
      if (after.length) {
        params = optimizer.getParams(state.states[k]);
        const saved = state.work.before!;
        const step = state.work.step!;
        for (const n in step) {
          step[n].data.set(params[n].data);
          backend.axpy(-1, saved[n].data, step[n].data);
        }
        tctx.target = 'step';
        let changed = false;
        for (let i = 0; i < after.length; i++) {
          const result = after[i].apply(state.states[k + 1 + i], step, tctx);
          state.states[k + 1 + i] = result.state;
          changed = changed || result.changed;
        }
        if (changed) {
          for (const n in step) {
            const p = params[n].data;
            p.set(saved[n].data);
            backend.axpy(1, step[n].data, p);
          }
        }
      }
      state.step += 1;
      return state;
    },
    getParams(state: ChainState): Params {
      return optimizer.getParams(state.states[k]);
    },
    stateBytes(params: Params): number {
      let bytes = optimizer.stateBytes(params);
      for (const t of [...before, ...after]) bytes += t.stateBytes(params);
      return bytes;
    },
  };
}
