// small_fc_lopt: docs/specification.md §25 checks, the plain float64 oracle (every feature column and
// the update), native vs reference agreement (both MLP paths) on ranks 0-4 with tied shapes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/engine/backend.js';
import { keyFromSeed } from '../../src/engine/random.js';
import { getBackend } from '../../src/engine/select.js';
import type { Params } from '../../src/engine/tensor.js';
import { decayFromOffset } from '../../src/learned/decays.js';
import type { FeatureMlpState } from '../../src/learned/feature-mlp.js';
import { learned } from '../../src/learned/registry.js';
import { smallFcLopt } from '../../src/learned/small-fc-lopt.js';
import { tanhTimeFeatures, sinTimeFeatures } from '../../src/learned/time-features.js';
import { SmallFcLoptOracle, type OracleTheta } from '../fixtures/small-fc-lopt-oracle.js';
import { assertAllClose, cloneTree, normals, randomGrads, randomParams, runSteps, stepsOf } from './helpers.js';

const BACKENDS = ['reference', 'native'] as const;

/** Ranks 0-4, ties among the largest dims, a conv-like kernel. */
const SHAPES: Record<string, number[]> = {
  a_scalar: [],
  b_vector: [5],
  c_matrix: [7, 3],
  d_square: [4, 4],
  e_rank3: [3, 5, 2],
  f_tied3: [4, 3, 4],
  g_conv: [3, 3, 4, 6],
  h_tied4: [2, 5, 5, 3],
  i_wide: [3, 40],
};

function rows(data: Float32Array, shape: number[]): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < shape[0]; r++) out.push(Array.from(data.subarray(r * shape[1], (r + 1) * shape[1])));
  return out;
}

function oracleTheta(theta: Params): OracleTheta {
  return {
    momentum_decays: Array.from(theta.momentum_decays.data),
    rms_decays: Array.from(theta.rms_decays.data),
    adafactor_decays: Array.from(theta.adafactor_decays.data),
    w0: rows(theta['nn/w0'].data, theta['nn/w0'].shape),
    b0: Array.from(theta['nn/b0'].data),
    w1: rows(theta['nn/w1'].data, theta['nn/w1'].shape),
    b1: Array.from(theta['nn/b1'].data),
    w2: rows(theta['nn/w2'].data, theta['nn/w2'].shape),
    b2: Array.from(theta['nn/b2'].data),
  };
}

/** A random θ with every entry non-zero: decay offsets ±0.05, weights ~ N(0, 1/fan_in), biases ~ N(0, 0.3). */
function randomTheta(seed: number): Params {
  const theta = smallFcLopt().init(keyFromSeed(seed));
  let s = seed * 100;
  for (const [name, t] of Object.entries(theta)) {
    const std = name.endsWith('decays') ? 0.05 : name.includes('/b') ? 0.3 : 1 / Math.sqrt(t.shape[0]);
    t.data.set(normals(t.data.length, s++, std));
  }
  return theta;
}

/**
 * θ whose step is 0.001·scale·(input f): d = scale·(relu(x_f) − relu(−x_f)), magnitude 0. A power-of-two
 * scale near 1/max|x_f| keeps the step well above the rounding of p.
 */
function probeTheta(feature: number, seed: number, scale = 1): Params {
  const theta = randomTheta(seed);
  for (const name of ['nn/w0', 'nn/b0', 'nn/w1', 'nn/b1', 'nn/w2', 'nn/b2']) theta[name].data.fill(0);
  theta['nn/w0'].data[feature * 4 + 0] = 1;
  theta['nn/w0'].data[feature * 4 + 1] = -1;
  for (let h = 0; h < 4; h++) theta['nn/w1'].data[h * 4 + h] = 1;
  theta['nn/w2'].data[0 * 2 + 0] = scale;
  theta['nn/w2'].data[1 * 2 + 0] = -scale;
  return theta;
}

function oracleParams(params: Params): Record<string, { shape: number[]; values: number[] }> {
  const out: Record<string, { shape: number[]; values: number[] }> = {};
  for (const [name, t] of Object.entries(params)) out[name] = { shape: t.shape, values: Array.from(t.data) };
  return out;
}

