// LO's GradientClipOptimizer: clip every gradient element to [-c, c], then run the inner optimizer.
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/select.js';
import type { Params } from '../engine/tensor.js';
import type { Optimizer, OptimizerInitOptions, UpdateContext } from './optimizer.js';

function scratchLike(tree: Params): Params {
  const out: Params = {};
  for (const name of Object.keys(tree)) {
    out[name] = { shape: [...tree[name].shape], data: new Float32Array(tree[name].data.length) };
  }
  return out;
}

/**
 * Wraps `inner` so each update first clips every gradient element to [−clipValue, clipValue]
 * (LO `optimizers/base.py` GradientClipOptimizer; LO's default there is 3.0). The state is the
 * inner optimizer's state and stateBytes is the inner's. The clipped gradients go to a scratch tree
 * allocated in init (one per state, shaped like the parameters); the caller's gradients are never
 * modified.
 */
export function withGradientClip<S>(
  inner: Optimizer<S>, clipValue: number, opts: { backend?: Backend } = {},
): Optimizer<S> {
  if (!(clipValue > 0) || !Number.isFinite(clipValue)) {
    throw new Error(`gradient clip value must be a finite number > 0, got ${clipValue}`);
  }
  const backend = opts.backend ?? getBackend();
  // Scratch per state object (states of the optimizers here are objects updated in place).
  const scratchOf = new WeakMap<object, Params>();
  const isObject = (s: unknown): s is object => typeof s === 'object' && s !== null;

  return {
    name: `${inner.name}+gradclip${clipValue}`,
    init(params: Params, initOpts: OptimizerInitOptions): S {
      const state = inner.init(params, initOpts);
      if (isObject(state)) scratchOf.set(state, scratchLike(params));
      return state;
    },
    update(state: S, grads: Params, ctx: UpdateContext): S {
      let clipped = isObject(state) ? scratchOf.get(state) : undefined;
      if (clipped === undefined) {
        clipped = scratchLike(inner.getParams(state));
        if (isObject(state)) scratchOf.set(state, clipped);
      }
      for (const name in clipped) {
        const g = grads[name];
        const out = clipped[name].data;
        if (g === undefined) {
          throw new Error(`${inner.name}: the gradients have no tensor "${name}" (they must match the parameters the state was built from)`);
        }
        if (g.data.length !== out.length) {
          throw new Error(`${inner.name}: gradient "${name}" has ${g.data.length} values but the parameter has ${out.length}`);
        }
        backend.clip(g.data, -clipValue, clipValue, out);
      }
      const next = inner.update(state, clipped, ctx);
      if (next !== state && isObject(next)) scratchOf.set(next, clipped);
      return next;
    },
    getParams(state: S): Params {
      return inner.getParams(state);
    },
    stateBytes(params: Params): number {
      return inner.stateBytes(params);
    },
  };
}
