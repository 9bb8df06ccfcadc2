// scripts/tune-fan-in-step.mjs: small_fc_lopt's fan-in step scaling scored on whole runs of every
// paper-mix variant against Adam at 1e-3. The unscaled row must be the plain runs, a reference above
// every fan-in must change nothing, a reference below the autoencoder's 3072 inputs must change the
// autoencoders only, the best row must follow the criterion, and --ship must save the choice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBackend, learned, PAPER_MIX, tasks, train } from '../../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(root, 'scripts', 'tune-fan-in-step.mjs');
const general = join(root, 'pretrained', 'small_fc_lopt-general.safetensors');

test('tune-fan-in-step: plain unscaled runs, no change above every fan-in, only the autoencoders change at 2048, --ship saves the choice', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-fan-in-'));
  try {
    const shipped = join(dir, 'general.safetensors');
    const out = spawnSync(process.execPath, [script, '--weights', general, '--seeds', '1', '--steps', '4', '--refs', '2048,100000', '--powers', '2', '--ship', shipped], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const summary = JSON.parse(out.stdout.trim().split('\n').at(-1)!);
    const [plain, at2048, above] = summary.results;
    assert.deepEqual([plain.stepFanInRef, at2048.stepFanInRef, above.stepFanInRef], [0, 2048, 100000]);

    // The unscaled row is small_fc_lopt-general's own runs (seed 2000), the baseline Adam's too.
    const backend = getBackend();
    backend.setThreads?.(1);
    const { optimizer, theta } = learned.load(general, { backend, options: { stepFanInRef: 0 } });
    const first = tasks.get(PAPER_MIX[0].task, { backend, ...PAPER_MIX[0].knobs });
    assert.equal(plain.losses[0], train({ task: first, optimizer: optimizer.optFn(theta), steps: 4, seed: 2000 }).meanLoss);

    assert.deepEqual(above.losses, plain.losses);
    PAPER_MIX.forEach((variant, i) => {
      if (variant.task === 'cifar10-ae') assert.notEqual(at2048.losses[i], plain.losses[i], `${variant.task} must change`);
      else assert.equal(at2048.losses[i], plain.losses[i], `${variant.task} must not change`);
    });
    const lowest = Math.min(...summary.results.map((r: { worst: number }) => r.worst));
    assert.ok(summary.best.worst <= lowest + 0.001);

    const saved = learned.load(shipped);
    assert.equal(saved.optimizer.options.stepFanInRef, summary.best.stepFanInRef);
    assert.equal((saved.provenance.fanInStep as { stepFanInRef: number }).stepFanInRef, summary.best.stepFanInRef);
    assert.match(String(saved.provenance.reproduce), /tune-fan-in-step\.mjs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tune-fan-in-step: a bad grid exits 2 with the usage', () => {
  const out = spawnSync(process.execPath, [script, '--weights', general, '--powers', 'x'], { encoding: 'utf8' });
  assert.equal(out.status, 2);
  assert.match(out.stderr, /usage: node scripts\/tune-fan-in-step\.mjs/);
});
