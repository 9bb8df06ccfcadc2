// `lopt train` with learned optimizers: lookup in both registries, options from --hparam, θ from
// --weights or an untrained initialisation (said on stderr), one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keyFromSeed } from '../../src/engine/random.js';
import { learned } from '../../src/learned/registry.js';
import { pretrainedWeightsPath } from '../../src/learned/weights.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const SMALL = ['--steps', '3', '--batch-size', '8', '--task-opt', 'width=16', '--json'];

function lopt(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, LOPT_BACKEND: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function lastJson(stdout: string) {
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

test('lopt train --optimizer small_fc_lopt without --weights uses the shipped pretrained weights', () => {
  const run = lopt('train', '--task', 'fmnist-mlp', '--optimizer', 'small_fc_lopt', ...SMALL);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  const summary = lastJson(run.stdout);
  assert.equal(summary.optimizer, 'small_fc_lopt');
  assert.equal(summary.theta, learned.pretrained('small_fc_lopt'));
  assert.equal(summary.metaParams, 197);
  assert.deepEqual(summary.metaTrainedOn, ['fmnist-mlp']);
  assert.deepEqual(summary.hparams, { hidden: 4, depth: 2, path: 'auto', stepWarmup: 0, stepBoost: 2, stepBoostSteps: 300, stepFanInRef: 0, stepFanInPower: 1 });
  assert.ok(Number.isFinite(summary.finalLoss));
  assert.ok(summary.stateBytes > 0);
});

test('a learned optimizer without shipped weights says it uses an untrained θ and trains', () => {
  assert.equal(learned.pretrained('nn_adam'), undefined);
  const run = lopt('train', '--task', 'fmnist-mlp', '--optimizer', 'nn_adam', ...SMALL);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /no pretrained weights are shipped for nn_adam yet; using an untrained initialisation of θ from seed 0/);
  assert.equal(run.stderr.trim().split('\n').length, 1);
  const summary = lastJson(run.stdout);
  assert.equal(summary.theta, 'untrained (seed 0)');
  assert.deepEqual(summary.metaTrainedOn, []);
  assert.equal(summary.metaParams, 6856);
  assert.ok(Number.isFinite(summary.finalLoss));
});

test('--weights FILE loads θ; native and reference agree', () => {
  const lo = learned.get('small_fc_lopt');
  const file = join(mkdtempSync(join(tmpdir(), 'lopt-cli-w-')), 'small.safetensors');
  learned.save(file, lo, lo.init(keyFromSeed(9)), { task: 'fmnist-mlp' });
  const native = lopt('train', '--task', 'fmnist-mlp', '--optimizer', 'small_fc_lopt', '--weights', file, ...SMALL, '--backend', 'native');
  const reference = lopt('train', '--task', 'fmnist-mlp', '--optimizer', 'small_fc_lopt', '--weights', file, ...SMALL, '--backend', 'reference');
  assert.equal(native.code, 0, native.stderr);
  assert.equal(reference.code, 0, reference.stderr);
  assert.equal(native.stderr, '');
  const a = lastJson(native.stdout);
  const b = lastJson(reference.stdout);
  assert.equal(a.theta, file);
  for (const field of ['initialLoss', 'finalLoss', 'meanLoss']) assert.ok(Math.abs(a[field] - b[field]) < 1e-4, `${field}: ${a[field]} vs ${b[field]}`);
});

test('feature_mlp_lopt takes its feature set and width from --hparam', () => {
  const run = lopt('train', '--task', 'fmnist-mlp', '--optimizer', 'feature_mlp_lopt', '--hparam', 'features=adafact_m_mul', '--hparam', 'hidden=8', ...SMALL);
  assert.equal(run.code, 0, run.stderr);
  const summary = lastJson(run.stdout);
  assert.deepEqual(summary.hparams, { features: 'adafact_m_mul', hidden: 8, depth: 2, path: 'auto' });
  assert.equal(summary.metaParams, learned.get('feature_mlp_lopt', { features: 'adafact_m_mul', hidden: 8 }).paramCount);
});

test('errors are one line with exit code 2', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'lopt-cli-w-')), 'fc.safetensors');
  learned.save(file, learned.get('fc_lopt'), learned.get('fc_lopt').init(keyFromSeed(0)));
  const cases: [string[], RegExp][] = [
    [['--optimizer', 'nope'], /unknown optimizer "nope"; valid: sgd, sgdm, adam, nadamw, adafactor \(hand-designed\), small_fc_lopt, .*fc_lopt.* \(learned\)/],
    [['--optimizer', 'small_fc_lopt', '--hparam', 'gamma=2'], /unknown option "gamma" for learned optimizer small_fc_lopt; valid: hidden, depth, path/],
    [['--optimizer', 'small_fc_lopt', '--hparam', 'hidden=0'], /hidden must be in \[1, 4096\]/],
    [['--optimizer', 'feature_mlp_lopt', '--hparam', 'features=nope'], /features must be one of small_fc_lopt, grads_time_p/],
    [['--optimizer', 'small_fc_lopt', '--lr', '0.1'], /--lr does not apply to small_fc_lopt/],
    [['--optimizer', 'adam', '--weights', file], /--weights applies to learned optimizers only/],
    [['--optimizer', 'small_fc_lopt', '--weights', file], /holds weights for fc_lopt, not small_fc_lopt/],
    [['--optimizer', 'fc_lopt', '--weights', file, '--hparam', 'hidden=8'], /hidden=32, not hidden=8/],
    [['--optimizer', 'small_fc_lopt', '--weights', '/nonexistent.safetensors'], /cannot read weights file/],
  ];
  for (const [args, pattern] of cases) {
    const run = lopt('train', '--task', 'fmnist-mlp', ...args, '--steps', '1');
    assert.equal(run.code, 2, `${args.join(' ')}: exit ${run.code}, stderr ${run.stderr}`);
    assert.match(run.stderr, pattern);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  }
});

