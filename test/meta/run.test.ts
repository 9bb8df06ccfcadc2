import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { deserialize } from 'node:v8';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metaTrain, type MetaRunOptions } from '../../src/meta/run.js';
import { beatsBest, summarizeEval, type LearnerSnapshot } from '../../src/meta/learner.js';
import { loadTheta } from '../../src/meta/theta-file.js';
import { flattenParams } from '../../src/engine/tensor.js';

const base = (out: string): MetaRunOptions => ({
  out,
  problem: { lopt: 'small_fc_lopt', family: 'quadratic-family-noise', taskOptions: { dim: 6 } },
  estimator: 'pes', numTasks: 4, truncLength: 5, innerSteps: 12, std: 0.01, metaLr: 3e-3,
  outerSteps: 12, seed: 5, metaBatch: 2, evalEvery: 4, evalSeeds: 1, checkpointEvery: 4, metaLossAfterUpdate: false,
});

function thetaOf(file: string): Float32Array {
  return flattenParams(loadTheta(file).theta);
}

function trainRows(dir: string): string[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { innerStepsPerSec: _, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return JSON.stringify(rest);
  });
}

test('a stopped run and a crashed run, resumed, end with the same θ bit for bit as an uninterrupted run', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-meta-'));
  try {
    const full = await metaTrain(base(join(root, 'full')));
    assert.equal(full.outerSteps, 12);
    assert.equal(full.stopped, false);
    const expected = thetaOf(full.weights.latest);

    // Stopped (SIGINT-style) after 6 steps: a checkpoint is written on the way out.
    let steps = 0;
    const stopDir = join(root, 'stopped');
    const first = await metaTrain({ ...base(stopDir), onStep: () => { steps++; }, shouldStop: () => steps >= 6 });
    assert.equal(first.stopped, true);
    assert.equal(first.outerSteps, 6);
    await assert.rejects(metaTrain(base(stopDir)), /--resume/);
    await assert.rejects(metaTrain({ ...base(stopDir), seed: 6, resume: true }), /cannot resume: seed is 6/);
    const resumed = await metaTrain({ ...base(stopDir), resume: true });
    assert.equal(resumed.outerSteps, 12);
    assert.deepEqual(thetaOf(resumed.weights.latest), expected);
    assert.deepEqual(trainRows(stopDir), trainRows(join(root, 'full')));

    // Crashed after 7 steps: the last checkpoint (step 4) is resumed and steps 5..7 are redone.
    const crashDir = join(root, 'crashed');
    let n = 0;
    await assert.rejects(metaTrain({ ...base(crashDir), onStep: () => { if (++n === 7) throw new Error('killed'); } }), /killed/);
    const again = await metaTrain({ ...base(crashDir), resume: true });
    assert.deepEqual(thetaOf(again.weights.latest), expected);
    assert.deepEqual(trainRows(crashDir), trainRows(join(root, 'full')));
    assert.equal(again.initialEvalLoss, full.initialEvalLoss);
    assert.ok(full.initialEvalLoss !== null && full.bestEvalLoss !== null && full.bestEvalLoss <= full.initialEvalLoss);
    assert.deepEqual(thetaOf(again.weights.best!), thetaOf(full.weights.best!));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a run continues from its compact checkpoint alone (another machine): slots start fresh runs, the thinned log goes on', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-meta-'));
  try {
    const dir = join(root, 'run');
    let steps = 0;
    const first = await metaTrain({ ...base(dir), onStep: () => { steps++; }, shouldStop: () => steps >= 8 });
    assert.equal(first.outerSteps, 8);
    const thetaAt8 = thetaOf(first.weights.latest);
    const compactFile = join(dir, 'checkpoint', 'compact.v8');
    const compact = deserialize(readFileSync(compactFile)) as { snap: LearnerSnapshot };
    assert.ok(compact.snap.slots.every((s) => s.pos === null && s.neg === null && s.run >= 1), 'no inner state is kept');
    assert.deepEqual(compact.snap.accumulators, []);
    assert.ok(statSync(compactFile).size < statSync(join(dir, 'checkpoint', 'state.v8')).size / 4);
    // The new machine has what a commit carries: the compact checkpoint, θ files and the thinned log.
    rmSync(join(dir, 'checkpoint', 'state.v8'));
    rmSync(join(dir, 'metrics.jsonl'));
    const notices: string[] = [];
    const resumed = await metaTrain({ ...base(dir), outerSteps: 16, resume: true, onNotice: (m) => notices.push(m) });
    assert.equal(resumed.outerSteps, 16);
    assert.match(notices.join('\n'), /compact checkpoint/);
    assert.ok(thetaOf(resumed.weights.latest).every(Number.isFinite));
    assert.notDeepEqual(thetaOf(resumed.weights.latest), thetaAt8);
    const thin = readFileSync(join(dir, 'metrics-thin.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { outerStep: number; evalTask?: string });
    assert.deepEqual(thin.filter((r) => r.evalTask !== undefined).map((r) => r.outerStep), [0, 4, 8, 12, 16]);
    assert.deepEqual(thin.filter((r) => r.evalTask === undefined).map((r) => r.outerStep), [0]);
    assert.equal(resumed.initialEvalLoss, first.initialEvalLoss);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('metrics.jsonl rows and θ files carry the documented fields', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-meta-'));
  try {
    const dir = join(root, 'run');
    const result = await metaTrain({ ...base(dir), outerSteps: 4, problem: { lopt: 'learnable_lr_sgd', family: 'quadratic-family' }, estimator: 'tes' });
    const rows = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
    const train = rows.filter((r) => r.evalTask === undefined);
    const evals = rows.filter((r) => r.evalTask !== undefined);
    assert.deepEqual(train.map((r) => r.outerStep), [0, 1, 2, 3]);
    for (const r of train) {
      for (const key of ['outerStep', 'thetaVersion', 'metaLoss', 'gradNorm', 'innerStepsPerSec', 'nanCount']) assert.equal(typeof r[key], 'number', key);
      // At most 2 estimates × 4 slots × 2 copies × 5 steps; a step that resets a finished run trains nothing.
      assert.ok(Number(r.innerSteps) <= 80 && Number(r.innerSteps) >= 80 - 2 * 4 * 2, `${r.innerSteps}`);
    }
    assert.deepEqual(evals.map((r) => [r.outerStep, r.evalTask, r.evalSeed]), [[0, 'quadratic-family', 0], [4, 'quadratic-family', 0]]);
    for (const r of evals) assert.ok(Number.isFinite(r.evalScore) && typeof r.evalLoss === 'number', JSON.stringify(r));
    const latest = loadTheta(result.weights.latest);
    assert.equal(latest.optimizer, 'learnable_lr_sgd');
    assert.equal(latest.provenance.outerSteps, 4);
    assert.equal((latest.provenance.estimator as { kind: string }).kind, 'tes');
    assert.equal((latest.provenance.estimator as { numTasks: number }).numTasks, 4);
    assert.equal(latest.provenance.task, 'quadratic-family');
    assert.ok(result.innerStepsPerSec > 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the best θ is the one with the lowest mean score, so a mixture variant with small losses counts', () => {
  // An ImageNet MLP (loss ≈ 5, scale ln 200) and an autoencoder (loss ≈ 0.04, scale 0.06).
  const row = (loss: number, scale: number) => ({ evalLoss: loss, evalScore: loss / scale });
  const first = summarizeEval([row(5.0, Math.log(200)), row(0.045, 0.06)]);
  const second = summarizeEval([row(5.02, Math.log(200)), row(0.035, 0.06)]);
  assert.ok(second.loss > first.loss && second.score < first.score);
  const best = { theta: new Float32Array(1), evalLoss: first.loss, evalScore: first.score, outerStep: 0 };
  assert.equal(beatsBest(best, second), true);
  assert.equal(beatsBest({ ...best, evalScore: second.score }, first), false);
  assert.equal(beatsBest(null, first), true);
  // A best recorded before scores existed compares by its mean loss; rows without a score score their loss.
  const { evalScore: _, ...old } = best;
  assert.equal(beatsBest(old, summarizeEval([{ evalLoss: 2.6 }])), false);
  assert.equal(beatsBest(old, summarizeEval([{ evalLoss: 2.4 }])), true);
});
