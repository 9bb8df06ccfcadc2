import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadDistributedCheckpoint } from '../../src/distributed/checkpoint.js';
import { loadTheta } from '../../src/meta/theta-file.js';
import { mean, rows, sleep, startTestRun, until, updates } from './processes.js';

const OUTER = 30;

test('the learner SIGKILLed mid-run and restarted with --resume: continues from its checkpoint, the same workers serve it, no job applied twice', async () => {
  const run = await startTestRun({ runId: 'resume', seed: 4, dim: 10000, outerSteps: OUTER, flags: ['--eval-every', '0', '--checkpoint-every', '5'] });
  const { start } = run;
  try {
    const w1 = start('worker 1', 'worker', 'w1');
    const w2 = start('worker 2', 'worker', 'w2');
    const L = join(run.root, 'learner');
    const first = start('learner', 'learner', 'learner');
    await until('twelve updates', () => updates(L).length >= 12, 60_000);
    first.child.kill('SIGKILL');
    assert.equal(await first.exited(5000), 'SIGKILL');
    const beforeKill = updates(L);
    assert.ok(existsSync(join(L, 'checkpoint', 'distributed.v8')));
    const checkpointed = loadDistributedCheckpoint(join(L, 'checkpoint')).snap.outerStep;
    assert.ok(checkpointed >= 10 && checkpointed % 5 === 0 && checkpointed <= beforeKill.length, `checkpoint at ${checkpointed}`);
    // The workers finish the jobs they hold meanwhile; their estimates are for θ that died with the learner.
    await sleep(500);

    // A fresh start on the folder is refused; --resume continues.
    const refused = start('fresh learner', 'learner', 'learner');
    assert.equal(await refused.exited(30_000), 2);
    assert.match(refused.stderr(), /already holds a run: add --resume/);
    const second = start('resumed learner', 'learner', 'learner', ['--resume']);
    assert.equal(await second.exited(90_000), 0, second.stderr());
    assert.equal(await w1.exited(30_000), 0, w1.stderr());
    assert.equal(await w2.exited(30_000), 0, w2.stderr());

    const summary = JSON.parse(second.stdout().trim().split('\n').at(-1)!) as Record<string, any>;
    assert.equal(summary.outerSteps, OUTER);
    // Results computed for the dead learner's θ are recognised by their tags and dropped.
    assert.ok(summary.dropped['unknown-theta'] >= 1, JSON.stringify(summary.dropped));

    const ups = updates(L);
    assert.deepEqual(ups.map((r) => r.outerStep), Array.from({ length: OUTER }, (_, i) => i));
    // Rows up to the checkpoint are kept as they were; the rest were cut and redone.
    assert.deepEqual(ups.slice(0, checkpointed), beforeKill.slice(0, checkpointed));
    const jobIds = ups.flatMap((r) => r.jobIds as string[]);
    assert.equal(new Set(jobIds).size, 2 * OUTER, 'a job id applied twice');
    // θ versions continue from the checkpoint.
    assert.deepEqual(ups.map((r) => r.thetaVersion), Array.from({ length: OUTER }, (_, i) => i));

    // The same two worker processes served both learners.
    for (const w of [w1, w2]) {
      const versions = rows(w.out).map((r) => r.thetaVersion as number);
      assert.ok(versions.some((v) => v < checkpointed) && versions.some((v) => v > checkpointed + 5), `${w.name}: ${versions}`);
    }
    const losses = ups.map((r) => r.metaLoss as number);
    assert.ok(mean(losses.slice(-5)) < 0.8 * mean(losses.slice(0, 5)), `meta-loss ${mean(losses.slice(0, 5))} → ${mean(losses.slice(-5))}`);
    const latest = loadTheta(join(L, 'theta-latest'));
    assert.equal(latest.provenance.outerSteps, OUTER);
  } finally {
    await run.close();
  }
});