test('small_fc_lopt with the fmnist weights on another task says so in one stderr line and in the JSON', () => {
  const shipped = learned.load(learned.pretrained('small_fc_lopt')!);
  assert.deepEqual(learned.metaTrainedOn(shipped.provenance), ['fmnist-mlp']);
  for (const [task, opts] of [['quadratic', []], ['cifar10-16-conv', ['--batch-size', '4', '--task-opt', 'channelMult=0.25']]] as const) {
    const run = lopt('train', '--task', task, '--optimizer', 'small_fc_lopt', '--weights', 'pretrained:small_fc_lopt', '--steps', '3', ...opts, '--json');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr,
      `lopt: small_fc_lopt's weights were meta-trained on fmnist-mlp, not ${task}: expect worse results or divergence (the paper's §4.5, meta-generalization)\n`);
    const summary = lastJson(run.stdout);
    assert.equal(summary.task, task);
    assert.deepEqual(summary.metaTrainedOn, ['fmnist-mlp']);
    assert.match(run.stdout, /^θ: .*small_fc_lopt\.safetensors, meta-trained on fmnist-mlp$/m);
  }
  // On fmnist-mlp: no such line (the first test checks that stderr is empty there).
  const home = lopt('train', '--task', 'fmnist-mlp', '--optimizer', 'small_fc_lopt', ...SMALL);
  assert.equal(home.code, 0, home.stderr);
  assert.doesNotMatch(home.stderr, /meta-trained on/);
  assert.deepEqual(lastJson(home.stdout).metaTrainedOn, ['fmnist-mlp']);
});