function oracleGrads(grads: Params): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(grads)) out[name] = Array.from(t.data);
  return out;
}

describe('small_fc_lopt: counts, time features, decays (docs/specification.md §25)', () => {
  it('has 197 meta-parameters with the documented names and shapes, 28 features and 39 inputs', () => {
    const lo = smallFcLopt();
    assert.equal(lo.paramCount, 197);
    assert.equal(lo.featureCount, 28);
    assert.equal(lo.inputWidth, 39);
    assert.deepEqual({ ...lo.thetaShapes }, {
      momentum_decays: [3], rms_decays: [1], adafactor_decays: [3],
      'nn/w0': [39, 4], 'nn/b0': [4], 'nn/w1': [4, 4], 'nn/b1': [4], 'nn/w2': [4, 2], 'nn/b2': [2],
    });
    const theta = lo.init(keyFromSeed(0));
    for (const name of ['momentum_decays', 'rms_decays', 'adafactor_decays', 'nn/b0', 'nn/b1', 'nn/b2']) {
      assert.ok(theta[name].data.every((x) => x === 0), `${name} starts at 0`);
    }
    // Truncated normal, σ = 1/sqrt(fan_in), within ±2σ.
    const w0 = theta['nn/w0'].data;
    const sigma = 1 / Math.sqrt(39);
    assert.ok(w0.every((x) => Math.abs(x) <= 2 * sigma + 1e-7));
    const rms = Math.sqrt(w0.reduce((s, x) => s + x * x, 0) / w0.length);
    assert.ok(rms > 0.6 * sigma && rms < 1.1 * sigma, `w0 rms ${rms} vs σ ${sigma}`);
    assert.equal(learned.get('small_fc_lopt').paramCount, 197);
  });

  it('the width sweep (hidden, depth) changes the MLP only', () => {
    const lo = smallFcLopt({ hidden: 8, depth: 3 });
    assert.deepEqual(lo.thetaShapes['nn/w0'], [39, 8]);
    assert.deepEqual(lo.thetaShapes['nn/w3'], [8, 2]);
    assert.equal(lo.paramCount, 7 + 39 * 8 + 8 + 2 * (8 * 8 + 8) + 8 * 2 + 2);
  });

  it('time features at t = 0 all equal tanh(−1) = −0.7615941559557649', () => {
    const time = tanhTimeFeatures(0);
    assert.equal(time.length, 11);
    for (const x of time) assert.equal(x, Math.fround(-0.7615941559557649));
    assert.ok(Math.abs(Math.tanh(-1) - -0.7615941559557649) < 1e-16);
    assert.deepEqual(Array.from(sinTimeFeatures(0)), new Array(11).fill(0));
    assert.equal(tanhTimeFeatures(30)[3], Math.fround(Math.tanh(0)));
  });

  it('decay(offset 0) equals the initial decay', () => {
    for (const d of [0.1, 0.5, 0.9, 0.99, 0.999, 0.9999]) {
      assert.ok(Math.abs(decayFromOffset(d, 0) - d) < 1e-12, `${d}`);
      assert.equal(Math.fround(decayFromOffset(d, 0)), Math.fround(d));
    }
    assert.ok(decayFromOffset(0.9, 0.1) < 0.9 && decayFromOffset(0.9, -0.1) > 0.9);
  });
});

