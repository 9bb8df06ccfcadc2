import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed, normal } from '../../src/engine/random.js';
import { cloneParams, type Params, type Tensor } from '../../src/engine/tensor.js';
import { LSTM } from '../../src/nn/lstm.js';
import { BACKEND_NAMES, backendNamed } from '../fixtures/backends.js';
import { checkGradients } from '../fixtures/gradcheck.js';
import { probeLoss } from '../fixtures/probe-loss.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const tensor = (shape: number[], values: number[]): Tensor => ({ shape, data: Float32Array.from(values) });
const randomTensor = (seed: number, shape: number[], std = 1): Tensor =>
  ({ shape, data: normal(keyFromSeed(seed), shape.reduce((a, b) => a * b, 1), std) });

/**
 * Hand-written fixed weights for in = 2, hidden = 2: W is [in + hidden, 8] = [x rows; h rows], its
 * columns the gates i (0-1), g (2-3), f (4-5), o (6-7). Every entry differs, so any other gate order, a
 * transposed W or a swapped [x, h] concatenation gives other numbers.
 */
const W = [
  [0.1, -0.2, 0.3, 0.05, -0.4, 0.25, 0.6, -0.15], // x_0
  [-0.3, 0.2, -0.1, 0.45, 0.15, -0.35, 0.2, 0.1], // x_1
  [0.05, 0.15, -0.25, 0.3, 0.35, 0.1, -0.2, 0.4], // h_0
  [0.2, -0.05, 0.1, -0.3, -0.1, 0.2, 0.3, -0.25], // h_1
];
const B = [0.01, -0.02, 0.03, -0.04, 0.05, -0.06, 0.07, -0.08];
const fixedParams = (): Params => ({
  'lstm/linear/w': tensor([4, 8], W.flat()),
  'lstm/linear/b': tensor([8], B),
});

/** One cell step by hand in float64: z = [x, h]·W + b; c' = σ(f + 1)c + σ(i)tanh(g); h' = σ(o)tanh(c'). */
function cellByHand(x: number[], h: number[], c: number[]): { h: number[]; c: number[] } {
  const xh = [...x, ...h];
  const z = B.map((bias, col) => bias + xh.reduce((s, v, row) => s + v * W[row][col], 0));
  const hidden = 2;
  const cNew: number[] = [];
  const hNew: number[] = [];
  for (let j = 0; j < hidden; j++) {
    const [i, g, f, o] = [z[j], z[hidden + j], z[2 * hidden + j], z[3 * hidden + j]];
    cNew.push(sigmoid(f + 1) * c[j] + sigmoid(i) * Math.tanh(g));
    hNew.push(sigmoid(o) * Math.tanh(cNew[j]));
  }
  return { h: hNew, c: cNew };
}

function assertClose(actual: ArrayLike<number>, expected: number[], what: string, tol = 2e-6): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

test('LSTM parameters: Haiku names and shapes, fan_in = in + hidden, the language model count', () => {
  const lstm = new LSTM('lstm', 64, 128, backendNamed('reference'));
  const params = lstm.init(keyFromSeed(0));
  assert.deepEqual(Object.keys(params).sort(), ['lstm/linear/b', 'lstm/linear/w']);
  assert.deepEqual(params['lstm/linear/w'].shape, [192, 512]);
  assert.deepEqual(params['lstm/linear/b'].shape, [512]);
  assert.equal(lstm.paramCount, 98_816); // + embed 16,384 + linear 33,024 = the LM's 148,224
  const sigma = 1 / Math.sqrt(192);
  assert.ok(params['lstm/linear/w'].data.every((v) => Math.abs(v) <= 2 * sigma + 1e-7));
  assert.ok(params['lstm/linear/b'].data.every((v) => v === 0));
  assert.equal(lstm.forwardFlops(128, 32), 2 * 128 * 32 * 192 * 512);
});

