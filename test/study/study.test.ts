import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { resolveStudyConfig, SMOKE_PRESET } from '../../src/study/study.js';

test('study configuration: the issue\'s defaults; the smoke preset is small; bad names are one clear error', () => {
  const config = resolveStudyConfig({});
  assert.deepEqual(config.tasks, ['fmnist-mlp', 'cifar10-conv']);
  assert.deepEqual(config.optimizers, ['sgd', 'sgdm', 'adam', 'nadamw', 'small_fc_lopt', 'nn_adam', 'fc_lopt', 'rnn_fc_lopt']);
  assert.deepEqual([config.steps, config.evalSeeds, config.searchSeeds, config.db, config.workers], [2000, 5, 1, 'results/lopt.db', availableParallelism()]);
  assert.deepEqual(config.multipliers, [2, 3]);
  assert.equal(config.budget, undefined, 'per-task default budgets');

  const smoke = resolveStudyConfig(SMOKE_PRESET);
  assert.deepEqual(smoke.tasks, ['fmnist-mlp']);
  assert.equal(smoke.steps, 200);
  assert.deepEqual(smoke.lrGrid, [1e-4, 0.000316227766016838, 1e-3, 0.00316227766016838, 1e-2, 0.0316227766016838, 0.1]);
  assert.equal(smoke.evalSeeds, 2);

  assert.throws(() => resolveStudyConfig({ tasks: ['nope'] }), /unknown task "nope"/);
  assert.throws(() => resolveStudyConfig({ optimizers: ['sgd'], weights: { small_fc_lopt: 'x' } }), /--weights names small_fc_lopt, which is not in --optimizers/);
  assert.throws(() => resolveStudyConfig({ variants: [{ sweep: 'width', features: 'small_fc_lopt', hidden: 2 }] }), /--meta-budget-minutes/);
  assert.throws(() => resolveStudyConfig({ evalSeeds: 0 }), /bad study setting evalSeeds/);
  assert.throws(() => resolveStudyConfig({ steps: 10, extra: 1 } as never), /bad study setting/);
});
