import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed, normal } from '../../src/engine/random.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { MaxPool } from '../../src/nn/max-pool.js';
import { ResidualAdd } from '../../src/nn/residual-add.js';
import { BACKEND_NAMES, backendNamed } from '../fixtures/backends.js';
import { checkGradients } from '../fixtures/gradcheck.js';
import { probeLoss } from '../fixtures/probe-loss.js';

const randomTensor = (seed: number, shape: number[]): Tensor =>
  ({ shape, data: normal(keyFromSeed(seed), shape.reduce((a, b) => a * b, 1), 1) });

for (const backendName of BACKEND_NAMES) {
  const backend = backendNamed(backendName);

  test(`${backendName}: MaxPool 3x3 stride 2 SAME takes each window's maximum, padding never wins`, () => {
    const pool = new MaxPool(backend);
    // One 4x4 single-channel image of negative values: SAME padding adds one column and row after,
    // which must not win (it is −inf, not 0).
    const data = Float32Array.from({ length: 16 }, (_, i) => -1 - i);
    const y = pool.forward({ shape: [1, 4, 4, 1], data });
    assert.deepEqual(y.shape, [1, 2, 2, 1]);
    // Windows start at rows/columns 0 and 2 (padding before 0): maxima at (0,0), (0,2), (2,0), (2,2).
    assert.deepEqual([...y.data], [-1, -3, -9, -11]);
    const dx = pool.backward({ shape: [1, 2, 2, 1], data: Float32Array.from([1, 2, 3, 4]) });
    assert.deepEqual([...dx.data], [1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0]);
    assert.deepEqual(pool.geometryFor([2, 224, 224, 64]).outHeight, 112);
    assert.throws(() => new MaxPool(backend).backward({ shape: [1], data: new Float32Array(1) }), /before forward/);
  });

  test(`${backendName}: MaxPool input gradient matches finite differences (overlapping windows)`, () => {
    const pool = new MaxPool(backend);
    const inputs = { x: randomTensor(1, [2, 5, 6, 3]) };
    const acts = pool.createActivations();
    const y = pool.forward(inputs.x, acts);
    assert.deepEqual(y.shape, [2, 3, 3, 3]);
    const probe = probeLoss(2, y.data.length);
    const dx = pool.backward(probe.grad(y), acts);
    const analytic = { x: { shape: dx.shape, data: dx.data.slice() } };
    // Small steps: a maximum must not change place within ±h.
    checkGradients(inputs, analytic, () => probe.value(pool.forward(inputs.x, pool.createActivations())), { samples: 60, h: 1e-3 });
  });

  test(`${backendName}: ResidualAdd sums its inputs; both receive the output gradient`, () => {
    const add = new ResidualAdd(backend);
    const inputs = { a: randomTensor(3, [2, 3]), b: randomTensor(4, [2, 3]) };
    const y = add.forward(inputs.a, inputs.b);
    assert.deepEqual([...y.data], [...inputs.a.data].map((v, i) => Math.fround(v + inputs.b.data[i])));
    const probe = probeLoss(5, 6);
    const [da, db] = add.backward(probe.grad(y));
    const analytic = { a: { shape: [2, 3], data: da.data.slice() }, b: { shape: [2, 3], data: db.data.slice() } };
    checkGradients(inputs, analytic, () => probe.value(add.forward(inputs.a, inputs.b, add.createActivations())));
    const into = { shape: [2], data: Float32Array.from([1, 2]) };
    assert.deepEqual([...add.accumulate(into, { shape: [2], data: Float32Array.from([10, 20]) }).data], [11, 22]);
    assert.throws(() => add.forward(inputs.a, randomTensor(6, [5])), /differ/);
  });
}
