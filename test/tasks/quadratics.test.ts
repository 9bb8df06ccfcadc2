import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed } from '../../src/engine/random.js';
import { getOptimizer } from '../../src/optimizers/registry.js';
import { train } from '../../src/training/train.js';
import { getTask, getTaskFamily, taskFamilyNames } from '../../src/tasks/registry.js';
import { checkGradients } from '../fixtures/gradcheck.js';
import { cloneParams } from '../../src/engine/tensor.js';
import { backendNamed } from '../fixtures/backends.js';

test('quadratic tasks: losses match their formulas and gradients pass a finite-difference check', () => {
  for (const name of ['quadratic', 'log-quadratic', 'sum-quadratic']) {
    const task = getTask(name);
    const params = task.init(keyFromSeed(1));
    const batch = task.datasets.train.stream(keyFromSeed(0)).next();
    const { loss, grads } = task.lossAndGrad(params, batch);
    assert.ok(Math.abs(loss - task.loss(params, batch)) < 1e-9, name);
    checkGradients(params, cloneParams(grads), () => task.loss(params, batch), { h: 1e-3, rtol: 1e-2 });
  }
  const q = getTask('quadratic', { dim: 3 });
  assert.equal(q.paramCount, 3);
  const x = { x: { shape: [3], data: Float32Array.from([1, -2, 3]) } };
  assert.equal(q.loss(x, { noise: 0 }), 14);
  assert.ok(Math.abs(getTask('log-quadratic', { dim: 3 }).loss(x, { noise: 0 }) - Math.log(14)) < 1e-12);
});

test('quadratic task family: sampled targets are seeded and define the minimum', () => {
  assert.deepEqual(taskFamilyNames().filter((name) => name.startsWith('quadratic')), ['quadratic-family', 'quadratic-family-noise']);
  const family = getTaskFamily('quadratic-family', { dim: 4 });
  const target = family.sample(keyFromSeed(3));
  assert.deepEqual(family.sample(keyFromSeed(3)), target);
  assert.notDeepEqual(family.sample(keyFromSeed(4)), target);
  const task = family.taskFn(target);
  assert.equal(task.loss({ x: { shape: [4], data: target.slice() } }, { noise: 0 }), 0);
  const noisy = getTaskFamily('quadratic-family-noise', { dim: 4 }).taskFn(target);
  const stream = noisy.datasets.train.stream(keyFromSeed(0));
  const losses = [stream.next().noise, stream.next().noise].map((n) => noisy.loss({ x: { shape: [4], data: target.slice() } }, { noise: n }));
  assert.notEqual(losses[0], losses[1]);
  assert.equal(noisy.normalizer(5000), 1000);
  assert.equal(noisy.normalizer(NaN), 1000);
});

test('SGD solves the quadratic on both backends', () => {
  for (const name of ['reference', 'native'] as const) {
    const backend = backendNamed(name);
    const result = train({ task: getTask('quadratic'), optimizer: getOptimizer('sgd', { learningRate: 0.1 }, { backend }), steps: 50, seed: 2, evalEvery: 50 });
    assert.ok(result.initialLoss > 1);
    assert.ok(result.finalLoss < 1e-6 * result.initialLoss, `${name}: ${result.finalLoss}`);
    assert.ok(result.evaluations[0].testLoss < 1e-8);
  }
});
