// Shared helpers of the learned-optimizer tests: deterministic inputs, running an optimizer for a few
// steps, comparing trees.
import assert from 'node:assert/strict';
import type { Backend } from '../../src/engine/backend.js';
import type { Params } from '../../src/engine/tensor.js';
import type { Optimizer } from '../../src/optimizers/optimizer.js';

export { mulberry32 } from '../fixtures/prng.js';
import { mulberry32 } from '../fixtures/prng.js';

/** Approximately normal values (sum of uniforms), float32-exact, from a seed. */
export function normals(count: number, seed: number, std = 1): Float32Array {
  const next = mulberry32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = std * ((next() + next() + next() + next() - 2) * Math.sqrt(3));
  return out;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A parameter tree of these shapes with N(0, std) values. */
export function randomParams(shapes: Record<string, number[]>, seed: number, std = 0.1): Params {
  const out: Params = {};
  let s = seed;
  for (const [name, shape] of Object.entries(shapes)) out[name] = { shape: [...shape], data: normals(sizeOf(shape), s++, std) };
  return out;
}

/** Gradients for step `step` (different every step, some elements zero). */
export function randomGrads(shapes: Record<string, number[]>, seed: number, step: number, std = 0.05): Params {
  const grads = randomParams(shapes, seed * 1000 + step * 37, std);
  for (const g of Object.values(grads)) if (g.data.length > 3) g.data[1] = 0;
  return grads;
}

export function cloneTree(params: Params): Params {
  const out: Params = {};
  for (const [name, t] of Object.entries(params)) out[name] = { shape: [...t.shape], data: t.data.slice() };
  return out;
}

/** Runs `steps` updates and returns the parameters after each step (copies) and the final state. */
export function runSteps<S>(
  optimizer: Optimizer<S>, params: Params, shapes: Record<string, number[]>, steps: number, seed: number,
): { history: Params[]; state: S } {
  let state = optimizer.init(params, { numSteps: 100 });
  const history: Params[] = [];
  for (let step = 0; step < steps; step++) {
    state = optimizer.update(state, randomGrads(shapes, seed, step), { loss: 1 });
    history.push(cloneTree(optimizer.getParams(state)));
  }
  return { history, state };
}

/**
 * |a − e| ≤ rtol·|e| + atol·max|e| elementwise (atol relative to the array's largest magnitude).
 */
export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol: number, atol = 0): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let peak = 0;
  for (let i = 0; i < expected.length; i++) peak = Math.max(peak, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const allowed = rtol * Math.abs(e) + atol * peak;
    if (!(Math.abs(a - e) <= allowed)) {
      assert.fail(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${allowed}; peak ${peak})`);
    }
  }
}

/** Steps p_before − p_after of every tensor. */
export function stepsOf(before: Params, after: Params): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const name of Object.keys(before)) out[name] = Float64Array.from(before[name].data, (p, i) => p - after[name].data[i]);
  return out;
}

export type BackendPair = readonly [name: 'reference' | 'native', get: () => Backend];
