// feature_mlp_lopt: every §4.2 feature set and widths from 2 to 64, native (both MLP paths) against the
// reference backend, feature counts, the Fig. 2 / Fig. 3 sweeps as loops over names.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed } from '../../src/engine/random.js';
import { getBackend } from '../../src/engine/select.js';
import type { Params } from '../../src/engine/tensor.js';
import { featureMlpLopt } from '../../src/learned/feature-mlp-lopt.js';
import { FEATURE_SET_NAMES } from '../../src/learned/features.js';
import { learned } from '../../src/learned/registry.js';
import { assertAllClose, normals, randomParams, runSteps, stepsOf } from './helpers.js';

const SHAPES: Record<string, number[]> = { s: [], v: [9], m: [6, 17], t: [5, 2, 5], c: [3, 3, 4, 8], w: [40, 3] };

const FEATURE_COUNTS: Record<string, number> = {
  small_fc_lopt: 28, grads_time_p: 2, 'm_0.9': 3, m_all: 7, m_mid2: 4, m_mid3: 5, 'rms_0.5': 4, rms_all: 14,
  rms_mid2: 6, rms_mid4: 10, 'm_rms_0.99': 6, m_rms_all: 26, m_rms_mid2: 10, m_rms_mid4: 18, adafact: 32,
  adafact_m_mul: 23, union: 62, 'adams_0.999': 6,
};

function randomTheta(lo: ReturnType<typeof featureMlpLopt>, seed: number): Params {
  const theta = lo.init(keyFromSeed(seed));
  let s = seed * 10;
  for (const [name, t] of Object.entries(theta)) {
    const std = name.endsWith('decays') ? 0.05 : /\/b\d/.test(name) ? 0.3 : 1 / Math.sqrt(t.shape[0]);
    t.data.set(normals(t.data.length, s++, std));
  }
  return theta;
}

function agree(options: Record<string, unknown>, seed: number, steps = 2): void {
  const ref = featureMlpLopt(options, { backend: getBackend('reference') });
  const theta = randomTheta(ref, seed);
  const params = randomParams(SHAPES, seed + 1, 0.1);
  const r = runSteps(ref.optFn(theta), params, SHAPES, steps, seed + 2);
  for (const path of ['elementwise', 'gemm'] as const) {
    const nat = featureMlpLopt({ ...options, path }, { backend: getBackend('native') });
    const n = runSteps(nat.optFn(theta), params, SHAPES, steps, seed + 2);
    const what = `${JSON.stringify(options)} ${path}`;
    for (const name of Object.keys(SHAPES)) {
      assertAllClose(n.history[steps - 1][name].data, r.history[steps - 1][name].data, `${what} params ${name}`, 1e-5, 1e-7);
      assertAllClose(stepsOf(params, n.history[0])[name], stepsOf(params, r.history[0])[name], `${what} update ${name}`, 1e-4, 1e-4);
    }
  }
}

describe('feature_mlp_lopt', () => {
  it('has every feature set of the paper (§4.2, App. D.3) with the right feature counts', () => {
    for (const name of ['grads_time_p', 'm_0.1', 'm_0.5', 'm_0.9', 'm_0.99', 'm_0.999', 'm_all', 'm_mid2', 'm_mid3',
      'rms_0.1', 'rms_0.999', 'rms_all', 'rms_mid2', 'rms_mid4', 'm_rms_0.1', 'm_rms_0.999', 'adams_0.999', 'm_rms_all',
      'm_rms_mid2', 'm_rms_mid4', 'adafact', 'adafact_m_mul', 'union']) {
      assert.ok(FEATURE_SET_NAMES.includes(name), name);
    }
    for (const [features, count] of Object.entries(FEATURE_COUNTS)) {
      const lo = featureMlpLopt({ features });
      assert.equal(lo.featureCount, count, features);
      assert.equal(lo.inputWidth, count + 11);
      assert.equal(lo.thetaShapes['nn/w0'][0], count + 11);
    }
  });

  it('is small_fc_lopt itself with features=small_fc_lopt, and the sweeps are loops over names', () => {
    const a = learned.get('feature_mlp_lopt', { features: 'small_fc_lopt' });
    const b = learned.get('small_fc_lopt');
    assert.deepEqual(a.thetaShapes, b.thetaShapes);
    assert.equal(a.paramCount, 197);
    for (const hidden of [2, 4, 8, 16, 32, 64, 128, 256]) {
      const lo = learned.get('feature_mlp_lopt', { features: 'adafact_m_mul', hidden });
      // 34 inputs (23 features + 11 time) → hidden → hidden → 2.
      assert.equal(lo.paramCount, (34 * hidden + hidden) + (hidden * hidden + hidden) + (hidden * 2 + 2));
    }
    // Fixed decays: no decay offsets in θ for the §4.2 variants.
    assert.deepEqual(Object.keys(learned.get('feature_mlp_lopt', { features: 'union' }).thetaShapes).sort(), ['nn/b0', 'nn/b1', 'nn/b2', 'nn/w0', 'nn/w1', 'nn/w2']);
  });

  it('rejects unknown feature sets and bad widths with one-line errors', () => {
    assert.throws(() => featureMlpLopt({ features: 'm_0.7' }), /features must be one of .*m_0\.9/);
    assert.throws(() => featureMlpLopt({ hidden: 0 }), /hidden must be in \[1, 4096\]/);
    assert.throws(() => featureMlpLopt({ depth: -1 }), /depth must be in \[0, 16\]/);
    assert.throws(() => featureMlpLopt({ path: 'simd' }), /path must be one of auto, elementwise, gemm/);
  });

  for (const features of Object.keys(FEATURE_COUNTS)) {
    it(`${features}: native (both paths) agrees with the reference backend`, () => {
      agree({ features }, 60 + Object.keys(FEATURE_COUNTS).indexOf(features));
    });
  }

  it('widths 2 to 64 and depths 0 to 3: native agrees with the reference backend', () => {
    let seed = 90;
    for (const [hidden, depth] of [[2, 2], [8, 2], [3, 1], [16, 2], [64, 1], [5, 0], [4, 3]]) {
      agree({ features: 'small_fc_lopt', hidden, depth }, seed++, 1);
      agree({ features: 'adafact_m_mul', hidden, depth }, seed++, 1);
    }
  });
});
