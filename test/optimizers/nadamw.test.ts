import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nadamw, type NadamwHparams } from '../../src/optimizers/nadamw.js';
import type { Backend } from '../../src/engine/backend.js';
import { referenceBackend } from '../../src/engine/reference.js';
import type { Params } from '../../src/engine/tensor.js';
import { assertClose, assertTreeClose, backendTest, CTX, t, toF64 } from './helpers.js';

const P0: Params = { w: t([2, 3], [0.5, -1.25, 2, 0.75, -0.3, 0.1]), b: t([2], [0, 1]) };
const GRADS: Params[] = [
  { w: t([2, 3], [0.2, -0.4, 1.5, -2, 0.05, 0.3]), b: t([2], [1e-3, -0.5]) },
  { w: t([2, 3], [-0.1, 0.6, 0.5, 1, -0.25, 0.3]), b: t([2], [0.25, 0.5]) },
  { w: t([2, 3], [0.3, 0.2, -1, 0.4, 0.45, -0.7]), b: t([2], [-1, 2]) },
];

/**
 * LO nadamw.py in float64, per step t = k + 1 with the schedule value `lrs[k]` of that step:
 * g ← g − l2·p; m, v EMAs; lr_t = lr·sqrt(1−β2^t)/(1−β1^t); step = lr_t·(nesterov ? β1 m + (1−β1) g : m)
 * /(sqrt(v) + ε) + lr_t·wd·p; p ← p − step.
 */
function nadamwReference(hp: NadamwHparams, lrs: number[]): Record<string, number[]>[] {
  const p = toF64(P0);
  const m: Record<string, number[]> = { w: Array(6).fill(0), b: [0, 0] };
  const v: Record<string, number[]> = { w: Array(6).fill(0), b: [0, 0] };
  const out: Record<string, number[]>[] = [];
  GRADS.forEach((grads, k) => {
    const step = k + 1;
    const lrT = (lrs[k] * Math.sqrt(1 - hp.beta2 ** step)) / (1 - hp.beta1 ** step);
    for (const name of Object.keys(p)) {
      for (let i = 0; i < p[name].length; i++) {
        const g = grads[name].data[i] - hp.l2WeightDecay * p[name][i];
        m[name][i] = hp.beta1 * m[name][i] + (1 - hp.beta1) * g;
        v[name][i] = hp.beta2 * v[name][i] + (1 - hp.beta2) * g * g;
        const num = hp.useNesterov ? hp.beta1 * m[name][i] + (1 - hp.beta1) * g : m[name][i];
        const delta = (lrT * num) / (Math.sqrt(v[name][i]) + hp.epsilon) + lrT * hp.adamwWeightDecay * p[name][i];
        p[name][i] -= delta;
      }
    }
    out.push({ w: [...p.w], b: [...p.b] });
  });
  return out;
}

function check(backend: Backend, hp: NadamwHparams, numSteps: number, lrs: number[]): void {
  const opt = nadamw(hp, { backend });
  const expected = nadamwReference(hp, lrs);
  let state = opt.init(P0, { numSteps });
  GRADS.forEach((g, k) => {
    state = opt.update(state, g, CTX);
    assertTreeClose(opt.getParams(state), expected[k], `nadamw step ${k + 1}`);
  });
  assert.equal(state.step, 3);
}

const BASE: NadamwHparams = {
  learningRate: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, l2WeightDecay: 0, adamwWeightDecay: 0,
  useNesterov: false, warmupFraction: 0, constantFraction: 0.5, minLearningRateMult: 0, gradClip: 0,
};