for (const backendName of BACKEND_NAMES) {
  const backend = backendNamed(backendName);

  test(`${backendName}: LSTM matches hand-computed cells (gate order i, g, f, o; forget bias +1)`, () => {
    const lstm = new LSTM('lstm', 2, 2, backend);
    const params = fixedParams();
    // Two rows, two steps, distinct initial states per row.
    const x = [[[0.5, -1.0], [0.3, 0.8]], [[-0.7, 0.2], [1.1, -0.4]]];
    const h0 = [[0.1, -0.3], [0.4, 0.2]];
    const c0 = [[0.5, -0.2], [-0.6, 0.9]];
    const out = lstm.forward(params, tensor([2, 2, 2], x.flat(2)), tensor([2, 2], h0.flat()), tensor([2, 2], c0.flat()));
    assert.deepEqual(out.shape, [2, 2, 2]);
    const expectedOut: number[] = [];
    const finalH: number[] = [];
    const finalC: number[] = [];
    for (let r = 0; r < 2; r++) {
      let state = { h: h0[r], c: c0[r] };
      for (let t = 0; t < 2; t++) {
        state = cellByHand(x[r][t], state.h, state.c);
        expectedOut.push(...state.h);
      }
      finalH.push(...state.h);
      finalC.push(...state.c);
    }
    assertClose(out.data, expectedOut, 'outputs');
    const final = lstm.finalState();
    assertClose(final.h.data, finalH, 'final h');
    assertClose(final.c.data, finalC, 'final c');
    // The first cell by literal arithmetic, so a shared mistake in cellByHand cannot hide: row 0, step 0.
    const z = (col: number): number => B[col] + 0.5 * W[0][col] - 1.0 * W[1][col] + 0.1 * W[2][col] - 0.3 * W[3][col];
    const c00 = sigmoid(z(4) + 1) * 0.5 + sigmoid(z(0)) * Math.tanh(z(2));
    assertClose([out.data[0]], [sigmoid(z(6)) * Math.tanh(c00)], 'h[0, 0, 0]');
  });

  test(`${backendName}: LSTM gradients (weights, bias, inputs, initial and final state) match finite differences`, () => {
    const [batch, steps, inputSize, hidden] = [2, 3, 3, 4];
    const lstm = new LSTM('lstm', inputSize, hidden, backend);
    const params = lstm.init(keyFromSeed(1));
    params['lstm/linear/b'].data.set(normal(keyFromSeed(2), 4 * hidden, 0.5));
    const inputs = {
      x: randomTensor(3, [batch, steps, inputSize]),
      h0: randomTensor(4, [batch, hidden], 0.5),
      c0: randomTensor(5, [batch, hidden], 0.5),
    };
    const probe = probeLoss(6, batch * steps * hidden);
    const probeH = probeLoss(7, batch * hidden);
    const probeC = probeLoss(8, batch * hidden);
    // L = probe(outputs) + probeH(h_T) + probeC(c_T): exercises the final-state gradients too.
    const loss = (): number => {
      const out = lstm.forward(params, inputs.x, inputs.h0, inputs.c0);
      const value = probe.value(out);
      const { h, c } = lstm.finalState();
      return value + probeH.value(h) + probeC.value(c);
    };
    const out = lstm.forward(params, inputs.x, inputs.h0, inputs.c0);
    const dOut = probe.grad(out);
    const { h, c } = lstm.finalState();
    const grads = cloneParams(params);
    const { dx, dh0, dc0 } = lstm.backward(params, dOut, grads, { dFinalH: probeH.grad(h), dFinalC: probeC.grad(c) });
    const inputGrads = {
      x: { shape: dx!.shape, data: dx!.data.slice() },
      h0: { shape: dh0.shape, data: dh0.data.slice() },
      c0: { shape: dc0.shape, data: dc0.data.slice() },
    };
    assert.deepEqual(dx!.shape, [batch, steps, inputSize]);
    checkGradients(params, grads, loss, { h: 3e-3, samples: 24 });
    checkGradients(inputs, inputGrads, loss, { h: 3e-3, samples: 24 });
  });

  test(`${backendName}: LSTM without final-state gradients; batch and length changes; backward contracts`, () => {
    const lstm = new LSTM('lstm', 3, 2, backend);
    const params = lstm.init(keyFromSeed(9));
    const h0 = randomTensor(10, [1, 2]);
    const c0 = randomTensor(11, [1, 2]);
    const grads = cloneParams(params);
    assert.throws(() => lstm.backward(params, randomTensor(12, [1, 2, 2]), grads), /before forward/);
    // A learned initial state broadcast over the batch: per-row dL/dh0 and dL/dc0 summed by the caller.
    const x = randomTensor(13, [1, 4, 3]);
    const probe = probeLoss(14, 8);
    const inputs = { h0, c0 };
    const loss = (): number => probe.value(lstm.forward(params, x, inputs.h0, inputs.c0));
    const out = lstm.forward(params, x, h0, c0);
    const { dx, dh0, dc0 } = lstm.backward(params, probe.grad(out), grads, { needInputGrad: false });
    assert.equal(dx, null);
    checkGradients(inputs, { h0: { shape: [1, 2], data: dh0.data.slice() }, c0: { shape: [1, 2], data: dc0.data.slice() } }, loss, { h: 3e-3 });
    checkGradients(params, grads, loss, { h: 3e-3 });
    // A longer then shorter sequence, and a bigger batch, give what a fresh layer gives.
    const long = lstm.forward(params, randomTensor(15, [2, 5, 3]), randomTensor(16, [2, 2]), randomTensor(17, [2, 2])).data.slice();
    const fresh = new LSTM('lstm', 3, 2, backend);
    assert.deepEqual(fresh.forward(params, randomTensor(15, [2, 5, 3]), randomTensor(16, [2, 2]), randomTensor(17, [2, 2])).data, long);
    assert.throws(() => lstm.forward(params, randomTensor(18, [2, 5, 4]), randomTensor(16, [2, 2]), randomTensor(17, [2, 2])), /expected input/);
    assert.throws(() => lstm.forward(params, randomTensor(18, [2, 5, 3]), randomTensor(16, [1, 2]), randomTensor(17, [2, 2])), /h0/);
  });
}

