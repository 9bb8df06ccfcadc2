import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed } from '../../src/engine/random.js';
import { countParams } from '../../src/engine/tensor.js';
import { getTask, taskNames } from '../../src/tasks/registry.js';
import { evaluateSplit } from '../../src/training/train.js';
import { backendNamed } from '../fixtures/backends.js';

test('fmnist-mlp has the paper\'s 118,282 parameters and LO\'s splits', () => {
  const task = getTask('fmnist-mlp', { backend: backendNamed('native') });
  assert.equal(task.paramCount, 118282);
  assert.equal(countParams(task.init(keyFromSeed(0))), 118282);
  assert.equal(task.batchSize, 128);
  const { train, valid, outerValid, test: testSplit } = task.datasets;
  assert.deepEqual([train.numExamples, valid.numExamples, outerValid!.numExamples, testSplit.numExamples], [48000, 6000, 6000, 10000]);
  // forward 2·128·(784·128 + 128·128 + 128·10), twice that for weight gradients, plus input gradients of layers 2-3.
  const forward = 2 * 128 * (784 * 128 + 128 * 128 + 128 * 10);
  assert.equal(task.flopsPerStep, 2 * forward + 2 * 128 * (128 * 128 + 128 * 10));
});

test('task knobs change the model; bad knobs and names give clear errors', () => {
  const wide = getTask('fmnist-mlp', { width: 256, depth: 3, batchSize: 32, backend: backendNamed('reference') });
  assert.equal(wide.paramCount, 784 * 256 + 256 + 2 * (256 * 256 + 256) + 256 * 10 + 10);
  assert.equal(wide.batchSize, 32);
  assert.throws(() => getTask('fmnist-mlp', { width: -3 } as never), /bad task option width/);
  assert.throws(() => getTask('fmnist-mlp', { colour: 1 } as never), /bad task option/);
  assert.throws(() => getTask('mnist-mlp'), /unknown task "mnist-mlp": choose one of .*fmnist-mlp/);
  assert.ok(taskNames().includes('fmnist-mlp'));
});

test('the normaliser clips to [0, 1.5 ln 10] (LO) or [0, ln 10] (paper) and maps NaN/Inf to the top', () => {
  const lo = getTask('fmnist-mlp', { backend: backendNamed('reference') });
  const paper = getTask('fmnist-mlp', { normalizerClip: 'paper', backend: backendNamed('reference') });
  assert.equal(lo.normalizer(1.2), 1.2);
  assert.ok(Math.abs(lo.normalizer(100) - 1.5 * Math.log(10)) < 1e-12);
  assert.ok(Math.abs(lo.normalizer(NaN) - 1.5 * Math.log(10)) < 1e-12);
  assert.ok(Math.abs(lo.normalizer(Infinity) - 1.5 * Math.log(10)) < 1e-12);
  assert.equal(lo.normalizer(-1), 0);
  assert.ok(Math.abs(paper.normalizer(3) - Math.log(10)) < 1e-12);
});

test('native and reference agree on loss and gradients of a real batch', () => {
  const native = getTask('fmnist-mlp', { batchSize: 4, backend: backendNamed('native') });
  const reference = getTask('fmnist-mlp', { batchSize: 4, backend: backendNamed('reference') });
  const params = native.init(keyFromSeed(1));
  const batch = native.datasets.train.stream(keyFromSeed(2)).next();
  const a = native.lossAndGrad(params, batch);
  const b = reference.lossAndGrad(params, batch);
  assert.ok(Math.abs(a.loss - b.loss) < 1e-5, `${a.loss} vs ${b.loss}`);
  assert.ok(Math.abs(a.loss - Math.log(10)) < 0.5);
  for (const name of Object.keys(a.grads)) {
    const ga = a.grads[name].data;
    const gb = b.grads[name].data;
    for (let i = 0; i < ga.length; i++) assert.ok(Math.abs(ga[i] - gb[i]) < 1e-5 + 1e-4 * Math.abs(gb[i]), `${name}[${i}]`);
  }
  const validLoss = evaluateSplit(native, params, native.datasets.valid);
  assert.ok(Math.abs(validLoss - Math.log(10)) < 0.5);
});

test('imagenet16-mlp has 379,848 parameters, 200 classes and the 40/5/5 per-class split', () => {
  const task = getTask('imagenet16-mlp', { backend: backendNamed('native') });
  assert.equal(task.paramCount, 379848);
  const { train, valid, test: testSplit, outerValid } = task.datasets;
  assert.deepEqual([train.numExamples, valid.numExamples, testSplit.numExamples], [8000, 1000, 1000]);
  assert.equal(outerValid, undefined);
  const params = task.init(keyFromSeed(0));
  const batch = train.stream(keyFromSeed(1)).next();
  assert.deepEqual(batch.image.shape, [128, 16, 16, 3]);
  assert.ok(Math.abs(task.loss(params, batch) - Math.log(200)) < 0.7);
  assert.ok(Math.abs(task.normalizer(1e9) - 1.5 * Math.log(200)) < 1e-12);
});
