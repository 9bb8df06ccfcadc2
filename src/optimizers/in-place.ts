// In-place use of any optimizer: `inPlace(optimizer, params, { numSteps })` steps the caller's own
// parameter arrays, so a model that owns its Float32Arrays needs no read-back after an update.
//
// Every lopt optimizer's init copies the parameters (cloneParams) and its update writes the new values
// into that copy's arrays and returns the same state. inPlace builds the state, then swaps each copy
// for the caller's array wherever the state holds it (the parameter tree and any other field that
// points at it, such as a learned optimizer's per-tensor kernel view); the copy had the same values,
// so nothing else changes and every update then writes the caller's arrays directly: no copy per step.
// When that cannot be done safely (an optimizer whose state is not plain objects, one that holds views
// into the copy, or one whose update returns new arrays), it falls back to copying the new values into
// the caller's arrays after each update; `sharesParams` says which mode is in use.
import type { Params } from '../engine/tensor.js';
import type { Optimizer, OptimizerInitOptions, UpdateContext } from './optimizer.js';

export interface InPlaceOptions extends OptimizerInitOptions {
  /**
   * Continue from this state (e.g. `loadState(file, optimizer).state`) instead of a fresh one: its
   * parameter values are copied into the caller's arrays, which then replace its own.
   */
  state?: unknown;
}

export interface InPlaceOptimizer<S> {
  /** One update with gradients shaped like the parameters; the caller's arrays hold the new values after it. */
  step(grads: Params, ctx?: Partial<UpdateContext>): void;
  /** The optimizer state (for saveState); its parameters are the caller's arrays. */
  readonly state: S;
  /** The caller's parameter tree, as given. */
  readonly params: Params;
  /** True when the state steps the caller's arrays directly; false when new values are copied back after each update. */
  readonly sharesParams: boolean;
}

/** Learned optimizers whose update reads the training loss (step must be given `{ loss }`). */
const USES_LOSS = new Set(['rnn_fc_lopt']);

function isTypedArray(x: unknown): x is ArrayBufferView {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

/**
 * Replaces, in the plain objects and arrays reachable from `root`, every reference to a key of
 * `replace` by its value. Returns false (having changed nothing it could not undo) when the state
 * holds a view into one of the replaced arrays' buffers, or a field cannot be written.
 */
function swapArrays(root: unknown, replace: Map<Float32Array, Float32Array>): boolean {
  const buffers = new Set<ArrayBufferLike>([...replace.keys()].map((a) => a.buffer));
  const done: Array<{ holder: Record<string | number, unknown>; key: string | number; old: unknown }> = [];
  const seen = new Set<unknown>();
  let safe = true;
  const walk = (value: unknown): void => {
    if (!safe || value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (isTypedArray(value)) return;
    if (value instanceof Map || value instanceof Set) {
      safe = false;
      return;
    }
    const holder = value as Record<string | number, unknown>;
    for (const key of Object.keys(holder)) {
      const child = holder[key];
      if (child instanceof Float32Array && replace.has(child)) {
        try {
          holder[key] = replace.get(child);
        } catch {
          safe = false;
          return;
        }
        if (holder[key] !== replace.get(child)) {
          safe = false;
          return;
        }
        done.push({ holder, key, old: child });
        continue;
      }
      // Another view of a copy's memory would keep updating the copy: not safe to share.
      if (isTypedArray(child) && buffers.has(child.buffer) && child.byteLength > 0) {
        safe = false;
        return;
      }
      walk(child);
    }
  };
  walk(root);
  if (!safe) for (const { holder, key, old } of done.reverse()) holder[key] = old;
  return safe;
}

/**
 * `optimizer` stepping the caller's `params` in place: `step(grads, { loss })` runs one update and
 * afterwards `params[name].data` (the same Float32Array objects) hold the new values.
 */
export function inPlace<S>(optimizer: Optimizer<S>, params: Params, opts: InPlaceOptions): InPlaceOptimizer<S> {
  const names = Object.keys(params);
  let state: S = opts.state === undefined ? optimizer.init(params, opts) : (opts.state as S);
  const own = optimizer.getParams(state);
  const ownNames = Object.keys(own).sort();
  if (ownNames.join('\n') !== [...names].sort().join('\n')) {
    throw new Error(`inPlace(${optimizer.name}): the state's parameters [${ownNames.join(', ')}] are not the given ones [${[...names].sort().join(', ')}]`);
  }
  for (const name of names) {
    if (!(params[name].data instanceof Float32Array)) throw new Error(`inPlace(${optimizer.name}): parameter "${name}" is not a Float32Array`);
    if (own[name].data.length !== params[name].data.length || own[name].shape.join(',') !== params[name].shape.join(',')) {
      throw new Error(`inPlace(${optimizer.name}): parameter "${name}" has shape [${params[name].shape.join(', ')}], the state's has [${own[name].shape.join(', ')}]`);
    }
  }
  // A resumed state's values go to the caller's arrays.
  if (opts.state !== undefined) for (const name of names) params[name].data.set(own[name].data);
  const replace = new Map<Float32Array, Float32Array>();
  for (const name of names) if (own[name].data !== params[name].data) replace.set(own[name].data, params[name].data);
  let shares = replace.size === 0 || swapArrays(state, replace);
  if (shares) {
    const now = optimizer.getParams(state);
    shares = names.every((name) => now[name].data === params[name].data);
  }
  const usesLoss = USES_LOSS.has(optimizer.name.split('+')[0]);
  return {
    step(grads: Params, ctx?: Partial<UpdateContext>): void {
      if (usesLoss && typeof ctx?.loss !== 'number') {
        throw new Error(`${optimizer.name} reads the training loss: call step(grads, { loss })`);
      }
      state = optimizer.update(state, grads, { loss: ctx?.loss ?? NaN });
      const now = optimizer.getParams(state);
      for (const name of names) {
        const target = params[name].data;
        const source = now[name].data;
        if (source !== target) {
          // The optimizer moved to other arrays (or never held ours): copy the values back.
          target.set(source);
          shares = false;
        }
      }
    },
    get state(): S {
      return state;
    },
    params,
    get sharesParams(): boolean {
      return shares;
    },
  };
}
