import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metaTrain } from '../../src/meta/run.js';
import { historyEntries, metaEvaluate, metaGenKey, readMetaGenRows } from '../../src/meta/meta-eval.js';
import { loadWeights } from '../../src/learned/weights.js';
import { learned } from '../../src/learned/registry.js';
import { getTask } from '../../src/tasks/registry.js';
import { train } from '../../src/training/train.js';
import { flattenParams } from '../../src/engine/tensor.js';

const cli = join(process.cwd(), 'dist/src/cli/main.js');

test('meta-training keeps θ at every evaluation; meta-eval trains other tasks with each and resumes', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-metagen-'));
  try {
    const out = join(root, 'run');
    await metaTrain({
      out, problem: { lopt: 'small_fc_lopt', family: 'quadratic-family-noise', taskOptions: { dim: 6 } },
      estimator: 'pes', numTasks: 2, truncLength: 5, innerSteps: 10, std: 0.01, metaLr: 3e-2,
      outerSteps: 6, seed: 3, metaBatch: 1, evalEvery: 3, evalSeeds: 1, checkpointEvery: 0, metaLossAfterUpdate: false,
    });
    const kept = historyEntries(out);
    assert.deepEqual(kept.map((e) => e.outerStep), [0, 3, 6]);
    // θ moved between evaluations, and the last kept θ is theta-latest.
    const thetas = kept.map((e) => flattenParams(loadWeights(e.file).theta));
    assert.notDeepEqual(thetas[0], thetas[2]);
    assert.deepEqual(thetas[2], flattenParams(loadWeights(join(out, 'theta-latest')).theta));

    let calls = 0;
    const rows = metaEvaluate({ runDir: out, tasks: ['quadratic', 'log-quadratic'], every: 3, steps: 30, onRow: () => { calls++; } });
    assert.equal(calls, 6);
    assert.equal(rows.length, 6);
    // A row is the mean training loss of a real run with that θ on the meta-generalization seed.
    const row = rows.find((r) => r.outerStep === 3 && r.evalTask === 'log-quadratic')!;
    const weights = loadWeights(kept[1].file);
    const lo = learned.get(weights.optimizer, weights.options);
    const direct = train({ task: getTask('log-quadratic'), optimizer: lo.optFn(weights.theta), steps: 30, key: metaGenKey(0) });
    assert.equal(row.evalLoss, direct.meanLoss);

    // Resume: nothing is redone; a second seed adds only the missing runs.
    assert.equal(metaEvaluate({ runDir: out, tasks: ['quadratic', 'log-quadratic'], every: 3, steps: 30 }).length, 6);
    const json = execFileSync(process.execPath, [cli, 'meta-eval', '--run', out, '--tasks', 'quadratic', '--every', '6', '--seeds', '2', '--steps', '30', '--json'], { encoding: 'utf8' });
    const summary = JSON.parse(json.trim().split('\n').at(-1)!) as { rows: unknown[] };
    assert.equal(readMetaGenRows(out).length, 8); // θ of steps 0 and 6, seed 1 only
    assert.equal(summary.rows.length, 5);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('meta-eval on a folder that is not a meta-training run says so in one line, exit 2', () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-metagen-bad-'));
  try {
    assert.deepEqual(readdirSync(root), []);
    try {
      execFileSync(process.execPath, [cli, 'meta-eval', '--run', root, '--tasks', 'quadratic'], { encoding: 'utf8', stdio: 'pipe' });
      assert.fail('expected a failure');
    } catch (error) {
      const e = error as { status: number; stderr: string };
      assert.equal(e.status, 2);
      assert.match(e.stderr, /not a meta-training run folder/);
      assert.equal(e.stderr.trim().split('\n').length, 1);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
