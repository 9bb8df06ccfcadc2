import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed, normal } from '../../src/engine/random.js';
import { cloneParams, type Params, type Tensor } from '../../src/engine/tensor.js';
import { Conv2d, samePadding } from '../../src/nn/conv2d.js';
import { BACKEND_NAMES, backendNamed } from '../fixtures/backends.js';
import { checkGradients } from '../fixtures/gradcheck.js';
import { probeLoss } from '../fixtures/probe-loss.js';

const randomTensor = (seed: number, shape: number[], std = 1): Tensor =>
  ({ shape, data: normal(keyFromSeed(seed), shape.reduce((a, b) => a * b, 1), std) });

/** Direct float64 convolution with SAME padding: no im2col, the textbook sum over the window. */
function convolveSame(x: Tensor, params: Params, name: string, k: number, stride: number): { shape: number[]; data: Float64Array } {
  const [batch, height, width, cin] = x.shape;
  const w = params[`${name}/w`];
  const bias = params[`${name}/b`].data;
  const cout = w.shape[3];
  const rows = samePadding(height, k, stride);
  const cols = samePadding(width, k, stride);
  const out = new Float64Array(batch * rows.out * cols.out * cout);
  for (let b = 0; b < batch; b++)
    for (let oh = 0; oh < rows.out; oh++)
      for (let ow = 0; ow < cols.out; ow++)
        for (let co = 0; co < cout; co++) {
          let sum = bias[co];
          for (let kh = 0; kh < k; kh++)
            for (let kw = 0; kw < k; kw++) {
              const ih = oh * stride + kh - rows.before;
              const iw = ow * stride + kw - cols.before;
              if (ih < 0 || ih >= height || iw < 0 || iw >= width) continue;
              for (let ci = 0; ci < cin; ci++) {
                sum += x.data[((b * height + ih) * width + iw) * cin + ci] * w.data[((kh * k + kw) * cin + ci) * cout + co];
              }
            }
          out[((b * rows.out + oh) * cols.out + ow) * cout + co] = sum;
        }
  return { shape: [batch, rows.out, cols.out, cout], data: out };
}

test('samePadding follows TensorFlow/Haiku SAME: out = ceil(in/stride), the odd pixel after', () => {
  assert.deepEqual(samePadding(32, 3, 2), { out: 16, before: 0, after: 1 });
  assert.deepEqual(samePadding(16, 3, 1), { out: 16, before: 1, after: 1 });
  assert.deepEqual(samePadding(16, 3, 2), { out: 8, before: 0, after: 1 });
  assert.deepEqual(samePadding(5, 3, 2), { out: 3, before: 1, after: 1 });
  assert.deepEqual(samePadding(6, 2, 1), { out: 6, before: 0, after: 1 });
  assert.deepEqual(samePadding(7, 5, 3), { out: 3, before: 2, after: 2 });
  assert.deepEqual(samePadding(1, 3, 1), { out: 1, before: 1, after: 1 });
  assert.deepEqual(samePadding(4, 1, 2), { out: 2, before: 0, after: 0 });
});

test('Conv2d parameters: HWIO kernel, Haiku names and init, the CIFAR ConvNet count', () => {
  const conv = new Conv2d('conv2_d_1', 32, 64, backendNamed('reference'));
  const params = conv.init(keyFromSeed(0));
  assert.deepEqual(Object.keys(params).sort(), ['conv2_d_1/b', 'conv2_d_1/w']);
  assert.deepEqual(params['conv2_d_1/w'].shape, [3, 3, 32, 64]);
  assert.deepEqual(params['conv2_d_1/b'].shape, [64]);
  assert.ok(params['conv2_d_1/b'].data.every((v) => v === 0));
  const w = params['conv2_d_1/w'].data;
  const sigma = 1 / Math.sqrt(3 * 3 * 32);
  assert.ok(w.every((v) => Math.abs(v) <= 2 * sigma + 1e-7));
  const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
  assert.ok(Math.abs(variance / sigma ** 2 - 0.7737) < 0.03, `variance ratio ${variance / sigma ** 2}`);
  // docs/specification.md §17: conv 32 s2, conv 64, conv 64, linear 10 on 3 channels has 56,970
  // parameters.
  const b = backendNamed('reference');
  const convs = [new Conv2d('c0', 3, 32, b, { stride: 2 }), new Conv2d('c1', 32, 64, b), new Conv2d('c2', 64, 64, b)];
  assert.equal(convs.reduce((s, c) => s + c.paramCount, 0) + 64 * 10 + 10, 56_970);
  assert.deepEqual(convs[0].outputShape([128, 32, 32, 3]), [128, 16, 16, 32]);
  assert.equal(convs[1].forwardFlops(128 * 16 * 16), 2 * 128 * 256 * 288 * 64);
  assert.throws(() => new Conv2d('bad', 3, 4, b, { stride: 0 }), /stride/);
});

