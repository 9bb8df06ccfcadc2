import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDistributedCheckpoint } from '../../src/distributed/checkpoint.js';
import { CLI, startTestRun, until, updates } from './processes.js';
import { freePort, startRedis } from './redis-server.js';

const BASE = ['meta-train', '--lopt', 'learnable_lr_sgd', '--family', 'quadratic-family', '--num-tasks', '2', '--trunc-length', '2',
  '--inner-steps', '4', '--outer-steps', '2'];

function run(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
}

test('Redis unreachable: one line per retry, then one error line naming the URL, exit code 1, for every role', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-dist-cli-'));
  try {
    const port = await freePort();
    for (const role of ['learner', 'worker', 'evaluator']) {
      const r = run([...BASE, '--out', join(root, role), '--redis', `redis://:hunter2@127.0.0.1:${port}`, '--role', role, '--redis-retries', '3']);
      assert.equal(r.status, 1, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 3, r.stderr);
      assert.match(lines[0], new RegExp(`^lopt: Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} unreachable \\(.*ECONNREFUSED.*\\); attempt 1/3, retrying in 250 ms$`));
      assert.match(lines[1], /attempt 2\/3, retrying in 500 ms$/);
      assert.match(lines[2], new RegExp(`^lopt: error: Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} unreachable after 3 attempts \\(.*\\): start redis-server or fix --redis \\(3 attempts over 750 ms\\)$`));
      assert.ok(!r.stderr.includes('hunter2'));
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a wrong password: one error line at once (no retries), exit code 1, the password masked', async () => {
  const server = await startRedis({ password: 'right' });
  const root = mkdtempSync(join(tmpdir(), 'lopt-dist-cli-'));
  try {
    const r = run([...BASE, '--out', join(root, 'w'), '--redis', `redis://:hunter2@127.0.0.1:${server.port}`, '--role', 'worker']);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^lopt: error: Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${server.port} refused the credentials \\(WRONGPASS [^)]*\\): fix the password in --redis\n$`));
    assert.ok(!r.stderr.includes('hunter2'));
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test('Redis lost for good mid-run: every role gives up after the stated attempts and exits 1 (nothing left retrying); the learner checkpoints first', async () => {
  const run = await startTestRun({ runId: 'lost', seed: 6, dim: 2000, outerSteps: 1000, flags: ['--eval-every', '0', '--checkpoint-every', '0', '--redis-retries', '3'] });
  try {
    const worker = run.start('worker', 'worker', 'w');
    const learner = run.start('learner', 'learner', 'L');
    await until('three updates', () => updates(learner.out).length >= 3, 60_000);
    const url = run.server.url;
    await run.server.stop();
    for (const role of [learner, worker]) {
      assert.equal(await role.exited(30_000), 1, role.stderr());
      const last = role.stderr().trim().split('\n').at(-1)!;
      assert.match(last, new RegExp(`^lopt: error: Redis at ${url.replace(/[.]/g, '\\.')} unreachable after 3 attempts \\(.+\\): start redis-server or fix --redis \\(3 attempts over 750 ms\\)$`));
    }
    assert.ok(existsSync(join(learner.out, 'checkpoint', 'distributed.v8')));
    assert.ok(loadDistributedCheckpoint(join(learner.out, 'checkpoint')).snap.outerStep >= 3);
  } finally {
    await run.close();
  }
});

test('distributed flags: usage errors are one line with exit code 2', () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-dist-cli-'));
  try {
    const cases: [string[], RegExp][] = [
      [['--role', 'worker'], /--role, --staleness and --redis-ca belong to distributed runs: add --redis/],
      [['--redis', 'redis://127.0.0.1:1', '--role', 'boss'], /--role must be learner, worker or evaluator, got "boss"/],
      [['--redis', 'http://127.0.0.1:1'], /--redis must start with redis:\/\/ or rediss:\/\//],
      [['--redis', 'redis://127.0.0.1:1', '--run-id', 'a b'], /--run-id "a b" must be 1-64 letters/],
      [['--redis', 'rediss://127.0.0.1:1', '--redis-ca', join(root, 'missing.pem')], /--redis-ca .*missing\.pem: cannot read it \(ENOENT\)/],
      [['--redis', 'redis://127.0.0.1:1', '--resume'], /no distributed checkpoint in .*: nothing to resume/],
      [['--redis', 'redis://127.0.0.1:1', '--role', 'worker', '--resume'], /--resume is for the learner/],
      [['--redis', 'redis://127.0.0.1:1', '--max-minutes', '5'], /--max-minutes is for local runs, not with --redis/],
    ];
    for (const [extra, pattern] of cases) {
      const r = run([...BASE, '--out', join(root, 'x'), ...extra]);
      assert.equal(r.status, 2, `${extra.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