test('weights meta-trained on several tasks: every one is named; a file that names none warns nothing', () => {
  const lo = learned.get('small_fc_lopt');
  const dir = mkdtempSync(join(tmpdir(), 'lopt-cli-w-'));
  const several = join(dir, 'several.safetensors');
  learned.save(several, lo, lo.init(keyFromSeed(9)), { task: ['fmnist-mlp', 'imagenet16-mlp'] });
  assert.deepEqual(learned.metaTrainedOn(learned.load(several).provenance), ['fmnist-mlp', 'imagenet16-mlp']);
  const off = lopt('train', '--task', 'quadratic', '--optimizer', 'small_fc_lopt', '--weights', several, '--steps', '3', '--json');
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stderr, /^lopt: small_fc_lopt's weights were meta-trained on fmnist-mlp, imagenet16-mlp, not quadratic: expect worse results or divergence/);
  assert.equal(off.stderr.trim().split('\n').length, 1);
  assert.deepEqual(lastJson(off.stdout).metaTrainedOn, ['fmnist-mlp', 'imagenet16-mlp']);
  const on = lopt('train', '--task', 'fmnist-mlp', '--optimizer', 'small_fc_lopt', '--weights', several, ...SMALL);
  assert.equal(on.code, 0, on.stderr);
  assert.equal(on.stderr, '');

  const unknown = join(dir, 'unknown.safetensors');
  learned.save(unknown, lo, lo.init(keyFromSeed(9)), { command: 'made by hand' });
  const run = lopt('train', '--task', 'quadratic', '--optimizer', 'small_fc_lopt', '--weights', unknown, '--steps', '3', '--json');
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  assert.deepEqual(lastJson(run.stdout).metaTrainedOn, []);
});

test('small_fc_lopt without --weights on a task other than fmnist-mlp uses the shipped general-purpose weights', () => {
  const general = pretrainedWeightsPath('small_fc_lopt-general');
  assert.ok(general, 'pretrained/small_fc_lopt-general.safetensors is shipped');
  const mixture = ['paper-mix', 'fmnist-mlp', 'cifar10-16-conv', 'imagenet16-mlp', 'cifar10-ae', 'text-lstm-lm'];
  assert.deepEqual(learned.metaTrainedOn(learned.load(general).provenance), mixture);
  // A task of the mixture: the general file, named in the summary, and no warning.
  const conv = lopt('train', '--task', 'cifar10-16-conv', '--batch-size', '4', '--task-opt', 'channelMult=0.25', '--optimizer', 'small_fc_lopt', '--steps', '3', '--json');
  assert.equal(conv.code, 0, conv.stderr);
  assert.equal(conv.stderr, '');
  assert.equal(lastJson(conv.stdout).theta, general);
  assert.deepEqual(lastJson(conv.stdout).metaTrainedOn, mixture);
  assert.match(conv.stdout, /^θ: .*small_fc_lopt-general\.safetensors, meta-trained on paper-mix, fmnist-mlp, /m);
  // A task outside it: the general file still, and the one-line warning.
  const quadratic = lopt('train', '--task', 'quadratic', '--optimizer', 'small_fc_lopt', '--steps', '3', '--json');
  assert.equal(quadratic.code, 0, quadratic.stderr);
  assert.equal(lastJson(quadratic.stdout).theta, general);
  assert.match(quadratic.stderr, /^lopt: small_fc_lopt's weights were meta-trained on paper-mix, fmnist-mlp, .*text-lstm-lm, not quadratic: /);
  // By name: either shipped file; an unknown name is one usage error that lists them.
  const byName = lopt('train', '--task', 'fmnist-mlp', '--optimizer', 'small_fc_lopt', '--weights', 'pretrained:small_fc_lopt-general', ...SMALL);
  assert.equal(byName.code, 0, byName.stderr);
  assert.equal(lastJson(byName.stdout).theta, general);
  const unknown = lopt('train', '--task', 'fmnist-mlp', '--optimizer', 'small_fc_lopt', '--weights', 'pretrained:nope', '--steps', '1');
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr.trim(), 'lopt: error: no shipped weights named "nope"; small_fc_lopt ships pretrained:small_fc_lopt and pretrained:small_fc_lopt-general');
});
