import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchJudge } from '../../src/distributed/batch-judge.js';
import { encodeEstimate, encodeEvalResult, type EstimateMessage } from '../../src/distributed/messages.js';

const T = (c: string) => c.repeat(16);
const estimate = (jobId: string, thetaVersion: number, thetaTag: string): EstimateMessage => ({
  kind: 'estimate', jobId, workerId: 'w-1', thetaVersion, thetaTag, fresh: false, reissued: false,
  attempt: 1, count: 2, grad: Float32Array.of(1, 2), metaLoss: 0.5, nanCount: 0, innerSteps: 10, seconds: 0.1,
});

function setup(applied: string[] = []) {
  const lines: string[] = [];
  const judge = new BatchJudge({ batchSize: 2, staleness: 1, applied, count: 2, log: (l) => lines.push(l) });
  return { judge, lines };
}

test('results that do not parse are rejected, counted and logged; valid ones come back parsed', () => {
  const { judge, lines } = setup();
  assert.equal(judge.parse({ payload: 'not json' }, 'forged-1'), null);
  assert.equal(judge.parse(encodeEstimate(estimate('1.0', 0, T('a'))), 'wrong-size-is-fine-here')?.kind, 'estimate');
  // A gradient of the wrong size for this θ is forged.
  assert.equal(judge.parse(encodeEstimate({ ...estimate('1.1', 0, T('a')), count: 3, grad: Float32Array.of(1, 2, 3) }), 'x'), null);
  const ev = judge.parse(encodeEvalResult({
    kind: 'eval', evaluatorId: 'ev-1', thetaVersion: 0, thetaTag: T('a'), outerStep: 0, evalTask: 'quadratic-family', rows: [{ evalSeed: 0, evalLoss: 1 }],
  }), 'e1.0');
  assert.equal(ev?.kind, 'eval');
  judge.reject();
  assert.equal(judge.totals.rejected, 3);
  assert.equal(lines.filter((l) => l.startsWith('rejected result')).length, 2);
  assert.match(lines[0], /forged-1/);
});

test('a batch collects estimates within the staleness bound, each job once; drops are counted per update and in total', () => {
  const { judge, lines } = setup(['0.9']);
  judge.publish(0, T('a'));
  judge.publish(1, T('b'));
  judge.publish(2, T('c'));
  assert.equal(judge.offer(estimate('0.9', 2, T('c'))), 'duplicate'); // applied before the restart
  assert.equal(judge.offer(estimate('1.0', 0, T('a'))), 'stale');
  assert.equal(judge.offer(estimate('1.1', 1, T('x'))), 'unknown-theta');
  assert.equal(judge.offer(estimate('1.2', 1, T('b'))), 'accepted');
  assert.equal(judge.offer(estimate('1.2', 1, T('b'))), 'duplicate'); // waiting in the batch
  assert.equal(judge.full(), false);
  assert.equal(judge.offer(estimate('1.3', 2, T('c'))), 'accepted');
  assert.equal(judge.full(), true);
  const first = judge.take();
  assert.deepEqual(first.batch.map((e) => e.jobId), ['1.2', '1.3']);
  assert.deepEqual(first.dropped, { duplicate: 2, stale: 1, 'unknown-theta': 1, rejected: 0 });
  assert.deepEqual(first.droppedJobs.map((d) => [d.jobId, d.verdict]), [['0.9', 'duplicate'], ['1.0', 'stale'], ['1.1', 'unknown-theta'], ['1.2', 'duplicate']]);
  assert.equal(lines.filter((l) => l.startsWith('dropped a second estimate')).length, 2);
  assert.deepEqual(judge.appliedIds().sort(), ['0.9', '1.2', '1.3']);
  // A batch applied: the next one's drops start from zero, the totals go on.
  assert.equal(judge.offer(estimate('1.3', 2, T('c'))), 'duplicate');
  judge.publish(3, T('d'));
  assert.equal(judge.offer(estimate('1.4', 2, T('c'))), 'accepted');
  assert.equal(judge.offer(estimate('1.5', 3, T('d'))), 'accepted');
  const second = judge.take();
  assert.deepEqual(second.dropped, { duplicate: 1, stale: 0, 'unknown-theta': 0, rejected: 0 });
  assert.deepEqual(first.dropped.duplicate, 2); // the first row's counts are its own
  assert.deepEqual(judge.totals, { duplicate: 3, stale: 1, 'unknown-theta': 1, rejected: 0 });
});
