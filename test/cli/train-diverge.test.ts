// `lopt train` catches divergence (the rule of src/meta/divergence.ts): one stderr line, `diverged` and
// `divergedAt` in --json, the run stopped there unless --on-diverge continue, exit 3 with --fail-on-diverge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
// SGD at learning rate 1e3 on a small fmnist MLP: the loss jumps to hundreds and more (finite) and
// stays there, so the smoothed rule fires at step 101 (100 steps in a row above the threshold).
const DIVERGING = ['train', '--task', 'fmnist-mlp', '--optimizer', 'sgd', '--lr', '1e3', '--steps', '300', '--task-opt', 'width=16', '--json'];

function lopt(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, LOPT_BACKEND: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function lastJson(stdout: string) {
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

test('a diverging run stops at the step where it diverged, says so on stderr and in the JSON, exit 0', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'lopt-div-')), 'curve.csv');
  const run = lopt(...DIVERGING, '--out', out);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0], /^lopt: diverged at step 101: the smoothed loss \(exponential moving average, factor 0\.9\) stayed above \S+ \(the initial loss \S+ \+ 10%\) for 100 steps \(now \S+\); stopped there/);
  const summary = lastJson(run.stdout);
  assert.equal(summary.diverged, true);
  assert.equal(summary.divergedAt, 101);
  assert.equal(summary.steps, 300);
  assert.equal(summary.stepsDone, 101);
  // It really diverged: the loss ends hundreds of times above where it started.
  assert.ok(summary.finalLoss > 50 * summary.initialLoss, `final ${summary.finalLoss}, initial ${summary.initialLoss}`);
  const rows = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(rows.length, 1 + 101);
  // meanLoss covers the steps run.
  const losses = rows.slice(1).map((row) => Number(row.split(',')[1]));
  const mean = losses.reduce((a, b) => a + b, 0) / losses.length;
  assert.ok(Math.abs(summary.meanLoss - mean) <= 1e-6 * Math.abs(mean));
});

test('--fail-on-diverge exits 3; --on-diverge continue runs every step and still reports it', () => {
  const failed = lopt(...DIVERGING, '--fail-on-diverge');
  assert.equal(failed.code, 3, failed.stderr);
  assert.equal(lastJson(failed.stdout).divergedAt, 101);

  const continued = lopt(...DIVERGING, '--on-diverge', 'continue');
  assert.equal(continued.code, 0, continued.stderr);
  assert.equal(continued.stderr.trim().split('\n').length, 1, continued.stderr);
  assert.match(continued.stderr, /^lopt: diverged at step 101: .*; continued to step 300\n$/);
  const summary = lastJson(continued.stdout);
  assert.equal(summary.diverged, true);
  assert.equal(summary.divergedAt, 101);
  assert.equal(summary.stepsDone, 300);

  const both = lopt(...DIVERGING, '--on-diverge', 'continue', '--fail-on-diverge');
  assert.equal(both.code, 3, both.stderr);
  assert.equal(lastJson(both.stdout).stepsDone, 300);
});

test('a NaN loss diverges at its step; the rule\'s settings are flags', () => {
  const nan = lopt('train', '--task', 'fmnist-mlp', '--optimizer', 'sgd', '--lr', '1e10', '--steps', '300', '--task-opt', 'width=16', '--json');
  assert.equal(nan.code, 0, nan.stderr);
  const at = lastJson(nan.stdout).divergedAt;
  assert.ok(at >= 2 && at < 20, `diverged at ${at}`);
  assert.match(nan.stderr, new RegExp(`^lopt: diverged at step ${at}: the loss is (NaN|Infinity|-Infinity); stopped there`));

  const window = lopt(...DIVERGING, '--diverge-window', '20');
  assert.equal(lastJson(window.stdout).divergedAt, 21);
  const nanOnly = lopt(...DIVERGING, '--diverge-window', '0');
  assert.equal(nanOnly.stderr, '');
  const summary = lastJson(nanOnly.stdout);
  assert.equal(summary.diverged, false);
  assert.ok(!('divergedAt' in summary));
  assert.equal(summary.stepsDone, 300);
  const bad = lopt(...DIVERGING, '--diverge-smoothing', '1');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^lopt: error: --diverge-smoothing must be in \[0, 1\), got 1\n$/);
});

test('a run that does not diverge says diverged: false and runs every step', () => {
  const run = lopt('train', '--task', 'fmnist-mlp', '--optimizer', 'adam', '--lr', '1e-3', '--steps', '120', '--task-opt', 'width=16', '--json', '--fail-on-diverge');
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  const summary = lastJson(run.stdout);
  assert.equal(summary.diverged, false);
  assert.ok(!('divergedAt' in summary));
  assert.equal(summary.stepsDone, 120);
});
