// LO's GradientClipOptimizer: clip every gradient element to [-c, c], then run the inner optimizer.
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/select.js';
import type { Params } from '../engine/tensor.js';
import type { Optimizer, OptimizerInitOptions, UpdateContext } from './optimizer.js';
import { clipElements } from './transforms.js';

/**
 * Wraps `inner` so each update first clips every gradient element to [−clipValue, clipValue]
 * (LO `optimizers/base.py` GradientClipOptimizer; LO's default there is 3.0). The state is the
 * inner optimizer's state, with nothing kept beside it, and stateBytes is the inner's. The clipped
 * gradients go to a working tree owned by the wrapper (filled and used within one update, so it
 * carries nothing between updates and is shared by every state); the caller's gradients are never
 * modified. `chain(clipByValue(c), inner)` does the same with the working tree in its own state.
 */
export function withGradientClip<S>(
  inner: Optimizer<S>, clipValue: number, opts: { backend?: Backend } = {},
): Optimizer<S> {
  if (!(clipValue > 0) || !Number.isFinite(clipValue)) {
    throw new Error(`gradient clip value must be a finite number > 0, got ${clipValue}`);
  }
  const backend = opts.backend ?? getBackend();
  // Working buffers by parameter name, grown as needed; never part of a state.
  const work = new Map<string, Float32Array>();

  return {
    name: `${inner.name}+gradclip${clipValue}`,
    init(params: Params, initOpts: OptimizerInitOptions): S {
      return inner.init(params, initOpts);
    },
    update(state: S, grads: Params, ctx: UpdateContext): S {
      const params = inner.getParams(state);
      const clipped: Params = {};
      for (const name in params) {
        const g = grads[name];
        if (g === undefined) {
          throw new Error(`${inner.name}: the gradients have no tensor "${name}" (they must match the parameters the state was built from)`);
        }
        const length = params[name].data.length;
        if (g.data.length !== length) {
          throw new Error(`${inner.name}: gradient "${name}" has ${g.data.length} values but the parameter has ${length}`);
        }
        let out = work.get(name);
        if (out === undefined || out.length !== length) {
          out = new Float32Array(length);
          work.set(name, out);
        }
        clipElements(g.data, clipValue, out, backend);
        clipped[name] = { shape: params[name].shape, data: out };
      }
      return inner.update(state, clipped, ctx);
    },
    getParams(state: S): Params {
      return inner.getParams(state);
    },
    stateBytes(params: Params): number {
      return inner.stateBytes(params);
    },
  };
}