for (const backendName of BACKENDS) {
  describe(`small_fc_lopt [${backendName}]`, () => {
    const backend = (): Backend => getBackend(backendName);

    it('one step from zero state: m = (0.1, 0.01, 0.001)·g, v = 0.001·g²', () => {
      const theta = randomTheta(1);
      for (const name of ['momentum_decays', 'rms_decays', 'adafactor_decays']) theta[name].data.fill(0);
      const opt = smallFcLopt({}, { backend: backend() }).optFn(theta);
      const shapes = { w: [6, 5], b: [5] };
      const params = randomParams(shapes, 3);
      const grads = randomGrads(shapes, 4, 0);
      let state = opt.init(params, { numSteps: 10 }) as FeatureMlpState;
      state = opt.update(state, grads, { loss: 1 }) as FeatureMlpState;
      for (const slot of state.slots) {
        const g = grads[slot.name].data;
        const n = g.length;
        // (1 − β) of the float32 decays 0.9, 0.99, 0.999 (as in LO): 0.1, 0.01, 0.001 to ~1e-5.
        for (let k = 0; k < 3; k++) {
          const m = Array.from(slot.kernel.acc.subarray(k * n, (k + 1) * n));
          const mix = 1 - Math.fround([0.9, 0.99, 0.999][k]);
          assert.ok(Math.abs(mix / [0.1, 0.01, 0.001][k] - 1) < 2e-5);
          assertAllClose(m, Array.from(g, (x) => mix * x), `${slot.name} m${k}`, 2e-6, 1e-7);
        }
        const v = Array.from(slot.kernel.acc.subarray(3 * n, 4 * n));
        assertAllClose(v, Array.from(g, (x) => (1 - Math.fround(0.999)) * x * x), `${slot.name} v`, 2e-6, 1e-7);
      }
    });

    it('with w2 = 0, b2 = [1, 0] every element moves by exactly 0.001; with b2 = 0 nothing moves', () => {
      for (const [b2, move] of [[[1, 0], 0.001], [[0, 0], 0]] as const) {
        const theta = randomTheta(2);
        theta['nn/w2'].data.fill(0);
        theta['nn/b2'].data.set(b2);
        const opt = smallFcLopt({}, { backend: backend() }).optFn(theta);
        const params = randomParams(SHAPES, 5, 0.5);
        const { history } = runSteps(opt, params, SHAPES, 3, 6);
        let before = params;
        for (const after of history) {
          for (const name of Object.keys(SHAPES)) {
            const p0 = before[name].data;
            const p1 = after[name].data;
            for (let i = 0; i < p0.length; i++) {
              if (move === 0) {
                assert.equal(p1[i], p0[i], `${name}[${i}] must not move`);
              } else {
                // 0.001 in float64 (the reference) or in float32 (native, like LO's float32 step_mult).
                const ok = p1[i] === Math.fround(p0[i] - 0.001) || p1[i] === Math.fround(p0[i] - Math.fround(0.001));
                assert.ok(ok, `${name}[${i}]: ${p0[i]} → ${p1[i]}, expected ${p0[i] - 0.001}`);
              }
            }
          }
          before = after;
        }
      }
    });

    it('stepWarmup = 4: with w2 = 0, b2 = [1, 0] update t moves every element by 0.001·t/4, then 0.001', () => {
      const theta = randomTheta(2);
      theta['nn/w2'].data.fill(0);
      theta['nn/b2'].data.set([1, 0]);
      const opt = smallFcLopt({ stepWarmup: 4 }, { backend: backend() }).optFn(theta);
      const params = randomParams(SHAPES, 5, 0.5);
      const { history } = runSteps(opt, params, SHAPES, 3, 6);
      let before = params;
      history.forEach((after, t) => {
        const move = 0.001 * Math.min(1, t / 4);
        for (const name of Object.keys(SHAPES)) {
          after[name].data.forEach((p1, i) => {
            const p0 = before[name].data[i];
            assert.ok(Math.abs(p0 - p1 - move) <= 1e-7, `update ${t}, ${name}[${i}]: moved ${p0 - p1}, expected ${move}`);
          });
        }
        before = after;
      });
    });

    it('stepBoost 2.5 for 3 updates, alone and after stepWarmup = 4: update t moves every element by 0.001·warmup·boost', () => {
      for (const warmupSteps of [0, 4]) {
        const theta = randomTheta(2);
        theta['nn/w2'].data.fill(0);
        theta['nn/b2'].data.set([1, 0]);
        const opt = smallFcLopt({ stepWarmup: warmupSteps, stepBoost: 2.5, stepBoostSteps: 3 }, { backend: backend() }).optFn(theta);
        const params = randomParams(SHAPES, 5, 0.5);
        const { history } = runSteps(opt, params, SHAPES, 3, 6);
        let before = params;
        history.forEach((after, t) => {
          const move = 0.001 * (warmupSteps ? Math.min(1, t / warmupSteps) : 1) * (t < 3 ? 2.5 : 1);
          for (const name of Object.keys(SHAPES)) {
            after[name].data.forEach((p1, i) => {
              const p0 = before[name].data[i];
              assert.ok(Math.abs(p0 - p1 - move) <= 1e-7, `warmup ${warmupSteps}, update ${t}, ${name}[${i}]: moved ${p0 - p1}, expected ${move}`);
            });
          }
          before = after;
        });
      }
    });

    it('stepFanInRef = 10, power 0.5: a tensor of fan-in F > 10 moves by 0.001·sqrt(10/F), others by 0.001', () => {
      const theta = randomTheta(2);
      theta['nn/w2'].data.fill(0);
      theta['nn/b2'].data.set([1, 0]);
      const opt = smallFcLopt({ stepFanInRef: 10, stepFanInPower: 0.5, stepBoost: 2, stepBoostSteps: 1 }, { backend: backend() }).optFn(theta);
      const params = randomParams(SHAPES, 5, 0.5);
      const { history } = runSteps(opt, params, SHAPES, 3, 3);
      const fanIn = (shape: number[]) => (shape.length < 2 ? 1 : shape.slice(0, -1).reduce((a, b) => a * b, 1));
      let before = params;
      history.forEach((after, t) => {
        for (const [name, shape] of Object.entries(SHAPES)) {
          const move = 0.001 * (t < 1 ? 2 : 1) * (fanIn(shape) > 10 ? Math.sqrt(10 / fanIn(shape)) : 1);
          after[name].data.forEach((p1, i) => {
            const p0 = before[name].data[i];
            assert.ok(Math.abs(p0 - p1 - move) <= 1e-7, `update ${t}, ${name}[${i}]: moved ${p0 - p1}, expected ${move}`);
          });
        }
        before = after;
      });
    });

    it('for a scalar parameter each normalised feature is x/sqrt(1e-5 + x²)', () => {
      // Probe g (feature 0), p (1) and m0 (2) of a rank-0 tensor.
      for (const feature of [0, 1, 2, 5, 10]) {
        const theta = probeTheta(feature, 3);
        for (const name of ['momentum_decays', 'rms_decays', 'adafactor_decays']) theta[name].data.fill(0);
        const opt = smallFcLopt({}, { backend: backend() }).optFn(theta);
        const params: Params = { s: { shape: [], data: Float32Array.of(0.0123) } };
        const g = Float32Array.of(-0.37);
        let state = opt.init(params, { numSteps: 10 });
        state = opt.update(state, { s: { shape: [], data: g } }, { loss: 1 });
        const x = (0.0123 - opt.getParams(state).s.data[0]) / 0.001;
        const slot = (state as FeatureMlpState).slots[0];
        const raw = feature === 0 ? -0.37 : feature === 1 ? 0.0123 : feature === 2 ? 0.1 * -0.37 : undefined;
        if (raw !== undefined) {
          const want = raw / Math.sqrt(1e-5 + raw * raw);
          assert.ok(Math.abs(x - want) < 2e-4, `feature ${feature}: ${x} vs ${want}`);
        }
        // Whatever the feature, normalising one value gives ±x/sqrt(1e-5 + x²): |·| < 1 and the scale matches.
        const sq = slot.moments[feature];
        assert.ok(Math.abs(slot.scales[feature] - 1 / Math.sqrt(1e-5 + sq)) <= 1e-6 / Math.sqrt(1e-5 + sq));
        assert.ok(Math.abs(x) < 1 + 1e-3);
      }
    });

    it('every one of the 39 MLP inputs matches the float64 oracle over 3 steps (ranks 0-4, ties)', () => {
      for (let feature = 0; feature < 39; feature++) {
        // The inputs do not depend on the MLP (only p does, through the steps): size the probe first.
        const first = new SmallFcLoptOracle(oracleTheta(probeTheta(feature, 10 + feature)));
        const { inputs: preview } = first.step(oracleParams(randomParams(SHAPES, 20, 0.01)), oracleGrads(randomGrads(SHAPES, 21, 0)));
        let peak = 0;
        for (const name of Object.keys(SHAPES)) for (const row of preview[name]) peak = Math.max(peak, Math.abs(row[feature]));
        const scale = 2 ** Math.round(-Math.log2(peak));
        const theta = probeTheta(feature, 10 + feature, scale);
        const opt = smallFcLopt({}, { backend: backend() }).optFn(theta);
        const oracle = new SmallFcLoptOracle(oracleTheta(theta));
        let params = randomParams(SHAPES, 20, 0.01);
        let state = opt.init(params, { numSteps: 10 });
        for (let step = 0; step < 3; step++) {
          const grads = randomGrads(SHAPES, 21, step);
          const { inputs } = oracle.step(oracleParams(params), oracleGrads(grads));
          state = opt.update(state, grads, { loss: 1 });
          const after = cloneTree(opt.getParams(state));
          const steps = stepsOf(params, after);
          for (const name of Object.keys(SHAPES)) {
            const got = Array.from(steps[name], (s) => s / (0.001 * scale));
            const want = inputs[name].map((row) => row[feature]);
            assertAllClose(got, want, `input ${feature} of ${name} at step ${step}`, 2e-4, 2e-4);
          }
          params = after;
        }
      }
    });

    it('the update matches the float64 oracle with random non-zero θ over 4 steps', () => {
      for (const seed of [30, 31]) {
        const theta = randomTheta(seed);
        const opt = smallFcLopt({}, { backend: backend() }).optFn(theta);
        const oracle = new SmallFcLoptOracle(oracleTheta(theta));
        let params = randomParams(SHAPES, seed, 0.05);
        let state = opt.init(params, { numSteps: 10 });
        for (let step = 0; step < 4; step++) {
          const grads = randomGrads(SHAPES, seed, step);
          const { next } = oracle.step(oracleParams(params), oracleGrads(grads));
          state = opt.update(state, grads, { loss: 1 });
          const after = cloneTree(opt.getParams(state));
          const ours = stepsOf(params, after);
          for (const name of Object.keys(SHAPES)) {
            const want = params[name].data.map((p, i) => p - next[name][i]);
            assertAllClose(ours[name], Float64Array.from(want), `step ${step} of ${name}`, 1e-4, 1e-4);
          }
          params = after;
        }
      }
    });

    it('rejects gradients that do not match the parameters', () => {
      const opt = smallFcLopt({}, { backend: backend() }).optFn(randomTheta(4));
      const state = opt.init({ w: { shape: [3, 2], data: new Float32Array(6) } }, { numSteps: 1 });
      assert.throws(() => opt.update(state, {}, { loss: 0 }), /no tensor "w"/);
      assert.throws(() => opt.update(state, { w: { shape: [5], data: new Float32Array(5) } }, { loss: 0 }), /5 values/);
    });
  });
}

