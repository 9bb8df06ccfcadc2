// fc_lopt (LO MLPLOpt): counts, θ names, state, native against the reference backend.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed } from '../../src/engine/random.js';
import { getBackend } from '../../src/engine/select.js';
import { fcLopt } from '../../src/learned/fc-lopt.js';
import type { FeatureMlpState } from '../../src/learned/feature-mlp.js';
import { assertAllClose, normals, randomParams, runSteps, stepsOf } from './helpers.js';

describe('fc_lopt', () => {
  it('has 1,762 meta-parameters, 19 inputs (g, p, six momenta, 11 time features) and LO names', () => {
    const lo = fcLopt();
    assert.equal(lo.paramCount, 1762);
    assert.equal(lo.inputWidth, 19);
    assert.deepEqual({ ...lo.thetaShapes }, {
      'mlp/linear_0/w': [19, 32], 'mlp/linear_0/b': [32], 'mlp/linear_1/w': [32, 32], 'mlp/linear_1/b': [32],
      'mlp/linear_2/w': [32, 2], 'mlp/linear_2/b': [2],
    });
  });

  it('keeps 6 floats per parameter: momenta at 0.1 … 0.9999', () => {
    const lo = fcLopt({}, { backend: getBackend('native') });
    const opt = lo.optFn(lo.init(keyFromSeed(0)));
    const shapes = { w: [20, 7], b: [7] };
    assert.equal(opt.stateBytes(randomParams(shapes, 1)), 4 * 6 * 147);
    const { state } = runSteps(opt, randomParams(shapes, 1), shapes, 1, 2);
    const slot = (state as FeatureMlpState).slots[1];
    assert.equal(slot.kernel.acc.length, 6 * 140);
    assert.equal(slot.kernel.factored, null);
    assert.deepEqual(Array.from(slot.kernel.decays), [0.1, 0.5, 0.9, 0.99, 0.999, 0.9999].map(Math.fround));
  });

  it('native (both paths) agrees with the reference backend over 3 steps', () => {
    const shapes = { s: [], v: [33], m: [16, 9], c: [3, 3, 4, 5] };
    const ref = fcLopt({}, { backend: getBackend('reference') });
    const theta = ref.init(keyFromSeed(4));
    theta['mlp/linear_2/w'].data.set(normals(64, 5, 0.3));
    theta['mlp/linear_0/b'].data.set(normals(32, 6, 0.2));
    const params = randomParams(shapes, 7);
    const r = runSteps(ref.optFn(theta), params, shapes, 3, 8);
    for (const path of ['elementwise', 'gemm'] as const) {
      const n = runSteps(fcLopt({ path }, { backend: getBackend('native') }).optFn(theta), params, shapes, 3, 8);
      for (const name of Object.keys(shapes)) {
        assertAllClose(n.history[2][name].data, r.history[2][name].data, `${path} ${name}`, 1e-5, 1e-7);
        assertAllClose(stepsOf(params, n.history[0])[name], stepsOf(params, r.history[0])[name], `${path} update ${name}`, 1e-4, 1e-4);
      }
    }
  });
});
