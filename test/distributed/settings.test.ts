import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeMismatch, runSettings, settingsDigest, thetaCount } from '../../src/distributed/settings.js';
import { buildLopt } from '../../src/meta/problem.js';
import type { MetaTrainOptions } from '../../src/meta/learner.js';

const base: Omit<MetaTrainOptions, 'theta'> = {
  problem: { lopt: 'learnable_lr_sgd', family: 'quadratic-family', taskOptions: { dim: 10 } },
  estimator: 'pes', numTasks: 8, truncLength: 10, innerSteps: 50, std: 0.01, metaLr: 0.05, outerSteps: 60, seed: 1,
};

test('the settings digest covers what estimates mean, not machine paths or learner-only knobs', () => {
  const d = settingsDigest(runSettings(base));
  assert.match(d, /^[0-9a-f]{64}$/);
  // Learner-only settings and the data folder (different on every machine) do not matter.
  assert.equal(settingsDigest(runSettings({ ...base, metaLr: 1, outerSteps: 5, metaBatch: 4 })), d);
  assert.equal(settingsDigest(runSettings({ ...base, problem: { ...base.problem, taskOptions: { dim: 10, dataDir: '/data' } } })), d);
  // Key order does not matter either.
  const { seed, ...rest } = base;
  assert.equal(settingsDigest(runSettings({ seed, ...rest })), d);
  for (const change of [{ numTasks: 4 }, { std: 0.02 }, { seed: 2 }, { estimator: 'tes' as const }, { evalSeeds: 3 },
    { problem: { ...base.problem, taskOptions: { dim: 11 } } }]) {
    assert.notEqual(settingsDigest(runSettings({ ...base, ...change })), d, JSON.stringify(change));
  }
  assert.equal(describeMismatch(runSettings(base), runSettings(base)), null);
  assert.equal(describeMismatch(runSettings({ ...base, numTasks: 4 }), runSettings(base)), 'numTasks is 4 here but 8 at the learner');
});

test('θ counts', () => {
  assert.equal(thetaCount(buildLopt({ lopt: 'learnable_lr_sgd', task: 'quadratic' })), 1);
  assert.equal(thetaCount(buildLopt({ lopt: 'small_fc_lopt', task: 'quadratic' })), 197);
});
