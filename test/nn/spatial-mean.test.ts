import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed, normal } from '../../src/engine/random.js';
import { SpatialMean } from '../../src/nn/spatial-mean.js';
import { BACKEND_NAMES, backendNamed } from '../fixtures/backends.js';
import { checkGradients } from '../fixtures/gradcheck.js';
import { probeLoss } from '../fixtures/probe-loss.js';

for (const backendName of BACKEND_NAMES) {
  const backend = backendNamed(backendName);

  test(`${backendName}: SpatialMean averages over height and width per image and channel`, () => {
    const pool = new SpatialMean(backend);
    // [2, 2, 2, 2]: image 0 channel 0 holds 1..4, channel 1 holds 10..40; image 1 is negated.
    const data = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40, -1, -10, -2, -20, -3, -30, -4, -40]);
    const y = pool.forward({ shape: [2, 2, 2, 2], data });
    assert.deepEqual(y.shape, [2, 2]);
    assert.deepEqual([...y.data], [2.5, 25, -2.5, -25]);
    const dx = pool.backward({ shape: [2, 2], data: Float32Array.from([4, 8, -4, 2]) });
    assert.deepEqual(dx.shape, [2, 2, 2, 2]);
    assert.deepEqual([...dx.data], [1, 2, 1, 2, 1, 2, 1, 2, -1, 0.5, -1, 0.5, -1, 0.5, -1, 0.5]);
  });

  test(`${backendName}: SpatialMean input gradient matches finite differences`, () => {
    const pool = new SpatialMean(backend);
    const inputs = { x: { shape: [2, 3, 5, 4], data: normal(keyFromSeed(1), 120, 1) } };
    const probe = probeLoss(2, 8);
    const dx = pool.backward(probe.grad(pool.forward(inputs.x)));
    const analytic = { x: { shape: dx.shape, data: dx.data.slice() } };
    checkGradients(inputs, analytic, () => probe.value(pool.forward(inputs.x)), { samples: 30 });
    assert.throws(() => new SpatialMean(backend).backward({ shape: [2, 4], data: new Float32Array(8) }), /before forward/);
    assert.throws(() => pool.forward({ shape: [2, 4], data: new Float32Array(8) }), /expected input/);
  });
}
