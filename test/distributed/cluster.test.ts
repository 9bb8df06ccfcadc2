import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { openRedis } from '../../src/distributed/connect.js';
import { encodeEstimate, resultLimit } from '../../src/distributed/messages.js';
import { readThetaRecord } from '../../src/distributed/redis-read.js';
import { parseRedisUrl } from '../../src/distributed/redis-url.js';
import { loadTheta } from '../../src/meta/theta-file.js';
import { evals, mean, rows, sleep, startTestRun, until, updates } from './processes.js';

const OUTER = 40;

test('learner, two workers, an evaluator: a worker SIGKILLed mid-job, its job re-issued to a fresh estimator, forged results dropped, each job applied once, meta-loss lower', async () => {
  const run = await startTestRun({ runId: 'cluster', seed: 3, dim: 20000, outerSteps: OUTER, flags: ['--eval-every', '20', '--eval-seeds', '1'] });
  const { start } = run;
  const spy = await openRedis(parseRedisUrl(run.server.url));
  try {
    const a = start('worker A', 'worker', 'a');
    const b = start('worker B', 'worker', 'b');
    const ev = start('evaluator', 'evaluator', 'ev');
    const learner = start('learner', 'learner', 'learner');
    const L = learner.out;

    await until('six updates with worker A contributing', () => updates(L).length >= 6 && rows(a.out).length >= 2, 60_000);
    // Kill A while it holds a job: right after A finishes one, wait until both workers hold a job
    // (two active unroll jobs, one each at concurrency 1); a job takes ≥ 0.1 s to compute.
    await spy.ready;
    const unroll = new Queue('unroll', { connection: spy.client, prefix: 'lopt:cluster' });
    let holding = false;
    for (let tries = 0; tries < 20 && !holding; tries++) {
      const before = rows(a.out).length;
      await until('worker A to finish another job', () => rows(a.out).length > before, 20_000);
      for (let i = 0; i < 40 && !holding; i++) {
        holding = (await unroll.getActiveCount()) === 2;
        if (!holding) await sleep(5);
      }
    }
    await unroll.close();
    assert.ok(holding, 'never saw both workers holding a job');
    a.child.kill('SIGKILL');
    assert.equal(await a.exited(5000), 'SIGKILL');
    const completedByA = new Set(rows(a.out).map((r) => r.jobId as string));
    const idOfA = rows(a.out)[0].workerId as string;

    // A worker started with other settings is refused, naming the difference (exit code 2).
    const odd = start('odd worker', 'worker', 'odd', ['--num-tasks', '4']);

    // Forged and malformed results straight into the learner's queue.
    const results = new Queue('results', { connection: spy.client, prefix: 'lopt:cluster' });
    const current = (await readThetaRecord(spy.client, 'lopt:cluster:theta', 1))!;
    const applied = updates(L)[0].jobIds[0] as string;
    const forged = (jobId: string, tag: string) => encodeEstimate({
      kind: 'estimate', jobId, workerId: 'forger', thetaVersion: current.version, thetaTag: tag, fresh: false, reissued: false,
      attempt: 1, count: 1, grad: Float32Array.of(1000), metaLoss: 0, nanCount: 0, innerSteps: 1, seconds: 1,
    });
    await results.add('junk', { payload: 'not json' });
    await results.add('junk', { payload: `{"kind":"estimate","x":"${'x'.repeat(resultLimit(1))}"}` });
    await results.add('junk', { noPayload: true });
    await results.add('dup', forged(applied, current.tag));
    await results.add('unknown', forged('999.1', 'f'.repeat(16)));
    await results.close();

    assert.equal(await odd.exited(30_000), 2);
    assert.match(odd.stderr(), /settings differ from the learner of run "cluster": numTasks is 4 here but 8 at the learner/);

    assert.equal(await learner.exited(90_000), 0, learner.stderr());
    assert.equal(await b.exited(30_000), 0, b.stderr());
    assert.equal(await ev.exited(60_000), 0, ev.stderr());

    // The learner's summary and metrics.
    const summary = JSON.parse(learner.stdout().trim().split('\n').at(-1)!) as Record<string, any>;
    assert.equal(summary.outerSteps, OUTER);
    assert.ok(summary.dropped.rejected >= 3 && summary.dropped.duplicate >= 1 && summary.dropped['unknown-theta'] >= 1, JSON.stringify(summary.dropped));
    const ups = updates(L);
    assert.deepEqual(ups.map((r) => r.outerStep), Array.from({ length: OUTER }, (_, i) => i));
    const jobIds = ups.flatMap((r) => r.jobIds as string[]);
    assert.equal(jobIds.length, 2 * OUTER);
    assert.equal(new Set(jobIds).size, jobIds.length, 'a job id applied twice');
    for (const r of ups) {
      assert.deepEqual(r.estimates.map((e: any) => e.jobId), r.jobIds);
      for (const e of r.estimates) assert.ok(e.staleness >= 0 && e.staleness <= 2, `staleness ${e.staleness}`);
      for (const key of ['metaLoss', 'gradNorm', 'innerStepsPerSec', 'queueDepth', 'liveWorkers', 'maxStaleness']) assert.equal(typeof r[key], 'number', key);
    }
    const droppedJobs = ups.flatMap((r) => r.droppedJobs as { jobId: string; workerId: string; verdict: string }[]);
    assert.ok(droppedJobs.some((d) => d.jobId === applied && d.workerId === 'forger' && d.verdict === 'duplicate'));
    assert.ok(droppedJobs.some((d) => d.jobId === '999.1' && d.verdict === 'unknown-theta'));
    const log = learner.stderr();
    assert.match(log, /rejected result .*: result: not JSON/);
    assert.match(log, new RegExp(`rejected result .*: result: \\d+ characters, over the ${resultLimit(1)}-character limit`));
    assert.match(log, /rejected result .*: result: payload/);
    assert.match(log, new RegExp(`dropped a second estimate for job ${applied.replace('.', '\\.')} \\(from forger\\)`));

    // A's job in flight was re-issued and answered by a fresh estimator on B (flagged in both metrics).
    const idOfB = rows(b.out)[0].workerId as string;
    const estimates = ups.flatMap((r) => r.estimates as Record<string, any>[]);
    const reissued = estimates.filter((e) => e.reissued);
    assert.ok(reissued.length >= 1, 'no re-issued job was answered');
    for (const e of reissued) {
      assert.equal(e.workerId, idOfB);
      assert.equal(e.fresh, true);
      assert.ok(!completedByA.has(e.jobId));
    }
    assert.ok(rows(b.out).some((r) => r.reissued && r.fresh && r.jobId === reissued[0].jobId));
    assert.ok(estimates.some((e) => e.workerId === idOfA) && estimates.some((e) => e.workerId === idOfB));
    // Each worker's own estimator starts fresh once; after that its estimates continue its PES state.
    assert.equal(rows(b.out).filter((r) => r.fresh && !r.reissued).length, 1);

    // Meta-training worked: the meta-loss fell, and the evaluator saw the evaluation loss fall.
    const losses = ups.map((r) => r.metaLoss as number);
    const head = mean(losses.slice(0, 5));
    const tail = mean(losses.slice(-5));
    assert.ok(tail < 0.8 * head, `meta-loss ${head} → ${tail}`);
    const evRows = rows(ev.out);
    assert.deepEqual(evRows.map((r) => r.thetaVersion).sort((x, y) => x - y), [0, 20, 40]);
    const evalAt = (v: number) => evRows.find((r) => r.thetaVersion === v)!.evalLoss as number;
    assert.ok(evalAt(40) < evalAt(0), `evaluation loss ${evalAt(0)} → ${evalAt(40)}`);
    assert.deepEqual(evals(L).map((r) => [r.thetaVersion, r.evalLoss]).sort((x, y) => x[0] - y[0]), evRows.map((r) => [r.thetaVersion, r.evalLoss]).sort((x, y) => x[0] - y[0]));
    assert.ok(existsSync(join(L, 'theta-best')));
    const latest = loadTheta(join(L, 'theta-latest'));
    assert.equal(latest.provenance.outerSteps, OUTER);
    assert.ok(latest.theta.log_lr.data[0] > Math.log(1e-3), 'the learning rate went up');
  } finally {
    await spy.close();
    await run.close();
  }
});
