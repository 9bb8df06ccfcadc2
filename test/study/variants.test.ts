import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend } from '../../src/engine/select.js';
import { loadWeights } from '../../src/learned/weights.js';
import { openResultsDb } from '../../src/study/db.js';
import { RunPool } from '../../src/study/pool.js';
import { TaskCache } from '../../src/study/run-job.js';
import { parseVariants, runVariants, variantDirName } from '../../src/study/variants.js';

test('parseVariants: feature sets at hidden 4, widths with small_fc_lopt features; bad parts are one clear error', () => {
  assert.deepEqual(parseVariants('features=adafact,m_0.9|hidden=2,8'), [
    { sweep: 'features', features: 'adafact', hidden: 4 },
    { sweep: 'features', features: 'm_0.9', hidden: 4 },
    { sweep: 'width', features: 'small_fc_lopt', hidden: 2 },
    { sweep: 'width', features: 'small_fc_lopt', hidden: 8 },
  ]);
  assert.throws(() => parseVariants('features=nope'), /unknown feature set "nope"/);
  assert.throws(() => parseVariants('hidden=0'), /positive integer/);
  assert.throws(() => parseVariants('depth=2'), /must be features=NAME/);
  assert.throws(() => parseVariants(''), /names no variant/);
});

test('runVariants: meta-trains for the stated budget, evaluates, writes the row; reruns skip; a finished meta-training is not redone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-variants-'));
  const db = openResultsDb(join(dir, 'lopt.db'));
  const pool = new RunPool({ workers: 1, backend: 'auto' });
  const backend = getBackend();
  try {
    const variants = parseVariants('features=m_0.9');
    const options = {
      task: 'fmnist-mlp', metaBudgetMinutes: 0.03, steps: 20, evalSeeds: 2, runsDir: join(dir, 'variants'), workers: 1,
      metaLr: 1e-3, metaSeed: 0, numTasks: 2, truncLength: 5, timing: { warmup: 0, rounds: 1, block: 1 },
      where: { backend: backend.name, machine: '{}' },
    };
    const started = Date.now();
    const first = await runVariants(db, pool, new TaskCache(backend), variants, options);
    assert.ok(Date.now() - started >= 0.03 * 60_000, 'meta-training ran for its budget');
    assert.deepEqual(first, { done: 1, remaining: 0 });
    const [row] = db.variants();
    const runDir = join(dir, 'variants', variantDirName(variants[0], 'fmnist-mlp', 0.03));
    assert.equal(row.run_dir, runDir);
    assert.equal(row.weights, join(runDir, 'theta-latest'));
    assert.ok(row.outer_steps >= 1);
    assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'study-variant.json'), 'utf8')).outerSteps, row.outer_steps);
    assert.equal(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').length, row.outer_steps);
    assert.deepEqual([row.sweep, row.features, row.hidden, row.task, row.meta_budget_minutes, row.seeds], ['features', 'm_0.9', 4, 'fmnist-mlp', 0.03, 2]);
    const runs = db.runs({ purpose: 'eval', label: 'feature_mlp_lopt[features=m_0.9,hidden=4]' });
    assert.deepEqual(runs.map((r) => [r.seed, r.trained, r.weights]), [1000, 1001].map((s) => [s, 1, loadWeights(row.weights).sha256]));
    const mean = runs.every((r) => r.status === 'done') ? runs.reduce((s, r) => s + (r.mean_loss as number), 0) / runs.length : null;
    assert.equal(row.mean_loss, mean);
    assert.ok(row.ms_per_step > 0 && row.overhead > 0);
    assert.equal(row.state_bytes_per_param, 4, "one momentum: one float per parameter");

    // Finished: nothing to do. Row lost but meta-training finished: evaluated again, not retrained.
    assert.deepEqual(await runVariants(db, pool, new TaskCache(backend), variants, options), { done: 0, remaining: 0 });
    const theta = statSync(row.weights).mtimeMs;
    db.db.prepare('DELETE FROM variants').run();
    const again = await runVariants(db, pool, new TaskCache(backend), variants, options);
    assert.deepEqual(again, { done: 1, remaining: 0 });
    assert.equal(statSync(row.weights).mtimeMs, theta);
    assert.equal(db.variants()[0].outer_steps, row.outer_steps);
    assert.equal(db.runs({ purpose: 'eval' }).length, 2, 'the evaluation runs were not repeated');
    assert.ok(existsSync(join(runDir, 'checkpoint')));
  } finally {
    await pool.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
