import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed, normal } from '../../src/engine/random.js';
import { cloneParams, type Tensor } from '../../src/engine/tensor.js';
import { BatchNorm } from '../../src/nn/batch-norm.js';
import { LayerNorm } from '../../src/nn/layer-norm.js';
import { BACKEND_NAMES, backendNamed } from '../fixtures/backends.js';
import { checkGradients } from '../fixtures/gradcheck.js';
import { probeLoss } from '../fixtures/probe-loss.js';

const randomTensor = (seed: number, shape: number[], std = 1, shift = 0): Tensor =>
  ({ shape, data: Float32Array.from(normal(keyFromSeed(seed), shape.reduce((a, b) => a * b, 1), std), (v) => v + shift) });

for (const backendName of BACKEND_NAMES) {
  const backend = backendNamed(backendName);

  test(`${backendName}: BatchNorm training mode normalises each channel over batch and positions`, () => {
    const bn = new BatchNorm('bn', 3, backend);
    const params = bn.init();
    assert.deepEqual(Object.keys(params).sort(), ['bn/offset', 'bn/scale']);
    params['bn/scale'].data.set([1, 2, 0.5]);
    params['bn/offset'].data.set([0, 1, -1]);
    const x = randomTensor(1, [2, 3, 2, 3], 3, 5);
    const y = bn.forward(params, x);
    for (let c = 0; c < 3; c++) {
      const values = Array.from({ length: 12 }, (_, r) => y.data[r * 3 + c]);
      const mean = values.reduce((s, v) => s + v, 0) / 12;
      const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / 12;
      assert.ok(Math.abs(mean - params['bn/offset'].data[c]) < 1e-5, `channel ${c} mean ${mean}`);
      // var(y) = scale² · var/(var + eps), the batch variance near 9.
      assert.ok(Math.abs(variance / params['bn/scale'].data[c] ** 2 - 1) < 1e-4, `channel ${c} variance ${variance}`);
    }
  });

  test(`${backendName}: BatchNorm gradients (scale, offset, input) match finite differences`, () => {
    const bn = new BatchNorm('bn', 3, backend);
    const params = bn.init();
    params['bn/scale'].data.set([1.5, -0.7, 0.9]);
    params['bn/offset'].data.set([0.1, 0.2, -0.3]);
    const inputs = { x: randomTensor(2, [2, 2, 3, 3], 2, 1) };
    const probe = probeLoss(3, inputs.x.data.length);
    const acts = bn.createActivations();
    const grads = cloneParams(params);
    const dx = bn.backward(params, probe.grad(bn.forward(params, inputs.x, acts)), grads, acts);
    const inputGrad = { x: { shape: dx.shape, data: dx.data.slice() } };
    const loss = () => probe.value(bn.forward(params, inputs.x, bn.createActivations()));
    checkGradients(params, grads, loss);
    checkGradients(inputs, inputGrad, loss, { samples: 36 });
  });

  test(`${backendName}: BatchNorm moving averages: Haiku's decay 0.9 with zero debiasing, used in evaluation`, () => {
    const bn = new BatchNorm('bn', 2, backend);
    const params = bn.init();
    const state = bn.initState();
    assert.deepEqual(Object.keys(state).sort(), ['bn/counter', 'bn/mean_ema/hidden', 'bn/var_ema/hidden']);
    const fresh = bn.forward(params, { shape: [1, 2], data: Float32Array.from([3, -4]) }, bn.createActivations(), { training: false, state });
    // Before any training step: mean 0, variance 1.
    assert.ok(Math.abs(fresh.data[0] - 3 / Math.sqrt(1 + 1e-5)) < 1e-6 && Math.abs(fresh.data[1] + 4 / Math.sqrt(1 + 1e-5)) < 1e-6);
    const batches = [[1, 10, 3, 14], [5, 20, 7, 20]]; // two rows of two channels each
    for (const data of batches) bn.forward(params, { shape: [2, 2], data: Float32Array.from(data) }, bn.createActivations(), { training: true, state });
    assert.equal(state['bn/counter'].data[0], 2);
    // Channel 0: batch means 2 and 6, variances 1 and 1; hidden = 0.9·(0.1·2) + 0.1·6 = 0.78, debiased /(1 − 0.81).
    const mean0 = (0.9 * 0.1 * 2 + 0.1 * 6) / (1 - 0.81);
    const var1 = (0.9 * 0.1 * 4 + 0.1 * 0) / (1 - 0.81); // channel 1: variances 4 and 0
    assert.ok(Math.abs(state['bn/mean_ema/hidden'].data[0] - 0.78) < 1e-5);
    const y = bn.forward(params, { shape: [1, 2], data: Float32Array.from([4, 17]) }, bn.createActivations(), { training: false, state });
    assert.ok(Math.abs(y.data[0] - (4 - mean0) / Math.sqrt(1 + 1e-5)) < 1e-4, `${y.data[0]}`);
    const mean1 = (0.9 * 0.1 * 12 + 0.1 * 20) / (1 - 0.81);
    assert.ok(Math.abs(y.data[1] - (17 - mean1) / Math.sqrt(var1 + 1e-5)) < 1e-3, `${y.data[1]}`);
    // Evaluation leaves the state alone and cannot be differentiated.
    assert.equal(state['bn/counter'].data[0], 2);
    const acts = bn.createActivations();
    bn.forward(params, { shape: [1, 2], data: Float32Array.from([4, 17]) }, acts, { training: false, state });
    assert.throws(() => bn.backward(params, { shape: [1, 2], data: new Float32Array(2) }, cloneParams(params), acts), /training-mode/);
    assert.throws(() => bn.forward(params, { shape: [2, 3], data: new Float32Array(6) }), /expected input \[\.\.\., 2\]/);
  });

  test(`${backendName}: LayerNorm normalises rows; gradients match finite differences`, () => {
    const ln = new LayerNorm('ln', 5, backend);
    const params = ln.init();
    params['ln/scale'].data.set([1, 2, -1, 0.5, 1.5]);
    params['ln/offset'].data.set([0, 0.1, 0.2, 0.3, 0.4]);
    const inputs = { x: randomTensor(4, [2, 3, 5], 2, -1) };
    const y = ln.forward(params, inputs.x);
    assert.deepEqual(y.shape, [2, 3, 5]);
    const plain = new LayerNorm('plain', 5, backend);
    const normed = plain.forward(plain.init(), inputs.x);
    for (let r = 0; r < 6; r++) {
      const row = normed.data.subarray(r * 5, r * 5 + 5);
      const mean = row.reduce((s, v) => s + v, 0) / 5;
      assert.ok(Math.abs(mean) < 1e-5 && Math.abs(row.reduce((s, v) => s + v * v, 0) / 5 - 1) < 1e-3);
    }
    const probe = probeLoss(5, 30);
    const acts = ln.createActivations();
    const grads = cloneParams(params);
    const dx = ln.backward(params, probe.grad(ln.forward(params, inputs.x, acts)), grads, acts);
    const inputGrad = { x: { shape: dx.shape, data: dx.data.slice() } };
    const loss = () => probe.value(ln.forward(params, inputs.x, ln.createActivations()));
    checkGradients(params, grads, loss);
    checkGradients(inputs, inputGrad, loss, { samples: 30 });
    assert.throws(() => ln.backward(params, dx, grads, ln.createActivations()), /before forward/);
  });
}
