import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed, normal, uniform } from '../../src/engine/random.js';
import { SigmoidMSE } from '../../src/nn/sigmoid-mse.js';
import { BACKEND_NAMES, backendNamed } from '../fixtures/backends.js';
import { checkGradients } from '../fixtures/gradcheck.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

for (const backendName of BACKEND_NAMES) {
  const backend = backendNamed(backendName);

  test(`${backendName}: SigmoidMSE is mean((x − sigmoid(out))²) with gradient 2(σ − x)σ(1 − σ)/n`, () => {
    const mse = new SigmoidMSE(backend);
    const out = Float32Array.from([0, 2, -1, 0.5, -3, 4]);
    const x = Float32Array.from([0.5, 1, 0, 0.25, 0.1, 0.9]);
    let want = 0;
    for (let i = 0; i < 6; i++) want += (x[i] - sigmoid(out[i])) ** 2;
    want /= 6;
    const logits = { shape: [2, 3], data: out };
    const target = { shape: [2, 3], data: x };
    assert.ok(Math.abs(mse.loss(logits, target) - want) < 1e-7);
    const { loss, dlogits } = mse.lossAndGrad(logits, target);
    assert.ok(Math.abs(loss - want) < 1e-7);
    assert.deepEqual(dlogits.shape, [2, 3]);
    for (let i = 0; i < 6; i++) {
      const s = sigmoid(out[i]);
      const expected = (2 * (s - x[i]) * s * (1 - s)) / 6;
      assert.ok(Math.abs(dlogits.data[i] - expected) < 1e-7, `[${i}] ${dlogits.data[i]} vs ${expected}`);
    }
    assert.equal(mse.loss({ shape: [1], data: Float32Array.of(0) }, { shape: [1], data: Float32Array.of(0.5) }), 0);
    assert.throws(() => mse.loss(logits, { shape: [5], data: new Float32Array(5) }), /6 logits but 5 targets/);
  });

  test(`${backendName}: SigmoidMSE gradient matches finite differences and stays finite for huge logits`, () => {
    const mse = new SigmoidMSE(backend);
    const params = { out: { shape: [3, 7], data: normal(keyFromSeed(1), 21, 2) } };
    const target = { shape: [3, 7], data: uniform(keyFromSeed(2), 21) };
    const grads = { out: { shape: [3, 7], data: mse.lossAndGrad(params.out, target).dlogits.data.slice() } };
    checkGradients(params, grads, () => mse.loss(params.out, target), { h: 1e-2, samples: 21, atol: 1e-4 });
    // σ saturates without overflow: the loss is the squared distance to 0 or 1, the gradient tiny.
    const extreme = { shape: [4], data: Float32Array.from([1e4, -1e4, 200, -200]) };
    const t = { shape: [4], data: Float32Array.from([0.25, 0.25, 1, 0]) };
    const { loss, dlogits } = mse.lossAndGrad(extreme, t);
    assert.ok(Math.abs(loss - (0.75 ** 2 + 0.25 ** 2) / 4) < 1e-7, `loss ${loss}`);
    assert.ok(dlogits.data.every((v) => Number.isFinite(v) && Math.abs(v) < 1e-30));
  });
}
