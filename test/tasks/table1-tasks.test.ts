// The models of the paper's Table 1 (App. D.4) as tasks: resnet18-v2, resnet50-v2, transformer-byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseOptimizer } from '../../src/cli/optimizer-choice.js';
import { keyFromSeed } from '../../src/engine/random.js';
import { countParams } from '../../src/engine/tensor.js';
import { getOptimizer } from '../../src/optimizers/registry.js';
import { getTask } from '../../src/tasks/registry.js';
import { train } from '../../src/training/train.js';
import type { Task } from '../../src/tasks/task.js';
import { backendNamed } from '../fixtures/backends.js';

const backend = backendNamed('native');

/** BatchNorm moving means and variances in a model state (the counters aside). */
const statistics = (task: Task<unknown>): number =>
  Object.entries(task.modelState ?? {}).filter(([name]) => name.endsWith('/hidden')).reduce((sum, [, t]) => sum + t.data.length, 0);

const millions = (count: number): number => Math.round(count / 1e5) / 10;

test("parameter counts at the paper's settings (Table 1: 11.7M, 25.6M, 43.1M)", () => {
  const resnet18 = getTask('resnet18-v2', { backend });
  const resnet50 = getTask('resnet50-v2', { backend });
  const transformer = getTask('transformer-byte', { backend });
  assert.equal(countParams(resnet18.init(keyFromSeed(0))), resnet18.paramCount);
  // Trainable parameters (what the optimizer updates). ResNet-18 rounds to the paper's 11.7M; ResNet-50's
  // 25.55M rounds to 25.5M, and to the paper's 25.6M once BatchNorm's moving means and variances are
  // counted too (as a count of Haiku's params and state together would) — so does ResNet-18's.
  assert.equal(resnet18.paramCount, 11_687_720);
  assert.equal(resnet50.paramCount, 25_549_352);
  assert.equal(statistics(resnet18), 7_808);
  assert.equal(statistics(resnet50), 45_440);
  assert.equal(millions(resnet18.paramCount), 11.7);
  assert.equal(millions(resnet18.paramCount + statistics(resnet18)), 11.7);
  assert.equal(millions(resnet50.paramCount + statistics(resnet50)), 25.6);
  // The transformer: untied output layer, a position table of seqLen rows (src/tasks/transformer-byte.ts).
  assert.equal(transformer.paramCount, 43_118_848);
  assert.equal(millions(transformer.paramCount), 43.1);
  assert.equal(transformer.batchSize, 16);
  assert.equal(getTask('transformer-byte', { seqLen: 512, batchSize: 2, backend }).paramCount, 43_118_848 + 256 * 768);
  assert.equal(resnet18.batchSize, 128);
  assert.equal(resnet50.batchSize, 32);
  assert.ok(resnet50.flopsPerStep > 0 && transformer.flopsPerStep > 0);
});

test('the knobs: CIFAR-10 sizes, widths, a transformer of any shape; bad knobs are one clear error', () => {
  const small = getTask('resnet18-v2', { imageSize: 32, classes: 10, channelMult: 0.25, backend });
  const params = small.init(keyFromSeed(0));
  assert.deepEqual(params['resnet/initial_conv/w'].shape, [7, 7, 3, 16]);
  assert.deepEqual(params['resnet/logits/w'].shape, [128, 10]);
  assert.deepEqual(getTask('resnet50-v2', { channelMult: 0.25, backend }).init(keyFromSeed(0))['resnet/block_group_3/block_2/conv_2/w'].shape, [1, 1, 128, 512]);
  const tiny = getTask('transformer-byte', { seqLen: 8, batchSize: 2, layers: 1, width: 8, heads: 2, backend });
  assert.equal(tiny.paramCount, (256 * 8 + 8 * 8) + (2 * 16 + 4 * 72 + 8 * 32 + 32 + 32 * 8 + 8) + 16 + (8 * 256 + 256));
  assert.throws(() => getTask('transformer-byte', { width: 10, heads: 3, backend }), /width 10 is not a multiple of heads 3/);
  assert.throws(() => getTask('resnet18-v2', { imageSize: 0, backend }), /imageSize/);
  const synthetic = getTask('resnet50-v2', { imageSize: 24, classes: 7, batchSize: 2, backend });
  const batch = synthetic.datasets.train.stream(keyFromSeed(1)).next() as { image: { shape: number[] }; label: Int32Array };
  assert.deepEqual(batch.image.shape, [2, 24, 24, 3]);
  assert.ok(batch.label.every((l) => l >= 0 && l < 7));
  assert.throws(() => getTask('resnet18-v2', { imageSize: 16, classes: 10, backend }).loss(params, batch as never), /imageSize/);
});

