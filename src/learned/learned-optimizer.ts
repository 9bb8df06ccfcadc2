// The LearnedOptimizer interface: meta-parameters θ and the optimizer they define.
import { createHash } from 'node:crypto';
import type { Key } from '../engine/random.js';
import type { Params } from '../engine/tensor.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { LearnedOptions } from './options.js';

export interface LearnedOptimizer {
  readonly name: string;
  /** Number of meta-parameters (scalars in θ). */
  readonly paramCount: number;
  /** The complete, validated options this instance was built with. */
  readonly options: Readonly<LearnedOptions>;
  /** The options that shape θ (a weights file must match them). */
  readonly architecture: Readonly<LearnedOptions>;
  /** θ names and shapes (what `init` returns and weights files hold). */
  readonly thetaShapes: Readonly<Record<string, readonly number[]>>;
  /** A fresh θ, as LO initialises it (the same distributions; our random streams differ from JAX's). */
  init(key: Key): Params;
  /** The optimizer θ defines: the one synchronous interface of every optimizer. */
  optFn(theta: Params): Optimizer<unknown>;
}

/** Throws a one-line Error unless θ has exactly the expected names and shapes. */
export function checkTheta(optimizer: string, theta: Params, shapes: Readonly<Record<string, readonly number[]>>): void {
  const expected = Object.keys(shapes).sort();
  const got = Object.keys(theta).sort();
  const missing = expected.filter((n) => !(n in theta));
  const extra = got.filter((n) => !(n in shapes));
  if (missing.length || extra.length) {
    throw new Error(`θ does not fit ${optimizer}: ${missing.length ? `missing ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `unexpected ${extra.join(', ')}` : ''}`);
  }
  for (const name of expected) {
    const shape = shapes[name];
    const t = theta[name];
    if (t.shape.join(',') !== shape.join(',')) {
      throw new Error(`θ does not fit ${optimizer}: "${name}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    let size = 1;
    for (const d of shape) size *= d;
    if (t.data.length !== size) throw new Error(`θ does not fit ${optimizer}: "${name}" has ${t.data.length} values, expected ${size}`);
  }
}

export function countShapes(shapes: Readonly<Record<string, readonly number[]>>): number {
  let total = 0;
  for (const shape of Object.values(shapes)) total += shape.reduce((a, b) => a * b, 1);
  return total;
}

/**
 * Attaches `settings` (the options and θ's SHA-256) to an optimizer made by optFn, so that an optimizer
 * state file (src/optimizers/state-file.ts) records them and refuses to load into another θ or options.
 * The digest is computed on first read (optFn runs often in meta-training; the settings are rarely read).
 */
export function withLearnedSettings<S>(optimizer: Optimizer<S>, options: Readonly<LearnedOptions>, theta: Params): Optimizer<S> {
  let settings: Readonly<Record<string, unknown>> | undefined;
  return Object.defineProperty(optimizer, 'settings', {
    enumerable: true,
    get(): Readonly<Record<string, unknown>> {
      if (settings === undefined) {
        const hash = createHash('sha256');
        for (const name of Object.keys(theta).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
          const t = theta[name];
          hash.update(`${name}[${t.shape.join(',')}]`);
          hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
        }
        settings = Object.freeze({ options: { ...options }, theta_sha256: hash.digest('hex') });
      }
      return settings;
    },
  });
}