describe('small_fc_lopt: native agrees with reference to 1e-5 (both MLP paths, random θ, several steps)', () => {
  const shapes: Record<string, number[]> = { ...SHAPES, j_tied: [128, 3, 128], k_conv: [3, 3, 32, 64], l_bias: [64] };
  for (const path of ['elementwise', 'gemm'] as const) {
    it(`path ${path}`, () => {
      const theta = randomTheta(40);
      const params = randomParams(shapes, 41, 0.1);
      const ref = runSteps(smallFcLopt({ path }, { backend: getBackend('reference') }).optFn(theta), params, shapes, 3, 42);
      const nat = runSteps(smallFcLopt({ path }, { backend: getBackend('native') }).optFn(theta), params, shapes, 3, 42);
      let before = params;
      for (let step = 0; step < 3; step++) {
        const r = ref.history[step];
        const n = nat.history[step];
        const rs = stepsOf(before, r);
        const ns = stepsOf(before, n);
        for (const name of Object.keys(shapes)) {
          assertAllClose(n[name].data, r[name].data, `${path} step ${step} params ${name}`, 1e-5, 1e-7);
          // The steps themselves, up to the rounding of p.
          assertAllClose(ns[name], rs[name], `${path} step ${step} update of ${name}`, 1e-4, 1e-4);
        }
        before = r;
      }
      const refSlots = (ref.state as FeatureMlpState).slots;
      const natSlots = (nat.state as FeatureMlpState).slots;
      refSlots.forEach((slot, i) => {
        assertAllClose(natSlots[i].kernel.acc, slot.kernel.acc, `accumulators of ${slot.name}`, 1e-5, 1e-6);
        if (slot.kernel.factored) {
          assertAllClose(natSlots[i].kernel.factored!.stats, slot.kernel.factored.stats, `factored stats of ${slot.name}`, 1e-5, 1e-6);
        }
      });
    });
  }

  it('the elementwise and gemm paths agree to 1e-5 (native)', () => {
    const theta = randomTheta(50);
    const params = randomParams(shapes, 51, 0.1);
    const a = runSteps(smallFcLopt({ path: 'elementwise' }, { backend: getBackend('native') }).optFn(theta), params, shapes, 2, 52);
    const b = runSteps(smallFcLopt({ path: 'gemm' }, { backend: getBackend('native') }).optFn(theta), params, shapes, 2, 52);
    for (const name of Object.keys(shapes)) {
      assertAllClose(a.history[1][name].data, b.history[1][name].data, `params ${name}`, 1e-5, 1e-7);
      assertAllClose(stepsOf(params, a.history[0])[name], stepsOf(params, b.history[0])[name], `update ${name}`, 1e-4, 1e-4);
    }
  });
});

