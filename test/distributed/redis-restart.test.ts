import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rows, startTestRun, until, updates } from './processes.js';

const OUTER = 25;

test('Redis restarted empty mid-run: every role reconnects, the learner republishes the run, it completes', async () => {
  const run = await startTestRun({ runId: 'restart', seed: 5, dim: 10000, outerSteps: OUTER, flags: ['--eval-every', '0', '--redis-retries', '30'] });
  try {
    const worker = run.start('worker', 'worker', 'w');
    const learner = run.start('learner', 'learner', 'L');
    await until('eight updates', () => updates(learner.out).length >= 8, 60_000);
    const port = run.server.port;
    await run.restartRedis(1000);

    assert.equal(await learner.exited(90_000), 0, learner.stderr());
    assert.equal(await worker.exited(30_000), 0, worker.stderr());
    for (const r of [learner, worker]) assert.match(r.stderr(), new RegExp(`Redis at redis://127\\.0\\.0\\.1:${port} unreachable \\(.*\\); attempt 1/30`));
    assert.match(learner.stderr(), /run "restart" was missing from Redis at .*; publishing it again/);
    const ups = updates(learner.out);
    assert.deepEqual(ups.map((r) => r.outerStep), Array.from({ length: OUTER }, (_, i) => i));
    const jobIds = ups.flatMap((r) => r.jobIds as string[]);
    assert.equal(new Set(jobIds).size, 2 * OUTER);
    // The worker served θ from before and after the outage.
    const versions = rows(worker.out).map((r) => r.thetaVersion as number);
    assert.ok(versions.some((v) => v < 8) && versions.some((v) => v > 15), String(versions));
  } finally {
    await run.close();
  }
});
