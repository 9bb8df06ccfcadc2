// scripts/select-weights.mjs: candidates from runs with different seeds are scored on one common set
// of evaluation keys, and the lowest mean loss is picked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { learned } from '../../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('select-weights re-evaluates every run\'s theta-best on common keys and picks the lowest loss', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-select-'));
  try {
    const lopt = learned.get('learnable_lr_sgd');
    // SGD on Σx²: lr 0.3 converges fast, lr 1e-4 barely moves. The provenance losses say the opposite,
    // so a script that trusted them would pick the wrong run.
    const runs = [{ name: 'slow', lr: 1e-4, ownLoss: 0.001 }, { name: 'fast', lr: 0.3, ownLoss: 5 }];
    for (const run of runs) {
      mkdirSync(join(dir, run.name));
      learned.save(join(dir, run.name, 'theta-best'), lopt, { log_lr: { shape: [1], data: Float32Array.of(Math.log(run.lr)) } }, {
        task: 'quadratic', outerSteps: 10, evalLoss: run.ownLoss, estimator: { kind: 'pes', innerSteps: 50 },
      });
    }
    const out = spawnSync(process.execPath, [join(root, 'scripts', 'select-weights.mjs'), '--seeds', '2', join(dir, 'slow'), join(dir, 'fast')], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const summary = JSON.parse(out.stdout.trim().split('\n').at(-1)!);
    assert.equal(summary.best, join(dir, 'fast'));
    assert.equal(summary.candidates.length, 2);
    assert.ok(summary.candidates[0].loss < summary.candidates[1].loss);
    assert.equal(summary.candidates[0].losses.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('select-weights without a run holding a θ file exits 2 with its usage', () => {
  const out = spawnSync(process.execPath, [join(root, 'scripts', 'select-weights.mjs'), '/nonexistent/run'], { encoding: 'utf8' });
  assert.equal(out.status, 2);
  assert.match(out.stderr, /usage/);
});
