import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTheta } from '../../src/meta/theta-file.js';
import { flattenParams } from '../../src/engine/tensor.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const ARGS = ['meta-train', '--lopt', 'small_fc_lopt', '--family', 'quadratic-family-noise', '--task-opt', 'dim=6',
  '--num-tasks', '4', '--trunc-length', '5', '--inner-steps', '30', '--meta-lr', '1e-3', '--outer-steps', '400',
  '--seed', '2', '--eval-every', '0', '--checkpoint-every', '0', '--workers', '2', '--json'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rows = (dir: string) => (existsSync(join(dir, 'metrics.jsonl')) ? readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').filter(Boolean).length : 0);

test('lopt meta-train: SIGTERM checkpoints, --resume finishes with the uninterrupted θ, --json last line', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-meta-cli-'));
  try {
    const full = join(root, 'full');
    const done = spawnSync(process.execPath, [CLI, ...ARGS, '--out', full], { encoding: 'utf8' });
    assert.equal(done.status, 0, done.stderr);
    const summary = JSON.parse(done.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    assert.equal(summary.outerSteps, 400);
    assert.equal(typeof summary.metaLoss, 'number');
    assert.ok((summary.innerStepsPerSec as number) > 0);
    assert.deepEqual(summary.weights, { latest: join(full, 'theta-latest'), best: null });

    const cut = join(root, 'cut');
    const child = spawn(process.execPath, [CLI, ...ARGS, '--out', cut], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => { stdout += String(d); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 400 && rows(cut) < 20; i++) await sleep(10);
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
    const stoppedAt = (JSON.parse(stdout.trim().split('\n').at(-1)!) as { outerSteps: number; stopped: boolean });
    assert.equal(stoppedAt.stopped, true);
    assert.ok(stoppedAt.outerSteps >= 20 && stoppedAt.outerSteps < 400, `stopped at ${stoppedAt.outerSteps}`);
    assert.ok(existsSync(join(cut, 'checkpoint', 'state.v8')));

    const resumed = spawnSync(process.execPath, [CLI, ...ARGS, '--out', cut, '--resume'], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    const theta = (dir: string) => flattenParams(loadTheta(join(dir, 'theta-latest')).theta);
    assert.deepEqual(theta(cut), theta(full));
    assert.equal(rows(cut), 400);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('lopt meta-train --max-minutes stops with a checkpoint and exit 0, saying how to continue', () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-meta-budget-'));
  try {
    const out = join(root, 'run');
    const args = ARGS.map((a) => (a === '400' ? '20000' : a));
    const first = spawnSync(process.execPath, [CLI, ...args, '--out', out, '--max-minutes', '0.01'], { encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    const summary = JSON.parse(first.stdout.trim().split('\n').at(-1)!) as { outerSteps: number; stopped: boolean };
    assert.equal(summary.stopped, true);
    assert.ok(summary.outerSteps > 0 && summary.outerSteps < 20000, `stopped at ${summary.outerSteps}`);
    assert.match(first.stdout, /stopped by --max-minutes 0.01; continue with --resume/);
    assert.equal(rows(out), summary.outerSteps);
    assert.ok(existsSync(join(out, 'checkpoint', 'state.v8')));
    const bad = spawnSync(process.execPath, [CLI, ...args, '--out', join(root, 'bad'), '--max-minutes', '0'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--max-minutes must be positive/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('lopt meta-train --init-weights starts a new run from another run\'s θ; wrong optimizer or --resume is refused', () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-meta-init-'));
  try {
    const first = join(root, 'first');
    const short = ARGS.map((a) => (a === '400' ? '5' : a));
    assert.equal(spawnSync(process.execPath, [CLI, ...short, '--out', first], { encoding: 'utf8' }).status, 0);
    const second = join(root, 'second');
    const staged = spawnSync(process.execPath, [CLI, ...short.map((a) => (a === '0' ? '1' : a)), '--out', second,
      '--init-weights', join(first, 'theta-latest')], { encoding: 'utf8' });
    assert.equal(staged.status, 0, staged.stderr);
    assert.doesNotMatch(staged.stderr, /takes θ only/, 'a θ saved without extra options drops nothing');
    const theta = (file: string) => flattenParams(loadTheta(file).theta);
    // --eval-every 1 keeps the starting θ as history/theta-0000000.
    assert.deepEqual(theta(join(second, 'history', 'theta-0000000')), theta(join(first, 'theta-latest')));
    const wrong = spawnSync(process.execPath, [CLI, ...short.map((a) => (a === 'small_fc_lopt' ? 'nn_adam' : a)), '--out', join(root, 'x'),
      '--init-weights', join(first, 'theta-latest')], { encoding: 'utf8' });
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /holds weights for small_fc_lopt, not nn_adam/);
    // A file whose options carry a behaviour (the shipped weights' step boost): the run says it leaves
    // it behind unless --hparam passes it on.
    const boosted = fileURLToPath(new URL('../../../pretrained/small_fc_lopt.safetensors', import.meta.url));
    const noted = spawnSync(process.execPath, [CLI, ...short, '--out', join(root, 'boosted'), '--init-weights', boosted], { encoding: 'utf8' });
    assert.equal(noted.status, 0, noted.stderr);
    assert.match(noted.stderr, /--init-weights takes θ only: the run does not use .*stepBoost=2, stepBoostSteps=300 \(pass --hparam stepBoost=2 --hparam stepBoostSteps=300/);
    const kept = spawnSync(process.execPath, [CLI, ...short, '--out', join(root, 'kept'), '--init-weights', boosted,
      '--hparam', 'stepBoost=2', '--hparam', 'stepBoostSteps=300'], { encoding: 'utf8' });
    assert.equal(kept.status, 0, kept.stderr);
    assert.doesNotMatch(kept.stderr, /takes θ only/);
    const both = spawnSync(process.execPath, [CLI, ...short, '--out', first, '--resume', '--init-weights', join(first, 'theta-latest')], { encoding: 'utf8' });
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--init-weights starts a new run/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
