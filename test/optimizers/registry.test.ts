import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceBackend } from '../../src/engine/reference.js';
import type { Params } from '../../src/engine/tensor.js';
import { getOptimizer, OPTIMIZER_NAMES, optimizers } from '../../src/optimizers/registry.js';
import { backendTest, CTX, INIT, t } from './helpers.js';

const backend = referenceBackend;

function oneLineError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

test('the registry lists sgd, sgdm, adam, nadamw, adafactor', () => {
  assert.deepEqual([...optimizers.names], ['sgd', 'sgdm', 'adam', 'nadamw', 'adafactor']);
  assert.deepEqual([...OPTIMIZER_NAMES], [...optimizers.names]);
  for (const name of optimizers.names) {
    assert.ok(optimizers.has(name));
    assert.equal(typeof optimizers.describe(name), 'string');
    const opt = optimizers.get(name, {}, { backend });
    assert.equal(opt.name, name);
  }
  assert.ok(!optimizers.has('rmsprop'));
});

test('hyperparameter names and defaults', () => {
  const names = (n: string) => optimizers.hparams(n).map((s) => s.name);
  assert.deepEqual(names('sgd'), ['learningRate', 'gradClip']);
  assert.deepEqual(names('sgdm'), ['learningRate', 'momentum', 'nesterov', 'gradClip']);
  assert.deepEqual(names('adam'), ['learningRate', 'beta1', 'beta2', 'epsilon', 'gradClip']);
  assert.deepEqual(names('nadamw'), [
    'learningRate', 'beta1', 'beta2', 'epsilon', 'l2WeightDecay', 'adamwWeightDecay', 'useNesterov',
    'warmupFraction', 'constantFraction', 'minLearningRateMult', 'gradClip',
  ]);
  assert.deepEqual(names('adafactor'), [
    'learningRate', 'decayRate', 'epsilon', 'minDimSizeToFactor', 'clippingThreshold', 'multiplyByParameterScale', 'gradClip',
  ]);
  assert.equal(optimizers.defaults('sgd').learningRate, 0.1);
  assert.equal(optimizers.defaults('sgdm').learningRate, 0.01);
  assert.equal(optimizers.defaults('adam').learningRate, 1e-3);
  assert.equal(optimizers.defaults('nadamw').learningRate, 0.0011948335721160095);
  assert.equal(optimizers.defaults('adafactor').learningRate, 0.01);
  for (const name of optimizers.names) {
    assert.deepEqual({ ...optimizers.get(name, {}, { backend }).hparams }, optimizers.defaults(name));
  }
});

test('unknown optimizer names throw a one-line error listing the valid names', () => {
  oneLineError(() => optimizers.get('adamw'), /unknown optimizer "adamw"; valid: sgd, sgdm, adam, nadamw, adafactor/);
  oneLineError(() => getOptimizer('x', {}, { backend }), /unknown optimizer "x"/);
  oneLineError(() => optimizers.hparams('constructor'), /unknown optimizer "constructor"/);
});

test('unknown hyperparameters throw a one-line error listing the valid ones', () => {
  oneLineError(() => optimizers.get('adam', { beta3: 1 }, { backend }),
    /unknown hyperparameter "beta3" for optimizer adam; valid: learningRate \(alias lr\), beta1, beta2, epsilon, gradClip/);
  oneLineError(() => optimizers.get('sgd', { momentum: 0.9 }, { backend }), /unknown hyperparameter "momentum" for optimizer sgd/);
});

test('invalid values throw a one-line error', () => {
  oneLineError(() => optimizers.get('adam', { beta1: 1 }, { backend }), /invalid hyperparameter for adam: beta1 must be < 1 \(got 1\)/);
  oneLineError(() => optimizers.get('adam', { learningRate: -1 }, { backend }), /learningRate must be >= 0/);
  oneLineError(() => optimizers.get('adam', { learningRate: 'fast' }, { backend }), /learningRate must be a finite number \(got "fast"\)/);
  oneLineError(() => optimizers.get('sgdm', { nesterov: 'maybe' }, { backend }), /nesterov must be true or false/);
  oneLineError(() => optimizers.get('adafactor', { minDimSizeToFactor: 1.5 }, { backend }), /minDimSizeToFactor must be an integer/);
  oneLineError(() => optimizers.get('sgd', { learningRate: Number.NaN }, { backend }), /learningRate/);
  oneLineError(() => optimizers.get('sgd', { lr: 0.1, learningRate: 0.2 }, { backend }), /given twice/);
});

test('lr is an alias of learningRate; strings are coerced (CLI --hparam values)', () => {
  assert.equal(optimizers.get('adam', { lr: 0.5 }, { backend }).hparams.learningRate, 0.5);
  const hp = optimizers.resolve('nadamw', { lr: '3e-4', useNesterov: 'true', warmupFraction: '0.1' });
  assert.equal(hp.learningRate, 3e-4);
  assert.equal(hp.useNesterov, true);
  assert.equal(hp.warmupFraction, 0.1);
  assert.equal(hp.beta1, 0.9360043452616368);
  assert.deepEqual(optimizers.parseArgs('sgdm', ['lr=0.2', 'nesterov=false', 'momentum = 0.5']), {
    learningRate: 0.2, nesterov: false, momentum: 0.5,
  });
  oneLineError(() => optimizers.parseArgs('sgdm', ['lr']), /key=value/);
  oneLineError(() => optimizers.parseArgs('sgdm', ['foo=1']), /unknown hyperparameter "foo" for optimizer sgdm/);
});

backendTest('gradClip > 0 wraps with the gradient clip; stateBytes of every optimizer', (b) => {
  const params: Params = { w: t([2, 3], [1, 2, 3, 4, 5, 6]), b: t([3], [0, 0, 0]) };
  const expected: Record<string, number> = { sgd: 0, sgdm: 36, adam: 72, nadamw: 72, adafactor: 36 };
  for (const name of optimizers.names) {
    const plain = optimizers.get(name, {}, { backend: b });
    const clipped = optimizers.get(name, { gradClip: 3 }, { backend: b });
    assert.equal(plain.stateBytes(params), expected[name], `${name} stateBytes`);
    assert.equal(clipped.stateBytes(params), expected[name], `${name} clipped stateBytes`);
    assert.match(clipped.name, new RegExp(`^${name}\\+gradclip3$`));
    const state = clipped.update(clipped.init(params, INIT), { w: t([2, 3], [9, -9, 1, 1, 1, 1]), b: t([3], [1, 1, 1]) }, CTX);
    assert.equal(clipped.getParams(state).w.data.length, 6);
  }
  // Adafactor factored: (|v_row| + |v_col|)·4.
  const big: Params = { w: { shape: [256, 128], data: new Float32Array(256 * 128) } };
  assert.equal(optimizers.get('adafactor', {}, { backend: b }).stateBytes(big), 4 * (256 + 128));
});