for (const backendName of BACKEND_NAMES) {
  const backend = backendNamed(backendName);

  test(`${backendName}: Conv2d forward equals a direct SAME convolution (strides 1-2, kernels 1-3, odd sizes)`, () => {
    const cases: [number[], number, number, number][] = [
      // [input shape, outChannels, kernel, stride]
      [[2, 6, 6, 3], 4, 3, 2], // even size, stride 2: no padding before, one after
      [[1, 5, 7, 2], 3, 3, 2],
      [[2, 5, 4, 2], 3, 3, 1],
      [[1, 4, 5, 3], 2, 2, 1],
      [[1, 3, 3, 1], 1, 1, 1],
      [[1, 1, 1, 2], 2, 3, 1],
      [[1, 8, 8, 3], 5, 3, 2],
    ];
    cases.forEach(([shape, cout, k, stride], i) => {
      const conv = new Conv2d('conv', shape[3], cout, backend, { kernelSize: k, stride });
      const params = conv.init(keyFromSeed(10 + i));
      params['conv/b'].data.set(normal(keyFromSeed(20 + i), cout, 0.5));
      const x = randomTensor(30 + i, shape);
      const y = conv.forward(params, x);
      const want = convolveSame(x, params, 'conv', k, stride);
      assert.deepEqual(y.shape, want.shape);
      for (let j = 0; j < want.data.length; j++) {
        assert.ok(Math.abs(y.data[j] - want.data[j]) <= 1e-5 * (1 + Math.abs(want.data[j])), `case ${i} [${j}]: ${y.data[j]} vs ${want.data[j]}`);
      }
    });
  });

  for (const stride of [1, 2]) {
    test(`${backendName}: Conv2d stride ${stride} gradients (weights, bias, input) match finite differences`, () => {
      const conv = new Conv2d('conv', 2, 3, backend, { stride });
      const params = conv.init(keyFromSeed(40 + stride));
      params['conv/b'].data.set([0.1, -0.2, 0.3]);
      const inputs = { x: randomTensor(50 + stride, [2, 5, 4, 2]) };
      const probe = probeLoss(60 + stride, conv.outputShape(inputs.x.shape).reduce((a, b) => a * b, 1));
      const y = conv.forward(params, inputs.x);
      const grads = cloneParams(params);
      const dx = conv.backward(params, probe.grad(y), grads)!;
      assert.deepEqual(dx.shape, [2, 5, 4, 2]);
      const inputGrad = { x: { shape: dx.shape, data: dx.data.slice() } };
      checkGradients(params, grads, () => probe.value(conv.forward(params, inputs.x)));
      checkGradients(inputs, inputGrad, () => probe.value(conv.forward(params, inputs.x)), { samples: 40 });
    });
  }

  test(`${backendName}: Conv2d backward contracts: before forward, twice, without the input gradient`, () => {
    const conv = new Conv2d('conv', 1, 2, backend);
    const params = conv.init(keyFromSeed(70));
    const grads = cloneParams(params);
    const dy = { shape: [1, 3, 3, 2], data: new Float32Array(18).fill(1) };
    assert.throws(() => conv.backward(params, dy, grads), /before forward/);
    const x = randomTensor(71, [1, 3, 3, 1]);
    conv.forward(params, x);
    assert.equal(conv.backward(params, dy, grads, false), null);
    assert.ok(conv.backward(params, dy, grads) !== null);
    assert.throws(() => conv.backward(params, dy, grads), /twice/);
    // Bias gradient: the sum of dy over positions.
    assert.deepEqual([...grads['conv/b'].data], [9, 9]);
    assert.throws(() => conv.forward(params, randomTensor(72, [1, 3, 3, 2])), /expected input/);
  });
}
