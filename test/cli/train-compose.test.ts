// `lopt train --hparam` composition keys: clipGlobalNorm, gradClip (learned), schedule, warmupSteps,
// scheduleSteps, scheduleEnd, scheduleBoundaries, weightDecay, weightDecayMask — for hand-designed
// and learned optimizers — and their one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const RUN = ['train', '--task', 'fmnist-mlp', '--task-opt', 'width=16', '--steps', '20', '--batch-size', '16', '--json'];

function lopt(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, LOPT_BACKEND: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function summaryOf(...args: string[]) {
  const run = lopt(...RUN, ...args);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!);
}

test('hand-designed: the composition keys chain clipping, weight decay and a schedule around the optimizer', () => {
  const plain = summaryOf('--optimizer', 'adam', '--lr', '1e-2');
  const composed = summaryOf('--optimizer', 'adam', '--lr', '1e-2', '--hparam', 'clipGlobalNorm=1', '--hparam', 'schedule=cosine',
    '--hparam', 'warmupSteps=5', '--hparam', 'weightDecay=1e-4', '--hparam', 'weightDecayMask=*/w');
  assert.equal(composed.optimizer, 'clipGlobalNorm(1)+adam+weightDecay(0.0001 on */w)+schedule(cosine(1 → 0, warmup 5))');
  assert.deepEqual(composed.hparams, { clipGlobalNorm: 1, schedule: 'cosine', warmupSteps: 5, weightDecay: 1e-4, weightDecayMask: '*/w', learningRate: 1e-2 });
  assert.equal(composed.stateBytes, plain.stateBytes);
  assert.equal(composed.initialLoss, plain.initialLoss);
  assert.notEqual(composed.finalLoss, plain.finalLoss);
  assert.ok(Number.isFinite(composed.finalLoss) && composed.finalLoss < composed.initialLoss, `${composed.finalLoss} vs ${composed.initialLoss}`);
});

test('a step scale of 0 (piecewise 0:0) never moves the parameters: the losses of SGD with lr 0, learned optimizers too', () => {
  const frozen = summaryOf('--optimizer', 'sgd', '--lr', '0');
  const adamZero = summaryOf('--optimizer', 'adam', '--hparam', 'schedule=piecewise', '--hparam', 'scheduleBoundaries=0:0');
  const learnedZero = summaryOf('--optimizer', 'small_fc_lopt', '--hparam', 'schedule=piecewise', '--hparam', 'scheduleBoundaries=0:0');
  for (const field of ['initialLoss', 'finalLoss', 'meanLoss']) {
    assert.equal(adamZero[field], frozen[field], `adam ${field}`);
    assert.equal(learnedZero[field], frozen[field], `small_fc_lopt ${field}`);
  }
  // The other keys with a learned optimizer: split off from its options, shown in hparams.
  const learnedPlain = summaryOf('--optimizer', 'small_fc_lopt');
  const learnedComposed = summaryOf('--optimizer', 'small_fc_lopt', '--hparam', 'schedule=linear', '--hparam', 'warmupSteps=5',
    '--hparam', 'gradClip=0.1', '--hparam', 'clipGlobalNorm=5', '--hparam', 'weightDecay=1e-3', '--hparam', 'hidden=4');
  assert.deepEqual(learnedComposed.hparams, { hidden: 4, depth: 2, path: 'auto', stepWarmup: 0, stepBoost: 2, stepBoostSteps: 300, stepFanInRef: 0, stepFanInPower: 1, schedule: 'linear', warmupSteps: 5, gradClip: 0.1, clipGlobalNorm: 5, weightDecay: 1e-3 });
  assert.equal(learnedComposed.optimizer, 'clipGlobalNorm(5)+clipValue(0.1)+small_fc_lopt+weightDecay(0.001)+schedule(linear(1 → 0, warmup 5))');
  assert.equal(learnedComposed.stateBytes, learnedPlain.stateBytes);
  assert.notEqual(learnedComposed.meanLoss, learnedPlain.meanLoss);
  assert.ok(Number.isFinite(learnedComposed.finalLoss));
});

test('bad composition keys give one error line naming the key and the valid ones, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['--optimizer', 'adam', '--hparam', 'schedule=fast'], /schedule: must be one of constant, linear, cosine, piecewise \(got "fast"\)/],
    [['--optimizer', 'adam', '--hparam', 'clipGlobalNorm=-1'], /clipGlobalNorm: must be a finite number >= 0/],
    [['--optimizer', 'adam', '--hparam', 'warmupSteps=2.5'], /warmupSteps: must be an integer >= 0/],
    [['--optimizer', 'adam', '--hparam', 'scheduleEnd=0.1'], /scheduleEnd applies to schedule=linear or schedule=cosine/],
    [['--optimizer', 'adam', '--hparam', 'schedule=piecewise'], /needs scheduleBoundaries/],
    [['--optimizer', 'adam', '--hparam', 'schedule=piecewise', '--hparam', 'scheduleBoundaries=10-0.1'], /scheduleBoundaries: must be step:scale pairs/],
    [['--optimizer', 'adam', '--hparam', 'weightDecayMask=*/w'], /weightDecayMask needs weightDecay > 0/],
    [['--optimizer', 'adam', '--hparam', 'gamma=2'], /unknown hyperparameter "gamma" for optimizer adam; valid: learningRate .*gradClip; or a composition key: clipGlobalNorm, schedule, warmupSteps, scheduleSteps, scheduleEnd, scheduleBoundaries, weightDecay, weightDecayMask$/],
    [['--optimizer', 'small_fc_lopt', '--hparam', 'gamma=2'], /unknown option "gamma" for learned optimizer small_fc_lopt; valid: hidden, depth, path, stepWarmup, stepBoost, stepBoostSteps, stepFanInRef, stepFanInPower; or a composition key: clipGlobalNorm, gradClip, schedule/],
  ];
  for (const [args, pattern] of cases) {
    const run = lopt(...RUN, ...args);
    assert.equal(run.code, 2, `${args.join(' ')}: exit ${run.code}, stderr ${run.stderr}`);
    assert.match(run.stderr.trim(), pattern);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  }
});
