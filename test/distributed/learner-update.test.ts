import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricsRow, LearnerSnapshot } from '../../src/meta/learner.js';
import type { DistributedCheckpoint } from '../../src/distributed/checkpoint.js';
import type { EstimateMessage, EvalMessage } from '../../src/distributed/messages.js';
import { LearnerUpdate, type UpdateLearner, type UpdateRow } from '../../src/distributed/learner-update.js';
import type { PendingEval } from '../../src/distributed/theta-publisher.js';

const T = (c: string) => c.repeat(16);

/** A learner that records the gradients it is given and counts versions. */
function fakeLearner(count: number) {
  const grads: { grad: Float64Array; metaLoss: number; nanCount: number; innerSteps: number; seconds: number }[] = [];
  const snap = { outerStep: 0, thetaVersion: 0, theta: new Float32Array(count), best: null, totalInnerSteps: 0 } as unknown as LearnerSnapshot;
  const learner: UpdateLearner = {
    snap, taskName: 'quadratic-family',
    applyGradient: (est) => {
      grads.push(est);
      snap.outerStep++;
      snap.thetaVersion++;
      return { outerStep: snap.outerStep, thetaVersion: snap.thetaVersion, metaLoss: est.metaLoss, gradNorm: 1, innerStepsPerSec: 0, nanCount: est.nanCount, innerSteps: est.innerSteps, metaLr: 0.1 } satisfies MetricsRow;
    },
    snapshot: async () => structuredClone(snap),
  };
  return { learner, grads, snap };
}

const estimate = (jobId: string, thetaVersion: number, grad: number[], metaLoss: number, fresh = false): EstimateMessage => ({
  kind: 'estimate', jobId, workerId: `w-${jobId}`, thetaVersion, thetaTag: T('a'), fresh, reissued: false, attempt: 1,
  count: grad.length, grad: Float32Array.from(grad), metaLoss, nanCount: 1, innerSteps: 100, seconds: 0.5,
});

function setup(o: { evalEvery?: number; checkpointEvery?: number; outerSteps?: number } = {}) {
  const { learner, grads, snap } = fakeLearner(2);
  const rows: object[] = [];
  const updates: UpdateRow[] = [];
  const saved: DistributedCheckpoint[] = [];
  const latest: (number | null)[] = [];
  const best: { theta: number[]; evalLoss: number; outerStep: number }[] = [];
  const pending = new Map<number, PendingEval>();
  const lines: string[] = [];
  let now = 0n;
  const update = new LearnerUpdate({
    learner, metrics: { append: (...r) => { rows.push(...r); }, bytes: () => rows.length },
    appliedIds: () => ['x.1'],
    evals: {
      pendingEval: (v) => pending.get(v),
      forgetEval: async (v) => { pending.delete(v); },
      pendingEvals: () => [...pending].map(([version, e]) => ({ version, ...e })),
    },
    saveCheckpoint: (ck) => saved.push(ck), saveLatest: (l) => latest.push(l),
    saveBest: (theta, evalLoss, outerStep) => best.push({ theta: [...theta], evalLoss, outerStep }),
    log: (l) => lines.push(l), outerSteps: o.outerSteps ?? 4, evalEvery: o.evalEvery ?? 2, evalSeeds: 2,
    checkpointEvery: o.checkpointEvery ?? 3, onUpdate: (r) => updates.push(r), clock: () => now,
  });
  return { update, learner, grads, snap, rows, updates, saved, latest, best, pending, lines, tick: (s: number) => { now += BigInt(s * 1e9); } };
}

const noDrops = { duplicate: 0, stale: 0, 'unknown-theta': 0, rejected: 0 };

test('a batch is averaged into one gradient; the row lists its estimates, staleness and drops', () => {
  const { update, grads, rows, updates, tick } = setup();
  tick(2);
  const row = update.apply({
    batch: [estimate('1.0', 0, [1, 2], 1, true), estimate('1.1', 0, [3, -2], 3)],
    dropped: { ...noDrops, stale: 1 }, droppedJobs: [{ jobId: '0.5', workerId: 'w', verdict: 'stale' }],
  }, 4, 2);
  assert.deepEqual([...grads[0].grad], [2, 0]);
  assert.equal(grads[0].metaLoss, 2);
  assert.equal(grads[0].nanCount, 2);
  assert.equal(grads[0].innerSteps, 200);
  assert.equal(grads[0].seconds, 2);
  assert.deepEqual(row.jobIds, ['1.0', '1.1']);
  assert.deepEqual(row.estimates.map((e) => [e.staleness, e.innerStepsPerSec]), [[1, 200], [1, 200]]);
  assert.equal(row.maxStaleness, 1);
  assert.equal(row.freshCount, 1);
  assert.equal(row.queueDepth, 4);
  assert.equal(row.liveWorkers, 2);
  assert.equal(row.dropped.stale, 1);
  assert.deepEqual(rows, [row]);
  assert.deepEqual(updates, [row]);
  assert.equal(update.metaLoss, 2);
  assert.equal(update.innerStepsPerSec, 100);
});