test('LSTM agrees across backends on a language-model-sized step (native vs reference)', () => {
  const [batch, steps, inputSize, hidden] = [4, 5, 16, 32];
  const results = (['reference', 'native'] as const).map((name) => {
    const backend = backendNamed(name);
    const lstm = new LSTM('lstm', inputSize, hidden, backend);
    const params = lstm.init(keyFromSeed(20));
    const x = randomTensor(21, [batch, steps, inputSize]);
    const out = lstm.forward(params, x, randomTensor(22, [batch, hidden]), randomTensor(23, [batch, hidden]));
    const grads = cloneParams(params);
    const { dx } = lstm.backward(params, probeLoss(24, out.data.length).grad(out), grads);
    return { out: out.data.slice(), dw: grads['lstm/linear/w'].data, dx: dx!.data.slice() };
  });
  for (const key of ['out', 'dw', 'dx'] as const) {
    const [want, got] = [results[0][key], results[1][key]];
    const peak = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (let i = 0; i < want.length; i++) {
      assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * Math.abs(want[i]) + 1e-5 * peak, `${key}[${i}]: ${got[i]} vs ${want[i]}`);
    }
  }
});

for (const name of BACKEND_NAMES) {
  test(`LSTM (${name}): two activations objects interleaved give each pass its own results`, () => {
    const backend = backendNamed(name);
    const lstm = new LSTM('lstm', 3, 4, backend);
    const params = lstm.init(keyFromSeed(1));
    const [x1, x2] = [randomTensor(2, [2, 5, 3]), randomTensor(3, [2, 5, 3])];
    const [h0, c0] = [randomTensor(4, [2, 4]), randomTensor(5, [2, 4])];
    const dOut = randomTensor(6, [2, 5, 4]);
    const alone = (x: Tensor) => {
      const acts = lstm.createActivations();
      const out = lstm.forward(params, x, h0, c0, acts).data.slice();
      const grads = cloneParams(params);
      const dx = lstm.backward(params, dOut, grads, {}, acts).dx!.data.slice();
      return { out, dx, dw: grads[lstm.weightName].data.slice() };
    };
    const [one, two] = [alone(x1), alone(x2)];
    const [a, b] = [lstm.createActivations(), lstm.createActivations()];
    assert.deepEqual(lstm.forward(params, x1, h0, c0, a).data, one.out);
    assert.deepEqual(lstm.forward(params, x2, h0, c0, b).data, two.out);
    const grads = cloneParams(params);
    assert.deepEqual(lstm.backward(params, dOut, grads, {}, a).dx!.data, one.dx, 'the first pass backpropagates its own input');
    assert.deepEqual(grads[lstm.weightName].data, one.dw);
    lstm.forward(params, x2, h0, c0); // the layer's own activations, for direct use
    assert.deepEqual(lstm.finalState(b).h.data, lstm.finalState().h.data, 'the second pass keeps its final state');
  });
}
