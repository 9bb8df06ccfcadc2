import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldIn, keyFromSeed } from '../../src/engine/random.js';
import { mixtureFamily, mixtureTaskNames, PAPER_MIX, variantName } from '../../src/tasks/mixture.js';
import { metaTrainedOn } from '../../src/learned/weights.js';
import { getTask, getTaskFamily, taskFamilyNames } from '../../src/tasks/registry.js';
import { referenceBackend } from '../../src/engine/reference.js';
import type { TaskOptions } from '../../src/tasks/options.js';

test('paper-mix draws every variant, the same one for the same key, each built once with its knobs', () => {
  assert.ok(taskFamilyNames().includes('paper-mix'));
  const family = getTaskFamily('paper-mix');
  const root = keyFromSeed(4);
  const draws = Array.from({ length: 200 }, (_, i) => family.sample(foldIn(root, i)) as number);
  assert.deepEqual([...new Set(draws)].sort((a, b) => a - b), PAPER_MIX.map((_, i) => i), 'every variant is drawn');
  const counts = PAPER_MIX.map((_, i) => draws.filter((d) => d === i).length);
  assert.ok(Math.min(...counts) >= 8, `draws are roughly uniform: ${counts.join(', ')}`);
  assert.equal(family.sample(foldIn(root, 7)), draws[7], 'a key always draws the same variant');

  for (const [index, variant] of PAPER_MIX.entries()) {
    const task = family.taskFn(index);
    const direct = getTask(variant.task, variant.knobs);
    assert.equal(task.paramCount, direct.paramCount, variantName(variant));
    assert.equal(task.batchSize, direct.batchSize, variantName(variant));
    assert.equal(family.taskFn(index), task, 'a variant\'s task is built once and reused');
    assert.equal(task.normalizer(0.05), direct.normalizer(0.05) / variant.lossScale!, 'the meta-loss is divided by the variant\'s scale');
  }
  assert.equal(variantName(PAPER_MIX[2]), 'cifar10-16-conv(batchSize=32)');
});

test('a mixture passes the backend on, and knobs a task does not take are refused when the variant is built', () => {
  const seen: TaskOptions[] = [];
  const family = mixtureFamily('two', [{ task: 'quadratic', knobs: { dim: 3 } }, { task: 'quadratic', knobs: { dim: 5 } }], { backend: referenceBackend, dataDir: '/data' }, (name, options) => {
    seen.push(options);
    return getTask(name, options);
  });
  assert.equal(family.taskFn(1).paramCount, 5);
  assert.equal(family.taskFn(0).paramCount, 3);
  family.taskFn(1);
  assert.equal(seen.length, 2);
  assert.deepEqual(seen[0], { backend: referenceBackend, dataDir: '/data', dim: 5 });
  assert.throws(() => mixtureFamily('none', [], {}, getTask), /has no variants/);
  // lossScale divides the meta-training loss only: the loss, gradients and parameters are the task's own.
  const scaled = mixtureFamily('scaled', [{ task: 'quadratic', knobs: { dim: 4 }, lossScale: 4 }], {}, getTask).taskFn(0);
  const direct = getTask('quadratic', { dim: 4 });
  const params = direct.init(keyFromSeed(1));
  const batch = direct.datasets.train.stream(keyFromSeed(2)).next();
  const [a, b] = [scaled.lossAndGrad(params, batch), direct.lossAndGrad(params, batch)];
  assert.equal(a.loss, b.loss);
  assert.deepEqual(a.grads, b.grads);
  assert.equal(scaled.normalizer(a.loss), direct.normalizer(a.loss) / 4);
  assert.equal(scaled.paramCount, 4);
  assert.throws(() => mixtureFamily('bad-scale', [{ task: 'quadratic', knobs: {}, lossScale: 0 }], {}, getTask).taskFn(0), /lossScale must be positive/);
  const bad = mixtureFamily('bad', [{ task: 'quadratic', knobs: { seqLen: 0 } }], {}, getTask);
  assert.throws(() => bad.taskFn(0), /bad task option seqLen/);
});

test('weights meta-trained on a mixture name the mixture and every task it draws from', () => {
  assert.deepEqual(mixtureTaskNames('paper-mix'), ['fmnist-mlp', 'cifar10-16-conv', 'imagenet16-mlp', 'cifar10-ae', 'text-lstm-lm']);
  assert.deepEqual(mixtureTaskNames('fmnist-mlp'), []);
  assert.deepEqual(metaTrainedOn({ task: 'paper-mix' }), ['paper-mix', ...mixtureTaskNames('paper-mix')]);
  assert.deepEqual(metaTrainedOn({ task: 'fmnist-mlp', tasks: ['paper-mix'] }), ['fmnist-mlp', 'paper-mix', 'cifar10-16-conv', 'imagenet16-mlp', 'cifar10-ae', 'text-lstm-lm']);
});
