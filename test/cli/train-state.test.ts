// `lopt train --save-state F` / `--resume-state F`: a run stopped at step 10 (--stop-at) and resumed to
// --steps 20 reports the straight 20-step run's losses bit for bit; mismatches are one usage error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const DIR = mkdtempSync(join(tmpdir(), 'lopt-train-state-'));

function lopt(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, LOPT_BACKEND: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function lastJson(stdout: string) {
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

const BASE = ['train', '--task', 'fmnist-mlp', '--task-opt', 'width=16', '--json'];

for (const optimizer of [['--optimizer', 'adam'], ['--optimizer', 'nadamw'], ['--optimizer', 'small_fc_lopt']]) {
  test(`lopt train ${optimizer[1]}: --stop-at 10 --save-state, then --resume-state to 20 = the straight 20-step run`, () => {
    const name = optimizer[1];
    const state = join(DIR, `${name}.state`);
    const straightCsv = join(DIR, `${name}-straight.csv`);
    const resumedCsv = join(DIR, `${name}-resumed.csv`);
    const straight = lopt(...BASE, ...optimizer, '--steps', '20', '--eval-every', '10', '--out', straightCsv);
    assert.equal(straight.code, 0, straight.stderr);
    const first = lopt(...BASE, ...optimizer, '--steps', '20', '--stop-at', '10', '--eval-every', '10', '--save-state', state);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(lastJson(first.stdout).stepsDone, 10);
    assert.ok(existsSync(state));
    const resumed = lopt(...BASE, ...optimizer, '--resume-state', state, '--eval-every', '10', '--out', resumedCsv);
    assert.equal(resumed.code, 0, resumed.stderr);
    const a = lastJson(straight.stdout);
    const b = lastJson(resumed.stdout);
    assert.equal(b.steps, 20);
    assert.equal(b.stepsDone, 20);
    for (const field of ['initialLoss', 'finalLoss', 'meanLoss', 'validLoss', 'testLoss']) {
      assert.ok(Object.is(a[field], b[field]), `${field}: ${a[field]} vs ${b[field]}`);
    }
    assert.equal(readFileSync(resumedCsv, 'utf8'), readFileSync(straightCsv, 'utf8'));
  });
}

test('a task with a model state (BatchNorm moving averages): the resumed run evaluates as the straight one', () => {
  const resnet = ['train', '--task', 'resnet18-v2', '--task-opt', 'imageSize=32', '--task-opt', 'classes=10', '--task-opt', 'channelMult=0.0625',
    '--batch-size', '4', '--optimizer', 'adam', '--steps', '4', '--eval-every', '4', '--json'];
  const state = join(DIR, 'resnet.state');
  const straight = lopt(...resnet);
  assert.equal(straight.code, 0, straight.stderr);
  const first = lopt(...resnet, '--stop-at', '2', '--save-state', state);
  assert.equal(first.code, 0, first.stderr);
  const resumed = lopt(...resnet, '--resume-state', state);
  assert.equal(resumed.code, 0, resumed.stderr);
  const a = lastJson(straight.stdout);
  const b = lastJson(resumed.stdout);
  // Training losses use batch statistics; the evaluation uses the moving averages the state carried.
  for (const field of ['finalLoss', 'meanLoss', 'validLoss', 'testLoss']) assert.ok(Object.is(a[field], b[field]), `${field}: ${a[field]} vs ${b[field]}`);
});

test('lopt train --resume-state with another optimizer, settings, seed, task or --steps is one usage error', () => {
  const state = join(DIR, 'mismatch.state');
  const first = lopt(...BASE, '--optimizer', 'adam', '--lr', '0.01', '--steps', '6', '--stop-at', '3', '--save-state', state);
  assert.equal(first.code, 0, first.stderr);
  const cases: Array<[string[], RegExp]> = [
    [['--optimizer', 'sgdm', '--lr', '0.01'], /holds the state of optimizer adam, not sgdm/],
    [['--optimizer', 'adam', '--lr', '0.02'], /with learningRate=0\.01; this optimizer has learningRate=0\.02/],
    [['--optimizer', 'adam', '--lr', '0.01', '--seed', '1'], /seed 0, not 1 \(pass --seed 0\)/],
    [['--optimizer', 'adam', '--lr', '0.01', '--steps', '8'], /planned for 6 steps .*not 8/],
  ];
  for (const [args, pattern] of cases) {
    const run = lopt(...BASE, ...args, '--resume-state', state);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}`);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, pattern);
  }
  const otherTask = lopt('train', '--task', 'fmnist-mlp', '--task-opt', 'width=32', '--optimizer', 'adam', '--lr', '0.01', '--resume-state', state);
  assert.equal(otherTask.code, 2);
  assert.match(otherTask.stderr, /task options \{"width":16\}, not \{"width":32\}|other parameters|differ/);
});