backendTest('nadamw first step: lr_t = lr·sqrt(1−β2)/(1−β1), so each element moves by ≈ lr·sign(g)', (backend) => {
  const hp = { ...BASE, beta1: 0.8, beta2: 0.95, epsilon: 1e-12 };
  const opt = nadamw(hp, { backend });
  const state = opt.update(opt.init(P0, { numSteps: 1000 }), GRADS[0], CTX);
  const lrT = (0.1 * Math.sqrt(1 - 0.95)) / (1 - 0.8);
  for (const name of Object.keys(P0)) {
    P0[name].data.forEach((p0, i) => {
      const g = GRADS[0][name].data[i];
      const m = 0.2 * g;
      const v = 0.05 * g * g;
      const expected = p0 - (lrT * m) / (Math.sqrt(v) + 1e-12);
      assertClose([state.params[name].data[i]], [expected], `${name}[${i}]`, 1e-6, 1e-6 * Math.max(1, Math.abs(p0)));
      assertClose([p0 - state.params[name].data[i]], [0.1 * Math.sign(g)], `${name}[${i}] moved`, 1e-5, 1e-6);
    });
  }
});

backendTest('nadamw without decay terms, constant part of the schedule', (backend) => {
  check(backend, BASE, 1000, [0.1, 0.1, 0.1]);
});

backendTest('nadamw with Nesterov', (backend) => {
  check(backend, { ...BASE, useNesterov: true }, 1000, [0.1, 0.1, 0.1]);
});

backendTest("nadamw with l2 (LO's sign: g − l2·p) and AdamW decay (lr_t·wd·p), Nesterov on", (backend) => {
  check(backend, { ...BASE, l2WeightDecay: 0.3, adamwWeightDecay: 0.2, useNesterov: true, epsilon: 1e-3 }, 1000, [0.1, 0.1, 0.1]);
});

backendTest('nadamw l2 only and AdamW only', (backend) => {
  check(backend, { ...BASE, l2WeightDecay: 0.05 }, 1000, [0.1, 0.1, 0.1]);
  check(backend, { ...BASE, adamwWeightDecay: 0.05 }, 1000, [0.1, 0.1, 0.1]);
});

backendTest('nadamw uses the schedule at the step before the increment: warmup', (backend) => {
  // T = 20, warmup 0.1 → span max(0.1, 0)·20 = 2 steps: lr·0/2, lr·1/2, then cosine from c = 0.
  const hp = { ...BASE, warmupFraction: 0.1, constantFraction: 0 };
  check(backend, hp, 20, [0, 0.05, 0.1 * (Math.cos((Math.PI * 2) / 20) / 2 + 0.5)]);
});

backendTest('nadamw uses the schedule at the step before the increment: cosine decay to a floor', (backend) => {
  // T = 4, c = 2: steps 0, 1 at lr; step 2 at x = c (lr); schedule evaluated at 0, 1, 2.
  const hp = { ...BASE, constantFraction: 0.5, minLearningRateMult: 0.1 };
  check(backend, hp, 4, [0.1, 0.1, 0.1]);
  // T = 3, c = 0: cos(π·k/3) decay from step 0 on.
  const hp2 = { ...BASE, constantFraction: 0, minLearningRateMult: 0.1 };
  const sched = (k: number) => (0.1 - 0.01) * (Math.cos((Math.PI * k) / 3) / 2 + 0.5) + 0.01;
  check(backend, hp2, 3, [sched(0), sched(1), sched(2)]);
});

backendTest('nadamw: init needs numSteps; state is 8 bytes per parameter', (backend) => {
  const opt = nadamw({}, { backend });
  assert.throws(() => opt.init(P0, {} as never), /numSteps/);
  assert.equal(opt.stateBytes(P0), 64);
});

test('nadamw defaults are entry 0 of LO opt_list.json (docs/specification.md §8)', () => {
  const hp = nadamw({}, { backend: referenceBackend }).hparams;
  assert.deepEqual({ ...hp }, {
    learningRate: 0.0011948335721160095, beta1: 0.9360043452616368, beta2: 0.9989497406214962,
    epsilon: 5.875814422073298e-6, l2WeightDecay: 0, adamwWeightDecay: 0.010141964334059882, useNesterov: false,
    warmupFraction: 0, constantFraction: 0.747304046223346, minLearningRateMult: 0, gradClip: 0,
  });
});
