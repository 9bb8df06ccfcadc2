// Shared helpers for the optimizer tests: run a test on every backend, build trees, compare numbers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend, BackendName } from '../../src/engine/backend.js';
import { getBackend } from '../../src/engine/select.js';
import type { Params, Tensor } from '../../src/engine/tensor.js';

/** Every backend; one that cannot load makes its tests fail (never skipped). */
export const BACKEND_NAMES: readonly BackendName[] = ['reference', 'native'];

export function backendTest(title: string, fn: (backend: Backend) => void): void {
  for (const name of BACKEND_NAMES) {
    test(`${title} [${name}]`, () => {
      const backend = getBackend(name);
      assert.equal(backend.name, name);
      fn(backend);
    });
  }
}

/** A tensor whose values are rounded to float32 up front (so float64 references start equal). */
export function t(shape: number[], values: number[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  assert.equal(values.length, size, 'test tensor size');
  return { shape, data: Float32Array.from(values) };
}

/** Float32-rounded copy of the values of a tree, as float64 arrays. */
export function toF64(params: Params): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const name of Object.keys(params)) out[name] = Array.from(params[name].data);
  return out;
}

/** Deterministic pseudo-random values in [-scale, scale] (no dependency on the library's RNG). */
export function values(count: number, seed: number, scale = 1): number[] {
  const out: number[] = [];
  let s = (seed * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(Math.fround(((s / 4294967296) * 2 - 1) * scale));
  }
  return out;
}

/**
 * |actual − expected| ≤ rtol·|expected| + atol elementwise. The default atol is rtol times the largest
 * |expected| of the array: results of p − update that cancel to near zero in float32 keep only
 * the precision of the values they came from.
 */
export function assertClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-6, atol?: number,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  if (atol === undefined) {
    atol = 0;
    for (let i = 0; i < expected.length; i++) atol = Math.max(atol, rtol * Math.abs(expected[i]));
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Math.abs(a - e) <= rtol * Math.abs(e) + atol;
    if (!ok) {
      assert.fail(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)}, rel ${Math.abs(a - e) / Math.abs(e)})`);
    }
  }
}

export function assertTreeClose(
  actual: Params, expected: Record<string, number[]>, what: string, rtol = 1e-6, atol?: number,
): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${what}: names`);
  for (const name of Object.keys(expected)) assertClose(actual[name].data, expected[name], `${what} ${name}`, rtol, atol);
}

export const INIT = { numSteps: 100 };
export const CTX = { loss: 0 };