describe('small_fc_lopt: state', () => {
  it('stateBytes is 4·(4 per element + 3·(rows + cols)) for rank ≥ 2, 4·7 per element for vectors, and what the state holds', async () => {
    const { heldStateFloats } = await import('../../src/learned/feature-mlp.js');
    const opt = smallFcLopt().optFn(smallFcLopt().init(keyFromSeed(0)));
    const shapes = { w: [784, 128], b: [128], s: [], c: [3, 3, 32, 64] };
    const params = randomParams(shapes, 1);
    const expected = 4 * ((4 * 784 * 128 + 3 * (784 + 128)) + 7 * 128 + 7 + (4 * 18432 + 3 * (288 + 576)));
    assert.equal(opt.stateBytes(params), expected);
    const state = opt.init(params, { numSteps: 1 }) as FeatureMlpState;
    assert.equal(4 * heldStateFloats(state), expected);
  });

  it('the optimizer keeps its own copy of the parameters and reuses its buffers', () => {
    const opt = smallFcLopt().optFn(randomTheta(6));
    const params = randomParams({ w: [4, 3] }, 7);
    const copy = params.w.data.slice();
    let state = opt.init(params, { numSteps: 1 });
    const view = opt.getParams(state).w.data;
    state = opt.update(state, randomGrads({ w: [4, 3] }, 8, 0), { loss: 0 });
    assert.deepEqual(params.w.data, copy);
    assert.equal(opt.getParams(state).w.data, view);
    assert.notDeepEqual(view, copy);
  });
});

