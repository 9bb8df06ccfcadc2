// nn_adam (LO NNAdam): counts, θ names, Adam without bias correction at initialisation, the 19 LSTM
// inputs, hyperparameter transforms, native against reference.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed } from '../../src/engine/random.js';
import { getBackend } from '../../src/engine/select.js';
import { NN_ADAM_FEATURE_NAMES, nnAdam, nnAdamFeatures, nnAdamTransforms, type NnAdamState } from '../../src/learned/nn-adam.js';
import { assertAllClose, normals, randomGrads, randomParams, runSteps } from './helpers.js';

const SHAPES = { s: [], v: [7], m: [5, 6], c: [2, 3, 2, 4] };

describe('nn_adam', () => {
  it('has 6,856 meta-parameters with LO names, 19 LSTM inputs in alphabetical order', () => {
    const lo = nnAdam();
    assert.equal(lo.paramCount, 6856);
    assert.deepEqual(lo.thetaShapes['rnn_params/rnn/linear/w'], [51, 128]);
    assert.deepEqual(lo.thetaShapes['rnn_to_controls_params/rnn_to_controls/w'], [32, 4]);
    assert.deepEqual(lo.thetaShapes['lstm_init_state/hidden'], [1, 32]);
    assert.deepEqual(lo.thetaShapes.per_layer_lr, []);
    assert.equal(NN_ADAM_FEATURE_NAMES.length, 19);
    assert.deepEqual([...NN_ADAM_FEATURE_NAMES], [...NN_ADAM_FEATURE_NAMES].sort());
    const theta = lo.init(keyFromSeed(0));
    assert.ok(Math.abs(nnAdamTransforms.lr.inverse(theta.per_layer_lr.data[0]) - 1e-4) < 1e-9);
    assert.ok(Math.abs(nnAdamTransforms.beta.inverse(theta.per_layer_beta1.data[0]) - 0.9) < 1e-6);
    assert.ok(Math.abs(nnAdamTransforms.beta.inverse(theta.per_layer_beta2.data[0]) - 0.999) < 1e-6);
    assert.ok(Math.abs(nnAdamTransforms.epsilon.inverse(theta.per_layer_epsilon.data[0]) - 1e-8) < 1e-14);
    assert.ok(theta['rnn_to_controls_params/rnn_to_controls/w'].data.every((x) => x === 0));
  });

  it('the transforms clip lr to [1e-8, 1e3], ε to [1e-11, 1e4], betas to [0, 1 − e^−10]', () => {
    const { lr, epsilon, beta } = nnAdamTransforms;
    assert.equal(lr.inverse(10), 1e3);
    assert.equal(lr.inverse(-10), 1e-8);
    assert.equal(epsilon.inverse(10), 1e4);
    assert.equal(epsilon.inverse(-10), 1e-11);
    assert.equal(beta.inverse(1), 0);
    assert.ok(Math.abs(beta.inverse(-5) - (1 - Math.exp(-10))) < 1e-15);
  });

  it('the 19 LSTM inputs follow their definitions', () => {
    const p = [0.5, -1, 2, 0.25];
    const g = [1, -3, 0.5, 0];
    const m = [0.1, -0.2, 0.05, 0];
    const v = [0.01, 0.02, 0.003, 0];
    const sum = (xs: number[], f = (x: number) => x) => xs.reduce((s, x) => s + f(x), 0);
    const stats = [sum(p), sum(p, (x) => x * x), sum(g), sum(g, (x) => x * x), sum(g, Math.abs), sum(m), sum(m, (x) => x * x), sum(v), sum(v, (x) => x * x)];
    const hp = [-0.92, -0.23, -0.69, -1.84];
    const x = nnAdamFeatures(stats, 4, 1, hp);
    const mean = (xs: number[]) => sum(xs) / xs.length;
    const variance = (xs: number[]) => mean(xs.map((a) => (a - mean(xs)) ** 2));
    const cla = (a: number) => Math.min(Math.max(Math.log(1e-8 + Math.abs(a)), -5), 5) * 0.5;
    const expected: Record<string, number> = {
      beta1: -0.23 * 0.2, beta2: -0.69 * 0.2, epsilon: -1.84 * 0.2, is_bias: 1, is_scalar: -1, lr: -0.92 * 0.2,
      mean_g_mag: cla(mean(g)), mean_g_sign: -1, mean_gabs_mag: cla(mean(g.map(Math.abs))), mean_m_mag: cla(mean(m)),
      mean_m_sign: -1, mean_p_mag: cla(mean(p)), mean_p_sign: 1, mean_rms: cla(mean(v)), mean_sign: 1,
      var_g: cla(variance(g)), var_m: cla(variance(m)), var_p: cla(variance(p)), var_rms: cla(variance(v)),
    };
    NN_ADAM_FEATURE_NAMES.forEach((name, f) => assert.ok(Math.abs(x[f] - expected[name]) < 1e-6, `${name}: ${x[f]} vs ${expected[name]}`));
  });

  for (const backendName of ['reference', 'native'] as const) {
    it(`at initialisation equals Adam without bias correction (±1000 clip, LO's ε form) [${backendName}]`, () => {
      const lo = nnAdam({}, { backend: getBackend(backendName) });
      const opt = lo.optFn(lo.init(keyFromSeed(1)));
      const params = randomParams(SHAPES, 2);
      let state = opt.init(params, { numSteps: 10 });
      const p: Record<string, number[]> = {};
      const m: Record<string, number[]> = {};
      const v: Record<string, number[]> = {};
      for (const [name, t] of Object.entries(params)) {
        p[name] = Array.from(t.data);
        m[name] = p[name].map(() => 0);
        v[name] = p[name].map(() => 0);
      }
      for (let step = 0; step < 5; step++) {
        const grads = randomGrads(SHAPES, 3, step, 1);
        grads.m.data[0] = 4000;
        grads.v.data[2] = -2500;
        state = opt.update(state, grads, { loss: 1 });
        for (const name of Object.keys(SHAPES)) {
          const g = Array.from(grads[name].data, (x) => Math.min(Math.max(x, -1000), 1000));
          for (let i = 0; i < g.length; i++) {
            m[name][i] = 0.9 * m[name][i] + 0.1 * g[i];
            v[name][i] = 0.999 * v[name][i] + 0.001 * g[i] * g[i];
            p[name][i] -= ((1e-4 * (1 + 1e-8)) / (1e-8 + Math.sqrt(v[name][i] + 1e-10))) * m[name][i];
          }
          assertAllClose(opt.getParams(state)[name].data, p[name], `step ${step} ${name}`, 1e-6, 1e-7);
        }
      }
      const hp = (state as NnAdamState).hparams;
      assert.ok(Math.abs(nnAdamTransforms.lr.inverse(hp[0]) - 1e-4) < 1e-10, 'the hyperparameters stay put');
    });
  }

  it('with non-zero controls the hyperparameters move; native agrees with reference', () => {
    const shapes = SHAPES;
    const ref = nnAdam({}, { backend: getBackend('reference') });
    const theta = ref.init(keyFromSeed(4));
    theta['rnn_to_controls_params/rnn_to_controls/w'].data.set(normals(128, 5, 2));
    theta['rnn_to_controls_params/rnn_to_controls/b'].data.set([0.5, -0.3, 0.2, 1]);
    const params = randomParams(shapes, 6);
    const r = runSteps(ref.optFn(theta), params, shapes, 4, 7);
    const n = runSteps(nnAdam({}, { backend: getBackend('native') }).optFn(theta), params, shapes, 4, 7);
    for (const name of Object.keys(shapes)) assertAllClose(n.history[3][name].data, r.history[3][name].data, name, 1e-5, 1e-7);
    const hpRef = (r.state as NnAdamState).hparams;
    const hpNat = (n.state as NnAdamState).hparams;
    assertAllClose(hpNat, hpRef, 'hyperparameters', 1e-5, 1e-6);
    assert.ok(Math.abs(nnAdamTransforms.lr.inverse(hpRef[0]) - 1e-4) > 1e-6, 'lr moved');
  });

  it('stateBytes counts m, v and the per-tensor LSTM state and hyperparameters', () => {
    const lo = nnAdam();
    const opt = lo.optFn(lo.init(keyFromSeed(0)));
    assert.equal(opt.stateBytes(randomParams({ w: [10, 3], b: [3] }, 1)), 4 * (2 * 33 + 2 * (64 + 4)));
  });
});
