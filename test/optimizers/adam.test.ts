import assert from 'node:assert/strict';
import { adam } from '../../src/optimizers/adam.js';
import type { Params } from '../../src/engine/tensor.js';
import { assertTreeClose, backendTest, CTX, INIT, t, toF64 } from './helpers.js';

const P0: Params = { w: t([2, 3], [0.5, -1.25, 2, 0.75, -0.3, 0.1]), b: t([2], [0, 1]) };
const GRADS: Params[] = [
  { w: t([2, 3], [0.2, -0.4, 1.5, -2, 0.05, 0.3]), b: t([2], [1e-3, -0.5]) },
  { w: t([2, 3], [-0.1, 0.6, 0.5, 1, -0.25, 0.3]), b: t([2], [0.25, 0.5]) },
  { w: t([2, 3], [0.3, 0.2, -1, 0.4, 0.45, -0.7]), b: t([2], [-1, 2]) },
];

/** optax adam in float64: bias-corrected moments, eps outside the square root. */
function adamReference(lr: number, b1: number, b2: number, eps: number): Record<string, number[]>[] {
  const p = toF64(P0);
  const m: Record<string, number[]> = { w: Array(6).fill(0), b: [0, 0] };
  const v: Record<string, number[]> = { w: Array(6).fill(0), b: [0, 0] };
  const out: Record<string, number[]>[] = [];
  GRADS.forEach((g, k) => {
    const step = k + 1;
    for (const name of Object.keys(p)) {
      for (let i = 0; i < p[name].length; i++) {
        const gi = g[name].data[i];
        m[name][i] = b1 * m[name][i] + (1 - b1) * gi;
        v[name][i] = b2 * v[name][i] + (1 - b2) * gi * gi;
        const mHat = m[name][i] / (1 - b1 ** step);
        const vHat = v[name][i] / (1 - b2 ** step);
        p[name][i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
      }
    }
    out.push({ w: [...p.w], b: [...p.b] });
  });
  return out;
}

backendTest('adam matches the optax formulas for three steps (defaults β 0.9/0.999, ε 1e-8)', (backend) => {
  const opt = adam({ learningRate: 0.1 }, { backend });
  assert.deepEqual({ ...opt.hparams }, { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, gradClip: 0 });
  const expected = adamReference(0.1, 0.9, 0.999, 1e-8);
  let state = opt.init(P0, INIT);
  GRADS.forEach((g, k) => {
    state = opt.update(state, g, CTX);
    assertTreeClose(opt.getParams(state), expected[k], `adam step ${k + 1}`);
  });
  assert.equal(state.step, 3);
});

backendTest('adam with a large ε and other betas', (backend) => {
  const opt = adam({ lr: 0.3, beta1: 0.5, beta2: 0.75, epsilon: 0.1 }, { backend });
  const expected = adamReference(0.3, 0.5, 0.75, 0.1);
  let state = opt.init(P0, INIT);
  GRADS.forEach((g, k) => {
    state = opt.update(state, g, CTX);
    assertTreeClose(opt.getParams(state), expected[k], `adam step ${k + 1}`);
  });
});

backendTest('adam: first step moves every element by ≈ lr·sign(g); state is 8 bytes per parameter', (backend) => {
  const opt = adam({ learningRate: 0.01 }, { backend });
  const state = opt.update(opt.init(P0, INIT), GRADS[0], CTX);
  for (const name of Object.keys(P0)) {
    P0[name].data.forEach((p0, i) => {
      const moved = p0 - state.params[name].data[i];
      assert.ok(Math.abs(moved - 0.01 * Math.sign(GRADS[0][name].data[i])) < 1e-6, `${name}[${i}] moved ${moved}`);
    });
  }
  assert.equal(opt.stateBytes(P0), 8 * 8);
  assert.equal(state.m.w.data.length, 6);
  assert.equal(state.v.b.data.length, 2);
});

backendTest('adam: a gradient tree that does not match the parameters is a clear error', (backend) => {
  const opt = adam({}, { backend });
  const state = opt.init(P0, INIT);
  assert.throws(() => opt.update(state, { w: GRADS[0].w }, CTX), /no tensor "b"/);
  assert.throws(() => opt.update(state, { w: GRADS[0].w, b: t([3], [1, 2, 3]) }, CTX), /"b" has 3 values/);
});