describe('small_fc_lopt takes its decays from the current θ', () => {
  for (const backendName of BACKENDS) {
    it(`${backendName}: a state begun under θ continues with the decays of the next θ (as meta-training does)`, () => {
      const backend = getBackend(backendName);
      const lo = learned.get('small_fc_lopt', {}, { backend });
      const theta = lo.init(keyFromSeed(1));
      const shifted = cloneTree(theta);
      shifted.momentum_decays.data.set([0.3, -0.2, 0.1]);
      shifted.rms_decays.data.set([0.2]);
      const params: Params = { w: { shape: [4, 3], data: normals(12, 2) } };
      const g1: Params = { w: { shape: [4, 3], data: normals(12, 3) } };
      const g2: Params = { w: { shape: [4, 3], data: normals(12, 4) } };
      const run = (second: Params) => {
        let state = lo.optFn(theta).init(params, { numSteps: 10 });
        state = lo.optFn(theta).update(state, g1, { loss: 1 });
        const opt = lo.optFn(second);
        return Array.from(opt.getParams(opt.update(state, g2, { loss: 1 })).w.data);
      };
      const same = run(theta);
      const next = run(shifted);
      assert.ok(same.some((x, i) => Math.abs(x - next[i]) > 1e-9), 'the second step must use the shifted decays');
    });
  }
});

