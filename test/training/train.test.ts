import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getOptimizer } from '../../src/optimizers/registry.js';
import { getTask } from '../../src/tasks/registry.js';
import { median, train } from '../../src/training/train.js';
import { backendNamed } from '../fixtures/backends.js';

test('training fmnist-mlp with Adam lowers the loss on real data and is reproducible from its seed', () => {
  const backend = backendNamed('native');
  const run = (seed: number) => train({
    task: getTask('fmnist-mlp', { backend }),
    optimizer: getOptimizer('adam', { learningRate: 1e-3 }, { backend }),
    steps: 150, seed, evalEvery: 150,
  });
  const result = run(0);
  assert.ok(result.initialLoss > 1.8, `initial ${result.initialLoss}`);
  const lastTen = result.losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
  assert.ok(lastTen < 0.9, `mean of the last 10 losses ${lastTen}`);
  assert.ok(result.meanLoss < result.initialLoss && result.meanLoss > lastTen);
  assert.equal(result.evaluations.length, 1);
  assert.ok(result.evaluations[0].validLoss < 0.9 && result.evaluations[0].testLoss < 0.95);
  assert.ok(result.msPerStep > 0);
  assert.deepEqual(run(0).losses, result.losses);
  assert.notDeepEqual(run(1).losses.slice(0, 5), result.losses.slice(0, 5));
});

test('median handles odd, even and empty inputs', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});
