import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { openRedis, type RetryInfo } from '../../src/distributed/connect.js';
import { parseRedisUrl } from '../../src/distributed/redis-url.js';
import { RedisUnreachableError } from '../../src/distributed/retry.js';
import { freePort, startRedis, type RedisServer } from './redis-server.js';

// The PEM files live next to the test sources (tsc copies only .ts into dist/).
const tlsFile = (name: string) => fileURLToPath(new URL(`../../../test/distributed/tls/${name}`, import.meta.url));
const fast = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 80 };
const unreachable = (pattern: RegExp) => (e: unknown) => e instanceof RedisUnreachableError && pattern.test(e.message) && !e.message.includes('\n');

test('password-protected Redis: redis://:password@host works; a wrong or missing password is one clear error at once, never retried', async () => {
  const server = await startRedis({ password: 'p@ss word' });
  try {
    const link = await openRedis(parseRedisUrl(server.url));
    await link.ready;
    assert.equal(await link.client.set('k', 'v'), 'OK');
    assert.equal(await link.client.get('k'), 'v');
    await link.close();

    const retries: RetryInfo[] = [];
    const wrong = await openRedis(parseRedisUrl(`redis://:nope@127.0.0.1:${server.port}`), { retry: fast, onRetry: (r) => retries.push(r) });
    await assert.rejects(wrong.ready, (e: unknown) => unreachable(/refused the credentials \(WRONGPASS .*\): fix the password in --redis/)(e)
      && (e as Error).message.startsWith(`Redis at redis://:***@127.0.0.1:${server.port} `) && !(e as Error).message.includes('nope'));
    await assert.rejects(wrong.lost, RedisUnreachableError);
    assert.deepEqual(retries, [], 'a wrong password is not retried');
    await assert.rejects(wrong.client.ping(), /Connection is closed/);
    await wrong.close();

    const noneRetries: RetryInfo[] = [];
    const none = await openRedis(parseRedisUrl(`redis://127.0.0.1:${server.port}`), { retry: fast, onRetry: (r) => noneRetries.push(r) });
    await assert.rejects(none.ready, unreachable(/requires a password \(NOAUTH .*\): give it in --redis as redis:\/\/:PASSWORD@HOST:PORT/));
    assert.deepEqual(noneRetries, []);
    await none.close();
  } finally {
    await server.stop();
  }
});

test('Redis unreachable: retries with doubling delays, then one error naming the URL and the attempts; commands waiting fail', async () => {
  const port = await freePort();
  const seen: { attempt: number; delayMs: number }[] = [];
  const link = await openRedis(parseRedisUrl(`redis://:secret@127.0.0.1:${port}`), {
    retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 25 },
    onRetry: ({ attempt, delayMs, reason, maxAttempts }) => {
      seen.push({ attempt, delayMs });
      assert.match(reason, /ECONNREFUSED/);
      assert.equal(maxAttempts, 4);
    },
  });
  const queued = link.client.ping();
  await assert.rejects(link.ready, (e: unknown) => unreachable(/ECONNREFUSED.*\): start redis-server or fix --redis$/)(e)
    && (e as Error).message.startsWith(`Redis at redis://:***@127.0.0.1:${port} unreachable after 4 attempts (`) && !(e as Error).message.includes('secret'));
  assert.deepEqual(seen, [{ attempt: 1, delayMs: 10 }, { attempt: 2, delayMs: 20 }, { attempt: 3, delayMs: 25 }]);
  // Commands issued while connecting fail once the connection gives up, instead of waiting forever.
  await assert.rejects(queued, /Connection is closed/);
  assert.equal(link.client.status, 'end');
  await link.close();
});

test('a restarted Redis: commands issued during the outage are answered once it is back, on the same connection', async () => {
  let server: RedisServer = await startRedis();
  try {
    const retries: RetryInfo[] = [];
    const link = await openRedis(parseRedisUrl(server.url), { retry: { maxAttempts: 60, baseDelayMs: 50, maxDelayMs: 100 }, onRetry: (r) => retries.push(r) });
    await link.ready;
    await link.client.set('a', '1');
    const port = server.port;
    await server.stop();
    const during = link.client.incr('b');
    server = await startRedis({ port });
    assert.equal(await during, 1);
    assert.equal(link.client.status, 'ready');
    assert.ok(retries.length >= 1);
    assert.equal(retries[0].attempt, 1);
    // Once ready again, the attempts count from 1 for the next outage.
    await server.stop();
    const again = link.client.incr('b');
    server = await startRedis({ port });
    assert.equal(await again, 1);
    assert.equal(retries.filter((r) => r.attempt === 1).length, 2);
    await link.close();
  } finally {
    await server.stop();
  }
});

