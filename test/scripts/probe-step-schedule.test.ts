// scripts/probe-step-schedule.mjs: scaling every step of a learned optimizer by s(t) on the meta-training
// evaluation keys; s = 1 must reproduce the unscaled evaluation exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { learned, meta } from '../../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(root, 'scripts', 'probe-step-schedule.mjs');

test('probe-step-schedule: s = 1 equals the plain evaluation, a larger step helps a too-small learning rate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-probe-'));
  try {
    const lopt = learned.get('learnable_lr_sgd');
    const theta = { log_lr: { shape: [1], data: Float32Array.of(Math.log(0.01)) } };
    const file = join(dir, 'theta');
    learned.save(file, lopt, theta, { task: 'quadratic' });
    const out = spawnSync(process.execPath, [script, '--weights', file, '--seeds', '2', '--steps', '50', 'const:1', 'const:5', 'cos:5:1*early:2:10'], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const summary = JSON.parse(out.stdout.trim().split('\n').at(-1)!);
    const [plain, larger, composed] = summary.results;
    const options = { problem: { lopt: 'learnable_lr_sgd', loptOptions: {}, task: 'quadratic' }, seed: 12, evalSeeds: 2, innerSteps: 50 };
    const expected = meta.evaluateTheta(options as any, theta, { outerStep: 0, thetaVersion: 0 }).map((r) => r.evalLoss);
    assert.deepEqual(plain.losses, expected);
    assert.ok(larger.loss < plain.loss, `${larger.loss} vs ${plain.loss}`);
    assert.ok(composed.loss < plain.loss && composed.loss !== larger.loss);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('probe-step-schedule: an unknown schedule exits 2 naming it', () => {
  const out = spawnSync(process.execPath, [script, '--weights', join(root, 'pretrained', 'small_fc_lopt.safetensors'), 'warp:3'], { encoding: 'utf8' });
  assert.equal(out.status, 2);
  assert.match(out.stderr, /unknown schedule part "warp:3"/);
});
