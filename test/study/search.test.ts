import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openResultsDb } from '../../src/study/db.js';
import { RunPool } from '../../src/study/pool.js';
import { chooseBest, groupStatus, pendingJobs, planSearch, recordBest, runSearch } from '../../src/study/search.js';

test('chooseBest: lowest mean over seeds; a diverged seed disqualifies and counts; ties keep the earlier', () => {
  const pick = chooseBest([
    { hparams: { lr: 1 }, losses: [0.5, null] },
    { hparams: { lr: 2 }, losses: [0.7, 0.9] },
    { hparams: { lr: 3 }, losses: [0.9, 0.7] },
    { hparams: { lr: 4 }, losses: [Number.NaN, 0.1] },
    { hparams: { lr: 5 }, losses: [1, 1] },
  ]);
  assert.deepEqual(pick, { best: { hparams: { lr: 2 }, meanLoss: 0.8 }, tried: 5, diverged: 2 });
  assert.deepEqual(chooseBest([{ hparams: {}, losses: [null] }]), { best: null, tried: 1, diverged: 1 });
  assert.deepEqual(chooseBest([]), { best: null, tried: 0, diverged: 0 });
});

test('search on real runs: diverged runs recorded and counted, best by mean over search seeds, resume skips', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-search-'));
  const db = openResultsDb(join(dir, 'lopt.db'));
  const pool = new RunPool({ workers: 2, backend: 'auto' });
  try {
    const plan = (lrs: number[]) => planSearch({
      tasks: ['fmnist-mlp'], optimizers: ['sgd', 'small_fc_lopt'], steps: 20, searchSeeds: 2, budget: () => lrs.length,
      lrGrid: lrs, taskOpts: { width: 32 },
    });
    // lr 1e10 overflows the parameters within a few steps: NaN losses.
    const groups = plan([1e-2, 1e-1, 1e10]);
    assert.equal(groups.length, 1, 'only hand-designed optimizers are searched');
    const [group] = groups;
    assert.deepEqual(group.seeds, [2000, 2001]);
    assert.equal(group.jobs.length, 6);
    assert.equal(recordBest(db, group), null, 'no best before the runs');

    const where = { backend: 'test', machine: '{}' };
    const result = await runSearch(db, pool, groups, { where });
    assert.equal(result.ran, 6);
    assert.equal(result.diverged, 2);
    const rows = db.runs({ purpose: 'search' });
    assert.equal(rows.length, 6);
    const diverged = rows.filter((r) => r.status === 'diverged');
    assert.deepEqual(diverged.map((r) => JSON.parse(r.hparams).learningRate), [1e10, 1e10]);
    for (const r of diverged) assert.ok(r.mean_loss === null && r.final_loss === null);
    for (const r of rows) assert.deepEqual(JSON.parse(r.task_opts), { width: 32 });

    const meanOf = (lr: number) => {
      const losses = rows.filter((r) => JSON.parse(r.hparams).learningRate === lr).map((r) => r.mean_loss as number);
      assert.equal(losses.length, 2);
      return (losses[0] + losses[1]) / 2;
    };
    const expected = meanOf(1e-2) < meanOf(1e-1) ? 1e-2 : 1e-1;
    const best = db.bestConfig('fmnist-mlp', 'sgd', 20)!;
    assert.deepEqual(JSON.parse(best.hparams), { learningRate: expected, gradClip: 0 });
    assert.ok(Math.abs(best.mean_loss - meanOf(expected)) < 1e-12);
    assert.equal(best.configs_tried, 3);
    assert.equal(best.configs_diverged, 1);

    // Rerunning finds nothing to do; a larger budget runs only the new configuration.
    assert.equal((await runSearch(db, pool, groups, { where })).ran, 0);
    const bigger = plan([1e-2, 1e-1, 1e10, 1e-3]);
    assert.equal(pendingJobs(db, bigger).length, 2);
    assert.equal(groupStatus(db, bigger[0]).complete, false);
    const again = await runSearch(db, pool, bigger, { where });
    assert.equal(again.ran, 2);
    assert.equal(db.runs({ purpose: 'search' }).length, 8);
    assert.equal(db.bestConfig('fmnist-mlp', 'sgd', 20)!.configs_tried, 4);
  } finally {
    await pool.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