test("BatchNorm's moving averages are the task's modelState: never parameters, updated by training, read by evaluation, reset by init", () => {
  const task = getTask('resnet18-v2', { imageSize: 16, classes: 10, channelMult: 0.125, batchSize: 8, backend });
  const params = task.init(keyFromSeed(0));
  const state = task.modelState!;
  assert.ok(Object.keys(params).every((name) => !name.includes('_ema') && !name.endsWith('/counter')));
  assert.ok(Object.keys(state).length > 0 && Object.keys(state).every((name) => !(name in params)));
  const batch = task.datasets.train.stream(keyFromSeed(1)).next();
  const before = task.loss(params, batch);
  assert.ok(Object.values(state).every((t) => t.data.every((v) => v === 0)), 'evaluation leaves the state alone');
  const { grads } = task.lossAndGrad(params, batch);
  assert.deepEqual(Object.keys(grads).sort(), Object.keys(params).sort());
  assert.equal(task.modelState!['resnet/final_batchnorm/counter'].data[0], 1);
  assert.ok(task.modelState!['resnet/final_batchnorm/var_ema/hidden'].data.some((v) => v > 0));
  // The logits start at zero (Haiku), so every loss is ln 10 until a step; the state still moved.
  assert.ok(Math.abs(before - Math.log(10)) < 1e-6);
  task.init(keyFromSeed(2));
  assert.ok(Object.values(task.modelState!).every((t) => t.data.every((v) => v === 0)), 'init resets the state');
});

for (const name of ['small_fc_lopt', 'adam']) {
  test(`a small ResNet-18 V2 learns CIFAR-10 (16x16) with ${name}`, () => {
    const task = getTask('resnet18-v2', { imageSize: 16, classes: 10, channelMult: 0.25, batchSize: 32, backend });
    // small_fc_lopt with the weights `lopt train --task resnet18-v2` picks: the general-purpose ones.
    const optimizer = name === 'adam'
      ? getOptimizer('adam', { learningRate: 3e-3 }, { backend })
      : chooseOptimizer({ name, hparams: {}, seed: 0, backend, task: 'resnet18-v2' }).optimizer;
    const result = train({ task, optimizer, steps: 60, seed: 0 });
    const mean = (from: number, to: number) => result.losses.slice(from, to).reduce((s, v) => s + v, 0) / (to - from);
    assert.ok(!result.diverged);
    assert.ok(mean(50, 60) < mean(0, 10) - 0.15, `first 10 steps ${mean(0, 10)}, last 10 ${mean(50, 60)}`);
  });
}

test('a small transformer-byte learns the text with Adam', () => {
  const task = getTask('transformer-byte', { seqLen: 32, batchSize: 8, layers: 2, width: 32, heads: 4, backend });
  const result = train({ task, optimizer: getOptimizer('adam', { learningRate: 3e-3 }, { backend }), steps: 60, seed: 0 });
  const mean = (from: number, to: number) => result.losses.slice(from, to).reduce((s, v) => s + v, 0) / (to - from);
  assert.ok(Math.abs(result.losses[0] - Math.log(256)) < 0.5, `initial loss ${result.losses[0]}`);
  assert.ok(mean(50, 60) < mean(0, 10) - 1, `first 10 steps ${mean(0, 10)}, last 10 ${mean(50, 60)}`);
});