test('when to evaluate, checkpoint and stop follow the outer step', () => {
  const { update } = setup({ evalEvery: 2, checkpointEvery: 3, outerSteps: 3 });
  const seen: [boolean, boolean, boolean][] = [];
  for (let k = 0; k < 3; k++) {
    update.apply({ batch: [estimate(`1.${k}`, k, [0, 0], 1)], dropped: noDrops, droppedJobs: [] }, 0, 1);
    seen.push([update.evalDue, update.checkpointDue, update.finished]);
  }
  // Step 1: nothing; step 2: evaluate; step 3: the last step is evaluated and checkpointed.
  assert.deepEqual(seen, [[false, false, false], [true, false, false], [true, true, true]]);
});

test('evaluations: recorded once, only for a θ published for evaluation on the run task and seeds; best θ and checkpoint follow', async () => {
  const { update, snap, pending, rows, saved, latest, best, lines } = setup();
  pending.set(0, { outerStep: 0, theta: Float32Array.of(1, 1), tag: T('a') });
  pending.set(2, { outerStep: 2, theta: Float32Array.of(2, 2), tag: T('b') });
  const ev = (over: Partial<EvalMessage> = {}): EvalMessage => ({
    kind: 'eval', evaluatorId: 'ev-1', thetaVersion: 0, thetaTag: T('a'), outerStep: 0, evalTask: 'quadratic-family',
    rows: [{ evalSeed: 1, evalLoss: 3 }, { evalSeed: 0, evalLoss: 5 }], ...over,
  });
  assert.equal(await update.recordEval(ev({ thetaTag: T('f') })), 'rejected');
  assert.equal(await update.recordEval(ev({ thetaVersion: 7 })), 'rejected');
  assert.equal(await update.recordEval(ev({ evalTask: 'other' })), 'rejected');
  assert.equal(await update.recordEval(ev({ rows: [{ evalSeed: 0, evalLoss: 1 }] })), 'rejected');
  assert.equal(rows.length, 0);
  assert.equal(await update.recordEval(ev()), 'recorded');
  assert.equal(rows.length, 2);
  assert.equal(update.initialEvalLoss, 4);
  assert.equal(update.lastEvalLoss, 4);
  assert.deepEqual(best, [{ theta: [1, 1], evalLoss: 4, outerStep: 0 }]);
  assert.equal(snap.best?.evalLoss, 4);
  assert.equal(pending.has(0), false);
  assert.equal(saved.length, 1);
  assert.deepEqual(saved[0].evaluated, [0]);
  assert.deepEqual(saved[0].evalThetas.map((e) => e.version), [2]);
  assert.deepEqual(saved[0].applied, ['x.1']);
  assert.equal(saved[0].metricsBytes, 2);
  assert.deepEqual(latest, [4]);
  assert.equal(await update.recordEval(ev()), 'ignored');
  assert.match(lines.at(-1)!, /second evaluation/);
  // A worse θ is recorded, but the best stays.
  assert.equal(await update.recordEval(ev({ thetaVersion: 2, thetaTag: T('b'), outerStep: 2, rows: [{ evalSeed: 0, evalLoss: 9 }, { evalSeed: 1, evalLoss: 9 }] })), 'recorded');
  assert.equal(update.lastEvalLoss, 9);
  assert.equal(update.initialEvalLoss, 4);
  assert.equal(best.length, 1);
  assert.deepEqual(latest, [4, 9]);
});

test('a resumed run starts from the checkpoint\'s evaluation record', async () => {
  const { learner } = fakeLearner(1);
  const saved: DistributedCheckpoint[] = [];
  const update = new LearnerUpdate({
    learner, metrics: { append: () => {}, bytes: () => 0 }, appliedIds: () => [],
    evals: { pendingEval: () => undefined, forgetEval: async () => {}, pendingEvals: () => [] },
    saveCheckpoint: (ck) => saved.push(ck), saveLatest: () => {}, saveBest: () => {}, log: () => {},
    outerSteps: 1, evalEvery: 0, evalSeeds: 2, checkpointEvery: 0,
    restored: { evaluated: [0, 5], initialEvalLoss: 7, lastEvalLoss: { version: 5, loss: 3 } },
  });
  assert.equal(update.initialEvalLoss, 7);
  assert.equal(update.lastEvalLoss, 3);
  assert.equal(update.evalDue, false);
  assert.equal(update.checkpointDue, false);
  assert.equal(await update.recordEval({
    kind: 'eval', evaluatorId: 'e', thetaVersion: 5, thetaTag: T('a'), outerStep: 5, evalTask: 'quadratic-family', rows: [],
  }), 'ignored');
  await update.saveState();
  assert.deepEqual(saved[0].evaluated, [0, 5]);
  assert.deepEqual(saved[0].lastEvalLoss, { version: 5, loss: 3 });
});
