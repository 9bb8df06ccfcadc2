import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sgd } from '../../src/optimizers/sgd.js';
import { sgdm } from '../../src/optimizers/sgdm.js';
import { referenceBackend } from '../../src/engine/reference.js';
import type { Params } from '../../src/engine/tensor.js';
import { assertTreeClose, backendTest, CTX, INIT, t, toF64 } from './helpers.js';

const P0: Params = { w: t([2, 3], [0.5, -1.25, 2, 0.75, -0.3, 0.1]), b: t([2], [0, 1]) };
const GRADS: Params[] = [
  { w: t([2, 3], [0.2, -0.4, 1.5, -2, 0.05, 0.3]), b: t([2], [1, -0.5]) },
  { w: t([2, 3], [-0.1, 0.6, 0.5, 1, -0.25, 0.3]), b: t([2], [0.25, 0.5]) },
  { w: t([2, 3], [0.3, 0.2, -1, 0.4, 0.45, -0.7]), b: t([2], [-1, 2]) },
];

backendTest('sgd: p ← p − lr·g for three steps', (backend) => {
  const lr = 0.1;
  const opt = sgd({ learningRate: lr }, { backend });
  let state = opt.init(P0, INIT);
  const expected = toF64(P0);
  for (const g of GRADS) {
    state = opt.update(state, g, CTX);
    for (const name of Object.keys(expected)) {
      expected[name] = expected[name].map((p, i) => p - lr * g[name].data[i]);
    }
    assertTreeClose(opt.getParams(state), expected, 'sgd params');
  }
  assert.equal(state.step, 3);
  assert.equal(opt.stateBytes(P0), 0);
});

function sgdmReference(lr: number, mu: number, nesterov: boolean): Record<string, number[]>[] {
  const p = toF64(P0);
  const m: Record<string, number[]> = { w: [0, 0, 0, 0, 0, 0], b: [0, 0] };
  const out: Record<string, number[]>[] = [];
  for (const g of GRADS) {
    for (const name of Object.keys(p)) {
      for (let i = 0; i < p[name].length; i++) {
        const gi = g[name].data[i];
        m[name][i] = gi + mu * m[name][i];
        p[name][i] -= lr * (nesterov ? gi + mu * m[name][i] : m[name][i]);
      }
    }
    out.push({ w: [...p.w], b: [...p.b] });
  }
  return out;
}

for (const nesterov of [false, true]) {
  backendTest(`sgdm (optax trace, nesterov=${nesterov}) matches the formulas for three steps`, (backend) => {
    const opt = sgdm({ learningRate: 0.05, momentum: 0.9, nesterov }, { backend });
    const expected = sgdmReference(0.05, 0.9, nesterov);
    let state = opt.init(P0, INIT);
    GRADS.forEach((g, k) => {
      state = opt.update(state, g, CTX);
      assertTreeClose(opt.getParams(state), expected[k], `sgdm step ${k + 1}`);
    });
    assert.equal(opt.stateBytes(P0), 4 * 8);
  });
}

backendTest('sgdm: first step equals SGD (m = g), second adds 0.9·m', (backend) => {
  const opt = sgdm({ lr: 1 }, { backend });
  assert.equal(opt.hparams.momentum, 0.9);
  assert.equal(opt.hparams.learningRate, 1);
  const p = { x: t([1], [0]) };
  let state = opt.init(p, INIT);
  state = opt.update(state, { x: t([1], [1]) }, CTX);
  assert.equal(state.params.x.data[0], -1);
  state = opt.update(state, { x: t([1], [1]) }, CTX);
  assert.equal(Math.fround(state.params.x.data[0]), Math.fround(-1 - 1.9));
});

backendTest('init copies the parameters and getParams returns the state params', (backend) => {
  for (const opt of [sgd({}, { backend }), sgdm({}, { backend })]) {
    const params = { w: t([2], [1, 2]) };
    const state = opt.init(params, INIT);
    assert.notEqual(state.params.w.data, params.w.data);
    state.params.w.data[0] = 5;
    assert.equal(params.w.data[0], 1);
    assert.equal(opt.getParams(state), state.params);
    const next = opt.update(state, { w: t([2], [1, 1]) }, CTX);
    assert.equal(next, state, 'update returns the same state object');
  }
});

test('defaults: sgd lr 0.1, sgdm lr 0.01 momentum 0.9 no nesterov', () => {
  const backend = referenceBackend;
  assert.deepEqual({ ...sgd({}, { backend }).hparams }, { learningRate: 0.1, gradClip: 0 });
  assert.deepEqual({ ...sgdm({}, { backend }).hparams }, { learningRate: 0.01, momentum: 0.9, nesterov: false, gradClip: 0 });
});
