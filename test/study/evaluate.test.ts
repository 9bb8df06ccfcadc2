import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyFromSeed } from '../../src/engine/random.js';
import { learned } from '../../src/learned/registry.js';
import { loadWeights } from '../../src/learned/weights.js';
import { canonicalJson, openResultsDb } from '../../src/study/db.js';
import { planEval, runEval, supersededRuns } from '../../src/study/evaluate.js';
import { handDesignedSpec } from '../../src/study/optimizer-spec.js';
import { RunPool } from '../../src/study/pool.js';

// No weights are shipped for the feature_mlp_lopt family (its options vary): evaluated untrained.
const UNTRAINED = 'feature_mlp_lopt[features=small_fc_lopt,hidden=4]';

test('evaluation: best settings, given or missing weights, Adam at 2x and 3x, curves stored with their runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-eval-'));
  const db = openResultsDb(join(dir, 'lopt.db'));
  const pool = new RunPool({ workers: 2, backend: 'auto' });
  try {
    const weightsFile = join(dir, 'fc.safetensors');
    const fc = learned.get('fc_lopt');
    learned.save(weightsFile, fc, fc.init(keyFromSeed(5)), { task: 'test' });
    const adamBest = handDesignedSpec('adam', { learningRate: 3e-3 }).hparams;
    for (const [optimizer, hparams] of [['adam', adamBest], ['sgd', handDesignedSpec('sgd', { learningRate: 0.1 }).hparams]] as const) {
      db.upsertBestConfig({ task: 'fmnist-mlp', optimizer, steps: 12, hparams: canonicalJson(hparams), mean_loss: 1, configs_tried: 1, configs_diverged: 0 });
    }
    const plan = planEval(db, {
      tasks: ['fmnist-mlp'], optimizers: ['sgd', 'adam', 'nadamw', 'fc_lopt', 'feature_mlp_lopt'], steps: 12, evalSeeds: 2,
      weights: { fc_lopt: weightsFile }, taskOpts: { width: 32 },
    });
    assert.equal(plan.missing.length, 1);
    assert.match(plan.missing[0], /^fmnist-mlp\/nadamw: no best configuration for 12 steps/);
    assert.deepEqual(plan.entries.map((e) => [e.spec.label, e.steps, e.stepMultiplier]), [
      ['sgd', 12, 1], ['adam', 12, 1], ['adam@2x', 24, 2], ['adam@3x', 36, 3], ['fc_lopt', 12, 1], [UNTRAINED, 12, 1],
    ]);
    assert.equal(plan.jobs.length, 12);
    assert.deepEqual([...new Set(plan.jobs.map((j) => j.seed))], [1000, 1001]);

    const result = await runEval(db, pool, plan.jobs, { where: { backend: 'native', machine: '{}' } });
    assert.equal(result.ran, 12);
    const runs = db.runs({ purpose: 'eval' });
    assert.equal(runs.length, 12);
    const byLabel = (label: string) => runs.filter((r) => r.label === label);
    assert.deepEqual(byLabel('adam@3x').map((r) => [r.optimizer, r.steps, r.step_multiplier, JSON.parse(r.hparams).learningRate]), [['adam', 36, 3, 3e-3], ['adam', 36, 3, 3e-3]]);
    assert.deepEqual(byLabel('fc_lopt').map((r) => [r.trained, r.weights]), [[1, loadWeights(weightsFile).sha256], [1, loadWeights(weightsFile).sha256]]);
    assert.deepEqual(byLabel(UNTRAINED).map((r) => [r.trained, r.weights]), [[0, 'untrained:0'], [0, 'untrained:0']]);
    assert.deepEqual(byLabel('sgd').map((r) => [r.trained, r.weights]), [[1, null], [1, null]]);
    for (const r of runs) {
      const curve = db.curve(r.id);
      assert.equal(curve.length, r.status === 'done' ? r.steps : curve.length);
      assert.deepEqual(curve.map((p) => p.step), Array.from({ length: curve.length }, (_, i) => i + 1));
      for (let i = 1; i < curve.length; i++) assert.ok(curve[i].wall_seconds >= curve[i - 1].wall_seconds);
      if (r.status === 'done') {
        const mean = curve.reduce((s, p) => s + (p.loss as number), 0) / curve.length;
        assert.ok(Math.abs(mean - (r.mean_loss as number)) < 1e-9 * Math.abs(mean), `${r.label}: curve mean ${mean} vs ${r.mean_loss}`);
        assert.equal(curve.at(-1)!.loss, r.final_loss);
      }
    }
    // The two seeds of one configuration differ (different data order and initialisation).
    assert.notEqual(byLabel('sgd')[0].mean_loss, byLabel('sgd')[1].mean_loss);
    assert.equal((await runEval(db, pool, plan.jobs, { where: { backend: 'native', machine: '{}' } })).ran, 0);
    assert.deepEqual(supersededRuns(db, plan.jobs), []);

    // A later search finds another best SGD: its old evaluation runs are superseded, curves and all.
    db.upsertBestConfig({ task: 'fmnist-mlp', optimizer: 'sgd', steps: 12, hparams: canonicalJson(handDesignedSpec('sgd', { learningRate: 0.01 }).hparams), mean_loss: 0.9, configs_tried: 2, configs_diverged: 0 });
    const replan = planEval(db, { tasks: ['fmnist-mlp'], optimizers: ['sgd', 'adam', 'fc_lopt'], steps: 12, evalSeeds: 2, weights: { fc_lopt: weightsFile }, taskOpts: { width: 32 } });
    const stale = supersededRuns(db, replan.jobs);
    assert.deepEqual(stale.map((r) => [r.label, JSON.parse(r.hparams).learningRate]), [['sgd', 0.1], ['sgd', 0.1]]);
    db.deleteRuns(stale.map((r) => r.id));
    assert.equal(db.curve(stale[0].id).length, 0);
    assert.equal((await runEval(db, pool, replan.jobs, { where: { backend: 'native', machine: '{}' } })).ran, 2);
    assert.deepEqual(db.runs({ purpose: 'eval', label: 'sgd' }).map((r) => JSON.parse(r.hparams).learningRate), [0.01, 0.01]);
  } finally {
    await pool.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
