import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function lopt(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, LOPT_BACKEND: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function lastJson(stdout: string) {
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

test('lopt train fmnist-mlp with Adam reaches a loss well below 1.0 in 300 steps (native)', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'lopt-cli-')), 'curve.csv');
  const run = lopt('train', '--task', 'fmnist-mlp', '--optimizer', 'adam', '--lr', '1e-3', '--steps', '300',
    '--eval-every', '150', '--backend', 'native', '--out', out, '--json');
  assert.equal(run.code, 0, run.stderr);
  const summary = lastJson(run.stdout);
  for (const field of ['task', 'optimizer', 'backend', 'steps', 'seed', 'initialLoss', 'finalLoss', 'meanLoss', 'msPerStep', 'stateBytes', 'validLoss', 'testLoss']) {
    assert.ok(field in summary, `missing ${field}`);
  }
  assert.equal(summary.backend, 'native');
  assert.match(String(summary.blas), /^OpenBLAS .*\(core \w+\)$/);
  assert.equal(summary.steps, 300);
  assert.equal(summary.stateBytes, 118282 * 8);
  assert.ok(summary.finalLoss < 0.8, `final loss ${summary.finalLoss}`);
  assert.ok(summary.validLoss < 0.7 && summary.testLoss < 0.75);
  assert.ok(summary.meanLoss < summary.initialLoss);
  const rows = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(rows[0], 'step,loss,valid_loss,test_loss');
  assert.equal(rows.length, 301);
  assert.equal(Number(rows[1].split(',')[1]).toFixed(5), summary.initialLoss.toFixed(5));
  assert.ok(rows[150].split(',')[2] !== '' && rows[149].split(',')[2] === '');
});

test('--backend reference gives the same losses as native on the first steps', () => {
  const args = ['train', '--task', 'fmnist-mlp', '--optimizer', 'adam', '--steps', '3', '--batch-size', '8',
    '--task-opt', 'width=16', '--hparam', 'beta1=0.8', '--seed', '4', '--json'];
  const native = lopt(...args, '--backend', 'native');
  const reference = lopt(...args, '--backend', 'reference');
  assert.equal(native.code, 0, native.stderr);
  assert.equal(reference.code, 0, reference.stderr);
  const a = lastJson(native.stdout);
  const b = lastJson(reference.stdout);
  assert.equal(b.backend, 'reference');
  for (const field of ['initialLoss', 'finalLoss', 'meanLoss']) {
    assert.ok(Math.abs(a[field] - b[field]) < 1e-4, `${field}: ${a[field]} vs ${b[field]}`);
  }
  assert.notEqual(a.initialLoss, a.finalLoss);
});

test('bad input gives one clear error line and exit code 2', () => {
  const cases: [string[], RegExp][] = [
    [['train', '--task', 'nope', '--optimizer', 'adam'], /unknown task "nope"/],
    [['train', '--task', 'fmnist-mlp', '--optimizer', 'nope'], /unknown optimizer "nope"/],
    [['train', '--task', 'fmnist-mlp', '--optimizer', 'adam', '--steps', 'ten'], /positive integer, got "ten"/],
    [['train', '--task', 'fmnist-mlp', '--optimizer', 'adam', '--lr', 'fast'], /expected a number, got "fast"/],
    [['train', '--task', 'fmnist-mlp', '--optimizer', 'adam', '--hparam', 'gamma=2'], /gamma/],
    [['train', '--task', 'fmnist-mlp', '--optimizer', 'adam', '--task-opt', 'width=0'], /width/],
    [['train', '--task', 'fmnist-mlp', '--optimizer', 'adam', '--backend', 'gpu'], /unknown backend "gpu"/],
  ];
  for (const [args, pattern] of cases) {
    const run = lopt(...args);
    assert.equal(run.code, 2, `${args.join(' ')}: exit ${run.code}, stderr ${run.stderr}`);
    assert.match(run.stderr, pattern);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  }
});

test('corrupt data in --data-dir is named with its fix; lopt data reports where data sets are', () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-data-'));
  mkdirSync(join(root, 'fashion-mnist'));
  writeFileSync(join(root, 'fashion-mnist', 'train-images-idx3-ubyte.gz'), 'not gzip at all');
  const run = lopt('train', '--task', 'fmnist-mlp', '--optimizer', 'sgd', '--steps', '1', '--data-dir', root);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /train-images-idx3-ubyte\.gz is not a valid IDX file.*--data-dir/);
  const data = lopt('data', '--json');
  assert.equal(data.code, 0, data.stderr);
  const report = lastJson(data.stdout);
  const fmnist = report.dataSets.find((d: { name: string }) => d.name === 'fashion-mnist');
  assert.equal(fmnist.found, true);
  assert.match(data.stdout, /fashion-mnist\s+found at/);
});

test('without the addon, auto falls back to the reference backend with one line; --backend native fails', () => {
  const env = { ...process.env, LOPT_BACKEND: '', LOPT_NATIVE_ADDON: '/nonexistent/lopt_native.node' };
  const args = ['train', '--task', 'fmnist-mlp', '--optimizer', 'sgd', '--steps', '2', '--batch-size', '4', '--task-opt', 'width=8', '--json'];
  const auto = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
  assert.equal(auto.status, 0, auto.stderr);
  assert.equal(lastJson(auto.stdout).backend, 'reference');
  assert.deepEqual(auto.stderr.trim().split('\n'), [auto.stderr.trim()]);
  assert.match(auto.stderr, /native backend unavailable .*not found.*using the reference backend/);
  const forced = spawnSync(process.execPath, [CLI, ...args, '--backend', 'native'], { encoding: 'utf8', env });
  assert.equal(forced.status, 2);
  assert.match(forced.stderr, /native backend cannot load/);
});