describe('small_fc_lopt: the native register loops agree with the reference on every kind of run', () => {
  // Each shape takes another way through the native loops (native/src/learned_small_impl.h): runs longer than
  // the 64-block flush with a partial last block, partial last blocks in both orientations, whole-block
  // runs grouped by call after a leading axis or with an axis between the factored ones, short runs of a
  // matrix (periodic chunks) with a partial last block, runs in which both indices move (post > 1),
  // whole-block rows, a tie, a column and a row (runs of 1 and a single run).
  const shapes: Record<string, number[]> = {
    a_long_tail: [3, 1100], b_rows_tail: [100, 20], c_grouped: [2, 9, 48], c_mid: [4, 3, 32], d_short: [150, 7],
    e_post: [5, 64, 3], f_whole: [64, 48], g_tie: [32, 32], h_column: [40, 1], i_row: [1, 40],
  };

  function thetaFor(hidden: number, seed: number, magnitude: number): Params {
    const theta = smallFcLopt({ hidden }).init(keyFromSeed(seed));
    let s = seed * 100;
    for (const [name, t] of Object.entries(theta)) {
      const std = name.endsWith('decays') ? 0.05 : name.includes('/b') ? 0.3 : 1 / Math.sqrt(t.shape[0]);
      t.data.set(normals(t.data.length, s++, std));
    }
    // Scale the magnitude output: ×1000 takes 0.001·magnitude beyond the short exp series' range (|x| ≤ 1/16).
    const w2 = theta['nn/w2'].data;
    for (let i = 1; i < w2.length; i += 2) w2[i] *= magnitude;
    theta['nn/b2'].data[1] *= magnitude;
    return theta;
  }

  for (const [hidden, magnitude] of [[2, 1], [4, 1], [8, 1], [4, 1000]] as const) {
    it(`hidden ${hidden}, magnitude ×${magnitude}`, () => {
      const theta = thetaFor(hidden, 70 + hidden, magnitude);
      const params = randomParams(shapes, 71, 0.1);
      const ref = runSteps(smallFcLopt({ hidden }, { backend: getBackend('reference') }).optFn(theta), params, shapes, 3, 72);
      const nat = runSteps(smallFcLopt({ hidden }, { backend: getBackend('native') }).optFn(theta), params, shapes, 3, 72);
      let before = params;
      for (let step = 0; step < 3; step++) {
        const rs = stepsOf(before, ref.history[step]);
        const ns = stepsOf(before, nat.history[step]);
        for (const name of Object.keys(shapes)) {
          assertAllClose(nat.history[step][name].data, ref.history[step][name].data, `step ${step} params ${name}`, 1e-5, 1e-7);
          assertAllClose(ns[name], rs[name], `step ${step} update of ${name}`, 1e-4, 1e-4);
        }
        before = ref.history[step];
      }
      const refSlots = (ref.state as FeatureMlpState).slots;
      const natSlots = (nat.state as FeatureMlpState).slots;
      refSlots.forEach((slot, i) => {
        assertAllClose(natSlots[i].kernel.acc, slot.kernel.acc, `accumulators of ${slot.name}`, 1e-5, 1e-6);
        assertAllClose(natSlots[i].kernel.factored!.stats, slot.kernel.factored!.stats, `factored stats of ${slot.name}`, 1e-5, 1e-6);
        assertAllClose(natSlots[i].moments, slot.moments, `feature moments of ${slot.name}`, 1e-5, 1e-9);
      });
    });
  }
});
