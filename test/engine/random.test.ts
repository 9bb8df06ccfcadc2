import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  foldIn, keyFromSeed, normal, permutation, split, threefry2x32, truncatedNormal, uniform,
} from '../../src/engine/random.js';

test('threefry2x32 matches the Random123 known-answer vectors', () => {
  assert.deepEqual(threefry2x32([0, 0], 0, 0), [0x6b200159, 0x99ba4efe]);
  assert.deepEqual(threefry2x32([0xffffffff, 0xffffffff], 0xffffffff, 0xffffffff), [0x1cb996fc, 0xbb002be7]);
  assert.deepEqual(threefry2x32([0x13198a2e, 0x03707344], 0x243f6a88, 0x85a308d3), [0xc4923a9c, 0x483df7a0]);
});

test('split(keyFromSeed(0)) equals jax.random.split(PRNGKey(0))', () => {
  assert.deepEqual(keyFromSeed(0), [0, 0]);
  assert.deepEqual(split(keyFromSeed(0)), [[4146024105, 967050713], [2718843009, 1272950319]]);
});

test('keys are deterministic and distinct streams differ', () => {
  const key = keyFromSeed(42);
  assert.deepEqual(normal(key, 8), normal(keyFromSeed(42), 8));
  assert.notDeepEqual(normal(foldIn(key, 1), 8), normal(foldIn(key, 2), 8));
  const [a, b] = split(key);
  assert.notDeepEqual(uniform(a, 8), uniform(b, 8));
  assert.throws(() => keyFromSeed(-1), /seed/);
});

test('distributions have the right moments and ranges', () => {
  const n = 20000;
  const key = keyFromSeed(7);
  const u = uniform(key, n);
  const mean = u.reduce((s, x) => s + x, 0) / n;
  assert.ok(Math.abs(mean - 0.5) < 0.01);
  assert.ok(u.every((x) => x >= 0 && x < 1));
  const z = normal(key, n);
  const zMean = z.reduce((s, x) => s + x, 0) / n;
  const zVar = z.reduce((s, x) => s + x * x, 0) / n - zMean * zMean;
  assert.ok(Math.abs(zMean) < 0.03 && Math.abs(zVar - 1) < 0.05, `mean ${zMean} var ${zVar}`);
  const t = truncatedNormal(key, n, 0.5);
  assert.ok(t.every((x) => Math.abs(x) <= 1.0));
  // Variance of a standard normal truncated to [-2, 2] is 0.7737; scaled by 0.5² here.
  const tVar = t.reduce((s, x) => s + x * x, 0) / n;
  assert.ok(Math.abs(tVar - 0.7737 * 0.25) < 0.01, `truncated variance ${tVar}`);
});

test('permutation is a permutation', () => {
  const p = permutation(keyFromSeed(3), 1000);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual([...p.slice(0, 10)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});
