import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed, normal, split } from '../../src/engine/random.js';
import { cloneParams, type Params, type Tensor } from '../../src/engine/tensor.js';
import { Linear } from '../../src/nn/linear.js';
import { MLP } from '../../src/nn/mlp.js';
import { ReLU } from '../../src/nn/relu.js';
import { SoftmaxCrossEntropy } from '../../src/nn/softmax-cross-entropy.js';
import { BACKEND_NAMES, backendNamed } from '../fixtures/backends.js';
import { checkGradients } from '../fixtures/gradcheck.js';

const randomTensor = (seed: number, shape: number[], std = 1): Tensor =>
  ({ shape, data: normal(keyFromSeed(seed), shape.reduce((a, b) => a * b, 1), std) });

for (const backendName of BACKEND_NAMES) {
  const backend = backendNamed(backendName);

  test(`${backendName}: Linear forward computes x·W + b`, () => {
    const layer = new Linear('l', 3, 2, backend);
    const params: Params = {
      'l/w': { shape: [3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
      'l/b': { shape: [2], data: Float32Array.from([0.5, -1]) },
    };
    const y = layer.forward(params, { shape: [2, 3], data: Float32Array.from([1, 0, -1, 2, 1, 0]) });
    assert.deepEqual([...y.data], [1 - 5 + 0.5, 2 - 6 - 1, 2 + 3 + 0.5, 4 + 4 - 1]);
  });

  test(`${backendName}: Linear and cross-entropy gradients match finite differences`, () => {
    const layer = new Linear('l', 5, 4, backend);
    const ce = new SoftmaxCrossEntropy(backend);
    const params = layer.init(keyFromSeed(1));
    params['l/b'].data.set([0.1, -0.2, 0.3, 0.05]);
    const x = randomTensor(2, [3, 5]);
    const labels = Int32Array.from([0, 3, 2]);
    const grads = cloneParams(params);
    const { dlogits } = ce.lossAndGrad(layer.forward(params, x), labels);
    const dx = layer.backward(params, dlogits, grads)!;
    checkGradients(params, grads, () => ce.loss(layer.forward(params, x), labels));
    // Input gradient: treat x as a parameter.
    const inputs = { x };
    const dxCopy = { x: { shape: dx.shape, data: dx.data.slice() } };
    checkGradients(inputs, dxCopy, () => ce.loss(layer.forward(params, inputs.x), labels));
  });

  test(`${backendName}: ReLU backward masks by the forward output`, () => {
    const relu = new ReLU(backend);
    const y = relu.forward({ shape: [4], data: Float32Array.from([-1, 2, 0, 3]) });
    assert.deepEqual([...y.data], [0, 2, 0, 3]);
    const dx = relu.backward({ shape: [4], data: Float32Array.from([5, 6, 7, 8]) });
    assert.deepEqual([...dx.data], [0, 6, 0, 8]);
  });

  test(`${backendName}: MLP (Linear, ReLU, Linear, ReLU, Linear) + cross-entropy passes a gradient check`, () => {
    const mlp = new MLP('mlp', [6, 5, 4, 3], backend);
    const ce = new SoftmaxCrossEntropy(backend);
    const params = mlp.init(keyFromSeed(3));
    // Biases away from zero keep pre-activations off the ReLU kink for most coordinates.
    for (const [i, name] of ['mlp/linear_0/b', 'mlp/linear_1/b'].entries()) {
      params[name].data.set(normal(split(keyFromSeed(9))[i], params[name].data.length, 0.5));
    }
    const x = randomTensor(4, [5, 6]);
    const labels = Int32Array.from([0, 1, 2, 1, 0]);
    const grads = cloneParams(params);
    const { loss, dlogits } = ce.lossAndGrad(mlp.forward(params, x), labels);
    mlp.backward(params, dlogits, grads);
    assert.ok(loss > 0 && Number.isFinite(loss));
    checkGradients(params, grads, () => ce.loss(mlp.forward(params, x), labels), { h: 3e-3 });
  });

  test(`${backendName}: MLP activations owned by the caller: two passes interleaved match each alone, bit for bit`, () => {
    const mlp = new MLP('mlp', [6, 5, 4, 3], backend);
    const ce = new SoftmaxCrossEntropy(backend);
    const params = mlp.init(keyFromSeed(3));
    const xa = randomTensor(4, [5, 6]);
    const xb = randomTensor(5, [7, 6]);
    const la = Int32Array.from([0, 1, 2, 1, 0]);
    const lb = Int32Array.from([2, 2, 1, 0, 0, 1, 2]);
    const alone = (x: Tensor, labels: Int32Array) => {
      const grads = cloneParams(params);
      const { loss, dlogits } = ce.lossAndGrad(mlp.forward(params, x), labels);
      mlp.backward(params, dlogits, grads);
      return { loss, grads: cloneParams(grads) };
    };
    const expectA = alone(xa, la);
    const expectB = alone(xb, lb);
    // Both forward passes first, then both backward passes, each with its own activations.
    const actsA = mlp.createActivations();
    const actsB = mlp.createActivations();
    const lossA = ce.createActivations();
    const lossB = ce.createActivations();
    const ga = cloneParams(params);
    const gb = cloneParams(params);
    const ra = ce.lossAndGrad(mlp.forward(params, xa, actsA), la, lossA);
    const rb = ce.lossAndGrad(mlp.forward(params, xb, actsB), lb, lossB);
    mlp.backward(params, ra.dlogits, ga, actsA);
    mlp.backward(params, rb.dlogits, gb, actsB);
    assert.equal(ra.loss, expectA.loss);
    assert.equal(rb.loss, expectB.loss);
    for (const name of Object.keys(params)) {
      assert.deepEqual(ga[name].data, expectA.grads[name].data, `A ${name}`);
      assert.deepEqual(gb[name].data, expectB.grads[name].data, `B ${name}`);
    }
  });

  test(`${backendName}: cross-entropy of uniform logits is ln(classes) and rejects bad labels`, () => {
    const ce = new SoftmaxCrossEntropy(backend);
    const logits = { shape: [2, 10], data: new Float32Array(20) };
    assert.ok(Math.abs(ce.loss(logits, Int32Array.from([3, 7])) - Math.log(10)) < 1e-6);
    assert.throws(() => ce.loss(logits, Int32Array.from([3, 10])), /label 10/);
  });
}

test('MLP initialisation is Haiku-like: truncated normal weights with σ = 1/sqrt(fan_in), zero biases', () => {
  const mlp = new MLP('mlp', [784, 128, 10], backendNamed('reference'));
  const params = mlp.init(keyFromSeed(0));
  const w = params['mlp/linear_0/w'].data;
  const sigma = 1 / Math.sqrt(784);
  assert.ok(w.every((v) => Math.abs(v) <= 2 * sigma + 1e-7));
  const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
  assert.ok(Math.abs(variance / (sigma * sigma) - 0.7737) < 0.02, `variance ratio ${variance / sigma ** 2}`);
  assert.ok(params['mlp/linear_1/b'].data.every((v) => v === 0));
  assert.deepEqual(params['mlp/linear_1/w'].shape, [128, 10]);
});