test('rediss:// with a password: TLS with the given CA; without it, an error that says to pass --redis-ca', async () => {
  const server = await startRedis({ password: 'tlspw', tls: { cert: tlsFile('server.pem'), key: tlsFile('server-key.pem'), ca: tlsFile('ca.pem') } });
  try {
    assert.ok(server.url.startsWith('rediss://'));
    const ca = readFileSync(tlsFile('ca.pem'));
    const link = await openRedis(parseRedisUrl(`rediss://:tlspw@localhost:${server.port}`, { ca }));
    await link.ready;
    assert.equal(await link.client.ping(), 'PONG');
    await link.close();
    const untrusted = await openRedis(parseRedisUrl(`rediss://:tlspw@localhost:${server.port}`), { retry: fast });
    await assert.rejects(untrusted.ready, unreachable(/unreachable after 3 attempts \(.*certificate.*\): give the CA of its certificate with --redis-ca/));
    await untrusted.close();
    // Plain TCP against a TLS port never becomes ready.
    const plain = await openRedis(parseRedisUrl(`redis://:tlspw@127.0.0.1:${server.port}`), { retry: fast, connectTimeoutMs: 1000 });
    await assert.rejects(plain.ready, unreachable(/unreachable after 3 attempts/));
    await plain.close();
  } finally {
    await server.stop();
  }
});

/** Connections the server has open, by name. */
async function clientNames(link: { client: { client(sub: 'LIST'): Promise<unknown> } }): Promise<string[]> {
  const list = String(await link.client.client('LIST'));
  return list.trim().split('\n').map((l) => /(?:^| )name=(\S*)/.exec(l)?.[1] ?? '');
}

test('BullMQ on a link: its duplicated connections share the password and the retry policy, leave with the link, and give up with it', async () => {
  const server = await startRedis({ password: 'pw' });
  try {
    const link = await openRedis(parseRedisUrl(server.url), { connectionName: 'lopt:test:main', retry: { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 40 } });
    await link.ready;
    const queue = new Queue('squares', { connection: link.client, prefix: 'test' });
    const seen: number[] = [];
    const worker = new Worker('squares', async (job) => {
      seen.push(job.data.n as number);
      return (job.data.n as number) ** 2;
    }, { connection: link.client, prefix: 'test', concurrency: 2, drainDelay: 1 });
    const done = new Map<string, unknown>();
    const all = new Promise<void>((resolve) => worker.on('completed', (job, value) => { done.set(job.id!, value); if (done.size === 30) resolve(); }));
    await queue.addBulk(Array.from({ length: 15 }, (_, n) => ({ name: 'sq', data: { n }, opts: { jobId: `a-${n}` } })));
    // The script cache emptied under BullMQ (as by a Redis restart): ioredis falls back to EVAL.
    await link.client.script('FLUSH');
    for (let n = 15; n < 30; n++) await queue.add('sq', { n }, { jobId: `a-${n}` });
    await all;
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 30 }, (_, n) => n));
    assert.equal(done.get('a-12'), 144);
    // The worker's blocking connection (BullMQ names it after the queue) authenticated with the link's password.
    const names = await clientNames(link);
    assert.ok(names.includes('lopt:test:main') && names.some((n) => n.startsWith('test:')), names.join(','));

    // Redis gone for good: the link gives up after the stated attempts, and closing it (BullMQ's
    // objects forced) leaves no connection retrying.
    const errors: string[] = [];
    worker.on('error', (e) => errors.push(e.message));
    queue.on('error', (e) => errors.push(e.message));
    await server.stop();
    await assert.rejects(link.lost, unreachable(/unreachable after 4 attempts/));
    assert.ok(errors.some((m) => /ECONNREFUSED/.test(m)), errors.join('; '));
    let alive: boolean | null = null;
    await link.close(async (a) => { alive = a; await worker.close(!a); await queue.close(); });
    assert.equal(alive, false);
    assert.equal(link.client.status, 'end');
    await assert.rejects(link.client.ping(), /Connection is closed/);
  } finally {
    await server.stop();
  }
});
