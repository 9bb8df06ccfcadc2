import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RedisClient, RedisUnreachableError } from '../../src/distributed/redis-client.js';
import { parseRedisUrl } from '../../src/distributed/redis-url.js';
import { freePort, startRedis } from './redis-server.js';

// The PEM files live next to the test sources (tsc copies only .ts into dist/).
const tlsFile = (name: string) => fileURLToPath(new URL(`../../../test/distributed/tls/${name}`, import.meta.url));
const fast = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 80 };

test('password-protected Redis: redis://:password@host works, a wrong password is one clear error at once', async () => {
  const server = await startRedis({ password: 'p@ss word' });
  try {
    const client = new RedisClient(parseRedisUrl(server.url));
    await client.connect();
    assert.equal(await client.command(['SET', 'k', 'v']), 'OK');
    assert.equal(await client.command(['GET', 'k']), 'v');
    assert.deepEqual(await client.batch([['INCR', 'n'], ['INCR', 'k'], ['INCR', 'n']]).then((r) => r.map((x) => (x instanceof Error ? 'error' : x))), [1, 'error', 2]);
    client.disconnect();

    const retries: number[] = [];
    const wrong = new RedisClient(parseRedisUrl(`redis://:nope@127.0.0.1:${server.port}`), { retry: fast, onRetry: (r) => retries.push(r.attempt) });
    await assert.rejects(wrong.connect(), (e: unknown) =>
      e instanceof RedisUnreachableError && /refused the credentials/.test(e.message) && e.message.includes(`redis://:***@127.0.0.1:${server.port}`) && !e.message.includes('nope'));
    assert.deepEqual(retries, [], 'a wrong password is not retried');
    await assert.rejects(wrong.command(['PING']), /Connection is closed/);

    const none = new RedisClient(parseRedisUrl(`redis://127.0.0.1:${server.port}`));
    await none.connect();
    await assert.rejects(none.command(['GET', 'k']), /NOAUTH/);
    none.disconnect();
  } finally {
    await server.stop();
  }
});

test('Redis unreachable: retries with doubling delays, then one error naming the URL and the attempts', async () => {
  const port = await freePort();
  const seen: { attempt: number; delayMs: number }[] = [];
  const client = new RedisClient(parseRedisUrl(`redis://:secret@127.0.0.1:${port}`), {
    retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 25 },
    onRetry: ({ attempt, delayMs, reason }) => { seen.push({ attempt, delayMs }); assert.match(reason, /ECONNREFUSED/); },
  });
  const queued = client.command(['PING']);
  await assert.rejects(client.connect(), (e: unknown) => {
    const m = (e as Error).message;
    return e instanceof RedisUnreachableError && m.startsWith(`Redis at redis://:***@127.0.0.1:${port} unreachable after 4 attempts (`)
      && /ECONNREFUSED/.test(m) && /start redis-server or fix --redis/.test(m) && !m.includes('secret') && !m.includes('\n');
  });
  assert.deepEqual(seen, [{ attempt: 1, delayMs: 10 }, { attempt: 2, delayMs: 20 }, { attempt: 3, delayMs: 25 }]);
  // Commands issued while connecting fail with the same error.
  await assert.rejects(queued, RedisUnreachableError);
});

test('a restarted Redis: commands issued during the outage are answered once it is back', async () => {
  const server = await startRedis();
  let restarted: Awaited<ReturnType<typeof startRedis>> | null = null;
  try {
    const retries: number[] = [];
    const client = new RedisClient(parseRedisUrl(server.url), {
      retry: { maxAttempts: 60, baseDelayMs: 50, maxDelayMs: 100 }, onRetry: (r) => retries.push(r.attempt),
    });
    await client.connect();
    await client.command(['SET', 'a', '1']);
    await server.stop();
    const during = client.command(['INCR', 'b']);
    restarted = await startRedis({ port: server.port });
    assert.equal(await during, 1);
    assert.equal(client.status, 'ready');
    assert.ok(retries.length >= 1);
    client.disconnect();
  } finally {
    await server.stop();
    await restarted?.stop();
  }
});

test('rediss:// with a password: TLS with the given CA; without it, an error that says to pass --redis-ca', async () => {
  const server = await startRedis({ password: 'tlspw', tls: { cert: tlsFile('server.pem'), key: tlsFile('server-key.pem'), ca: tlsFile('ca.pem') } });
  try {
    assert.ok(server.url.startsWith('rediss://'));
    const ca = readFileSync(tlsFile('ca.pem'));
    const client = new RedisClient(parseRedisUrl(`rediss://:tlspw@localhost:${server.port}`, { ca }));
    await client.connect();
    assert.equal(await client.command(['PING']), 'PONG');
    client.disconnect();
    const untrusted = new RedisClient(parseRedisUrl(`rediss://:tlspw@localhost:${server.port}`), { retry: fast });
    await assert.rejects(untrusted.connect(), /unreachable after 3 attempts \(.*certificate.*\): give the CA of its certificate with --redis-ca/);
    // Plain TCP against a TLS port never becomes ready.
    const plain = new RedisClient(parseRedisUrl(`redis://:tlspw@127.0.0.1:${server.port}`), { retry: fast, connectTimeoutMs: 1000 });
    await assert.rejects(plain.connect(), RedisUnreachableError);
  } finally {
    await server.stop();
  }
});

test('disconnect, then connect at once (BullMQ resetting a blocked connection): the old socket cannot disturb the new one', async () => {
  const server = await startRedis();
  try {
    const client = new RedisClient(parseRedisUrl(server.url));
    const events: string[] = [];
    for (const e of ['ready', 'close', 'end']) client.on(e, () => events.push(e));
    await client.connect();
    for (let round = 0; round < 5; round++) {
      const blocked = client.command(['BLPOP', 'nothing', 5]);
      client.disconnect();
      await assert.rejects(blocked, /Connection is closed/);
      await client.connect();
      // The old socket closes while the new one works: replies stay matched to their commands.
      const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => client.command(['ECHO', `m${i}`])));
      assert.deepEqual(replies, Array.from({ length: 50 }, (_, i) => `m${i}`));
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(client.status, 'ready');
      assert.equal(await client.command(['PING']), 'PONG');
    }
    assert.deepEqual(events.slice(0, 4), ['ready', 'close', 'end', 'ready']);
    assert.equal(Number(await client.command(['CLIENT', 'LIST']).then((l) => String(l).trim().split('\n').length)), 1);
    client.disconnect();
  } finally {
    await server.stop();
  }
});

test('a reply larger than the limit drops the connection instead of being buffered', async () => {
  const server = await startRedis();
  try {
    const writer = new RedisClient(parseRedisUrl(server.url));
    await writer.connect();
    await writer.command(['SET', 'big', 'x'.repeat(200_000)]);
    const reader = new RedisClient(parseRedisUrl(server.url), { maxReplyBytes: 100_000, retry: fast });
    const errors: string[] = [];
    reader.on('error', (e: Error) => errors.push(e.message));
    await reader.connect();
    await assert.rejects(reader.command(['GET', 'big']), /Connection is closed/);
    assert.ok(errors.some((m) => /200000 bytes exceeds the 100000-byte limit/.test(m)), errors.join('; '));
    // It reconnects and small replies work again.
    assert.equal(await reader.command(['STRLEN', 'big']), 200_000);
    reader.disconnect();
    writer.disconnect();
  } finally {
    await server.stop();
  }
});
