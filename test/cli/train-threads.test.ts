// `lopt train --threads N`: one run on N threads (default: every core), the count in the summary, and a
// bad count refused with one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function lopt(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, LOPT_BACKEND: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const summaryOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);
const cifarRun = ['train', '--task', 'cifar10-conv', '--optimizer', 'adam', '--lr', '1e-3', '--steps', '3', '--batch-size', '16', '--backend', 'native', '--json'];

test('lopt train runs on every core by default and on --threads N when given', () => {
  const all = lopt(...cifarRun);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(summaryOf(all.stdout).threads, availableParallelism());
  assert.match(all.stdout, new RegExp(`\\(\\w+, ${availableParallelism()} threads?\\)`));
  const three = lopt(...cifarRun, '--threads', '3');
  assert.equal(three.code, 0, three.stderr);
  assert.equal(summaryOf(three.stdout).threads, 3);
});

test('the losses on 2 threads match one thread\'s to rounding (the convolutions\' filter gradients sum per thread)', () => {
  const one = summaryOf(lopt(...cifarRun, '--threads', '1').stdout);
  const two = summaryOf(lopt(...cifarRun, '--threads', '2').stdout);
  assert.equal(two.initialLoss, one.initialLoss);
  assert.ok(Math.abs(two.finalLoss - one.finalLoss) < 1e-4 * one.finalLoss, `${two.finalLoss} vs ${one.finalLoss}`);
});

test('--threads 0 is one error line naming the flag, and the usage exit code 2', () => {
  const run = lopt('train', '--task', 'fmnist-mlp', '--optimizer', 'sgd', '--threads', '0');
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--threads <n>.*expected a positive integer, got "0"/);
  assert.equal(run.stderr.trim().split('\n').length, 1);
});
