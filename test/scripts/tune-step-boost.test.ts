// scripts/tune-step-boost.mjs: small_fc_lopt's step boost scored on whole runs of the evaluation keys.
// The unboosted row must equal the plain evaluation, a boost of 1 must change nothing, a real boost
// must change the loss, and the best row must be the lowest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { learned, meta, random } from '../../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(root, 'scripts', 'tune-step-boost.mjs');

test('tune-step-boost: the unboosted row is the plain evaluation, a boost of 1 changes nothing, the best is the lowest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-boost-'));
  try {
    const lopt = learned.get('small_fc_lopt');
    const theta = lopt.init(random.keyFromSeed(5));
    const file = join(dir, 'theta');
    learned.save(file, lopt, theta, { task: 'quadratic', estimator: { kind: 'pes', innerSteps: 60 } });
    const out = spawnSync(process.execPath, [script, '--weights', file, '--seeds', '2', '--boosts', '1,3', '--boost-steps', '20'], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const summary = JSON.parse(out.stdout.trim().split('\n').at(-1)!);
    const [plain, one, three] = summary.results;
    assert.deepEqual([plain.stepBoost, plain.stepBoostSteps, one.stepBoost, three.stepBoost], [1, 0, 1, 3]);
    const options = { problem: { lopt: 'small_fc_lopt', loptOptions: {}, task: 'quadratic' }, seed: 12, evalSeeds: 2, innerSteps: 60 };
    const expected = meta.evaluateTheta(options as any, theta, { outerStep: 0, thetaVersion: 0 }).map((r) => r.evalLoss);
    assert.deepEqual(plain.losses, expected);
    assert.deepEqual(one.losses, plain.losses);
    assert.notDeepEqual(three.losses, plain.losses);
    const lowest = Math.min(...summary.results.map((r: { loss: number }) => r.loss));
    assert.equal(summary.best.loss, lowest);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tune-step-boost: a bad grid exits 2 with the usage', () => {
  const out = spawnSync(process.execPath, [script, '--weights', join(root, 'pretrained', 'small_fc_lopt.safetensors'), '--boosts', 'x'], { encoding: 'utf8' });
  assert.equal(out.status, 2);
  assert.match(out.stderr, /usage: node scripts\/tune-step-boost\.mjs/);
});
