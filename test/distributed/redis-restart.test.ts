import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rows, sleep, startRole, until, updates, type Role } from './processes.js';
import { startRedis, type RedisServer } from './redis-server.js';

const OUTER = 25;

test('Redis restarted empty mid-run: every role reconnects, the learner republishes the run, it completes', async () => {
  let server: RedisServer = await startRedis();
  const root = mkdtempSync(join(tmpdir(), 'lopt-dist-restart-'));
  const roles: Role[] = [];
  const args = (role: string) => [
    'meta-train', '--lopt', 'learnable_lr_sgd', '--family', 'quadratic-family', '--task-opt', 'dim=10000',
    '--num-tasks', '8', '--trunc-length', '20', '--inner-steps', '100', '--meta-lr', '0.05', '--outer-steps', String(OUTER),
    '--meta-batch', '2', '--seed', '5', '--eval-every', '0', '--workers', '1', '--reissue-after', '1500', '--redis-retries', '30',
    '--redis', server.url, '--run-id', 'restart', '--role', role, '--json',
  ];
  try {
    const worker = startRole('worker', args('worker'), join(root, 'w'));
    const learner = startRole('learner', args('learner'), join(root, 'L'));
    roles.push(worker, learner);
    await until('eight updates', () => updates(learner.out).length >= 8, 60_000);
    const port = server.port;
    await server.stop();
    await sleep(1000);
    server = await startRedis({ port });

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
    for (const r of roles) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
