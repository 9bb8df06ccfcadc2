import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed } from '../../src/engine/random.js';
import { countParams } from '../../src/engine/tensor.js';
import { getTask } from '../../src/tasks/registry.js';
import { backendNamed } from '../fixtures/backends.js';

const backend = backendNamed('native');

test('parameter counts of docs/specification.md §17', () => {
  const expected: Record<string, number> = {
    'fmnist-mlp': 118282,
    'cifar10-conv': 56970,
    'cifar10-16-conv': 56970,
    'imagenet16-mlp': 379848,
    'cifar10-ae': 797984,
    'text-lstm-lm': 148224 + 256,
  };
  for (const [name, count] of Object.entries(expected)) {
    const task = getTask(name, { backend });
    assert.equal(task.paramCount, count, name);
    assert.equal(countParams(task.init(keyFromSeed(0))), count, name);
    assert.ok(task.flopsPerStep > 0, name);
  }
});

test('conv kernels are HWIO and the knobs resize the models', () => {
  const conv = getTask('cifar10-conv', { backend });
  const params = conv.init(keyFromSeed(0));
  assert.deepEqual(params['convnet/conv_0/w'].shape, [3, 3, 3, 32]);
  assert.deepEqual(params['convnet/conv_2/w'].shape, [3, 3, 64, 64]);
  const wide = getTask('cifar10-conv', { channelMult: 2, backend });
  assert.deepEqual(wide.init(keyFromSeed(0))['convnet/conv_1/w'].shape, [3, 3, 64, 128]);
  assert.ok(wide.flopsPerStep > 3 * conv.flopsPerStep);
  assert.equal(getTask('cifar10-conv', { batchSize: 64, backend }).flopsPerStep * 2, conv.flopsPerStep);
  assert.equal(getTask('imagenet16-mlp', { width: 64, depth: 1, backend }).paramCount, 768 * 64 + 64 + 64 * 200 + 200);
  assert.equal(getTask('cifar10-ae', { width: 64, backend }).paramCount, (3072 * 64 + 64) + (64 * 16 + 16) + (16 * 64 + 64) + (64 * 3072 + 3072));
  assert.equal(getTask('text-lstm-lm', { width: 32, backend }).paramCount, 256 * 64 + (64 + 32 + 1) * 128 + 32 * 256 + 256 + 64);
});

test('normalisers: classification clips at 1.5 ln(classes), the autoencoder at 1, the LM has none', () => {
  assert.ok(Math.abs(getTask('cifar10-conv', { backend }).normalizer(50) - 1.5 * Math.log(10)) < 1e-12);
  assert.ok(Math.abs(getTask('cifar10-conv', { backend, normalizerClip: 'paper' }).normalizer(50) - Math.log(10)) < 1e-12);
  assert.equal(getTask('cifar10-ae', { backend }).normalizer(3), 1);
  assert.equal(getTask('cifar10-ae', { backend }).normalizer(NaN), 1);
  assert.equal(getTask('text-lstm-lm', { backend }).normalizer(7.5), 7.5);
});

test('the language model masks padding: a target of all zeros gives zero loss and gradient', () => {
  const task = getTask('text-lstm-lm', { backend });
  const params = task.init(keyFromSeed(0));
  const batch = { obs: new Int32Array(2 * 32).fill(65), target: new Int32Array(2 * 32), batchSize: 2, sequenceLength: 32 };
  const { loss, grads } = task.lossAndGrad(params, batch);
  assert.equal(loss, 0);
  assert.ok(Object.values(grads).every((g) => g.data.every((v) => v === 0)));
  batch.target.fill(66);
  batch.target.fill(0, 40);
  const half = task.lossAndGrad(params, batch);
  assert.ok(Math.abs(half.loss - Math.log(256)) < 0.5, `${half.loss}`);
  assert.ok(half.grads['rnn_lm/initial_state/h'].data.some((v) => v !== 0));
});

test('a user text file trains the LM (--task-opt text=FILE)', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const file = join(mkdtempSync(join(tmpdir(), 'lopt-text-')), 'text.txt');
  writeFileSync(file, 'the quick brown fox jumps over the lazy dog. '.repeat(200));
  const task = getTask('text-lstm-lm', { text: file, batchSize: 4, backend });
  const batch = task.datasets.train.stream(keyFromSeed(0)).next();
  assert.equal(batch.obs.length, 4 * 32);
  assert.ok(Number.isFinite(task.loss(task.init(keyFromSeed(0)), batch)));
});
