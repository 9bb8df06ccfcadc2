// rnn_fc_lopt (LO RNNMLPLOpt): parameter counts per part, input widths and orders, the loss features and
// the dynamic gradient clip of the first step, native against reference over several steps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed } from '../../src/engine/random.js';
import { getBackend } from '../../src/engine/select.js';
import { rnnFcLopt, RNN_TENSOR_FEATURE_NAMES, type RnnFcLoptState } from '../../src/learned/rnn-fc-lopt.js';
import { assertAllClose, randomGrads, randomParams, runSteps } from './helpers.js';

const SHAPES = { s: [], v: [9], m: [12, 5], c: [2, 3, 3, 4] };

describe('rnn_fc_lopt', () => {
  it('has 35,799 meta-parameters: MLP 3,410, LSTM 29,952, rnn_to_ff 1,105, rnn_to_in 1,170, 18 + 16 + 128', () => {
    const lo = rnnFcLopt();
    assert.equal(lo.paramCount, 35799);
    const part = (prefix: string) => Object.entries(lo.thetaShapes).filter(([n]) => n.startsWith(prefix))
      .reduce((s, [, shape]) => s + shape.reduce((a, b) => a * b, 1), 0);
    assert.equal(part('ffmod_params/'), 3410);
    assert.equal(part('rnn_params/'), 29952);
    assert.equal(part('rnn_to_ff_params/'), 1105);
    assert.equal(part('rnn_to_in_params/'), 1170);
    assert.equal(part('initial_from_lstm'), 18);
    assert.equal(part('initial_from_mlp'), 16);
    assert.equal(part('lstm_init_state/'), 128);
    // Inputs: MLP 54 (23 normalised + 31 per tensor), LSTM 52 (+ 64 hidden).
    assert.deepEqual(lo.thetaShapes['ffmod_params/mlp/linear_0/w'], [54, 32]);
    assert.deepEqual(lo.thetaShapes['ffmod_params/mlp/linear_2/w'], [32, 18]);
    assert.deepEqual(lo.thetaShapes['rnn_params/rnn/linear/w'], [52 + 64, 256]);
    // The LSTM's named inputs in alphabetical order: from_lstm and from_mlp first, then the 18 features.
    const all = ['from_lstm', 'from_mlp', ...RNN_TENSOR_FEATURE_NAMES];
    assert.deepEqual(all, [...all].sort());
    assert.equal(RNN_TENSOR_FEATURE_NAMES.length, 18);
  });

  it('first step: loss features 0 and −1/0.9, gradients clipped at 10, 10 floats of state per parameter', () => {
    const lo = rnnFcLopt({}, { backend: getBackend('native') });
    const opt = lo.optFn(lo.init(keyFromSeed(1)));
    const params = randomParams(SHAPES, 2);
    let state = opt.init(params, { numSteps: 10 }) as RnnFcLoptState;
    const grads = randomGrads(SHAPES, 3, 0, 1);
    grads.m.data[0] = 50;
    grads.m.data[1] = -20;
    state = opt.update(state, grads, { loss: 2.3 }) as RnnFcLoptState;
    const t = 1; // tensor "m" in name order c, m, s, v
    assert.equal(state.slots[t].name, 'm');
    assert.equal(state.clipped[t][0], 10);
    assert.equal(state.clipped[t][1], -10);
    const row = state.lstmInputs.subarray(t * 52, (t + 1) * 52);
    const at = (name: string) => row[34 + RNN_TENSOR_FEATURE_NAMES.indexOf(name as never)];
    assert.ok(Math.abs(at('train_loss_feat')) < 1e-6);
    assert.ok(Math.abs(at('valid_loss_feat') - -1 / 0.9) < 1e-4, `${at('valid_loss_feat')}`);
    assert.equal(at('is_scalar'), -1);
    assert.ok(Math.abs(at('shape_0') - (Math.log(12) - 1)) < 1e-6 && Math.abs(at('shape_2') - -1) < 1e-6);
    const g = Array.from(state.clipped[t]);
    const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(at('g_norm') - Math.min(Math.max(Math.log(1e-8 + norm), -5), 5)) < 1e-5);
    assert.equal(opt.stateBytes(params), 4 * (18 + 10 * (72 + 60 + 1 + 9) + 4 * (128 + 16)));
  });

  it('native (both MLP paths) agrees with reference over 3 steps', () => {
    const ref = rnnFcLopt({}, { backend: getBackend('reference') });
    const theta = ref.init(keyFromSeed(5));
    const params = randomParams(SHAPES, 6);
    const r = runSteps(ref.optFn(theta), params, SHAPES, 3, 7);
    for (const path of ['elementwise', 'gemm'] as const) {
      const n = runSteps(rnnFcLopt({ path }, { backend: getBackend('native') }).optFn(theta), params, SHAPES, 3, 7);
      for (const name of Object.keys(SHAPES)) assertAllClose(n.history[2][name].data, r.history[2][name].data, `${path} ${name}`, 1e-5, 1e-7);
      assertAllClose((n.state as RnnFcLoptState).fromMlp, (r.state as RnnFcLoptState).fromMlp, `${path} from_mlp`, 1e-4, 1e-5);
      assertAllClose((n.state as RnnFcLoptState).h, (r.state as RnnFcLoptState).h, `${path} LSTM h`, 1e-4, 1e-5);
    }
  });
});
