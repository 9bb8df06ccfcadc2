import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, Worker } from 'bullmq';
import { BullRedisClient } from '../../src/distributed/bullmq-client.js';
import { parseRedisUrl } from '../../src/distributed/redis-url.js';
import { startRedis } from './redis-server.js';

test('BullMQ runs on lopt\'s own Redis client: jobs, results, scripts reloaded after SCRIPT FLUSH, pipelines, scans', async () => {
  const server = await startRedis({ password: 'pw' });
  const client = new BullRedisClient(parseRedisUrl(server.url));
  try {
    await client.connect();
    const queue = new Queue('squares', { connection: client, prefix: 'test' });
    const seen: number[] = [];
    const worker = new Worker('squares', async (job) => {
      seen.push(job.data.n as number);
      if (job.data.n === 7) throw new Error('seven fails');
      return { square: (job.data.n as number) ** 2, attempts: job.attemptsStarted };
    }, { connection: client, prefix: 'test', concurrency: 2, drainDelay: 1 });
    const done = new Map<string, unknown>();
    const failed = new Map<string, string>();
    const all = new Promise<void>((resolve) => {
      const check = () => { if (done.size + failed.size === 40) resolve(); };
      worker.on('completed', (job, value) => { done.set(job.id!, value); check(); });
      worker.on('failed', (job, error) => { failed.set(job!.id!, error.message); check(); });
    });
    await queue.addBulk(Array.from({ length: 20 }, (_, n) => ({ name: 'sq', data: { n }, opts: { jobId: `a-${n}` } })));
    // The script cache emptied under BullMQ (as by a Redis restart): EVALSHA falls back to EVAL.
    await client.raw.command(['SCRIPT', 'FLUSH']);
    for (let n = 20; n < 40; n++) await queue.add('sq', { n }, { jobId: `a-${n}` });
    await all;
    assert.equal(done.size, 39);
    assert.deepEqual(done.get('a-12'), { square: 144, attempts: 1 });
    assert.deepEqual([...failed], [['a-7', 'seven fails']]);
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 40 }, (_, n) => n));
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active');
    assert.deepEqual(counts, { completed: 39, failed: 1, waiting: 0, active: 0 });
    const job = await queue.getJob('a-3');
    assert.deepEqual(job?.returnvalue, { square: 9, attempts: 1 });

    // Pipelines and transactions answer [error, value] pairs in order.
    const p = await client.pipeline().hset('h', { a: '1', b: 2 }).hgetall('h').llen('nolist').del('h').exec();
    assert.deepEqual(p, [[null, 2], [null, { a: '1', b: '2' }], [null, 0], [null, 1]]);
    await client.set('s', 'text');
    const m = await client.multi().llen('s').zrange('nozset', 0, -1).exec();
    assert.ok(m![0][0] instanceof Error && /WRONGTYPE/.test(m![0][0].message));
    assert.deepEqual(m![1], [null, []]);
    const keys: string[] = [];
    for await (const batch of client.scanStream({ match: 'test:squares:a-1*', count: 5 })) keys.push(...(batch as string[]));
    assert.deepEqual(keys.sort(), ['test:squares:a-1', ...Array.from({ length: 10 }, (_, i) => `test:squares:a-1${i}`)].sort());

    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    assert.equal(await client.raw.command(['EXISTS', 'test:squares:meta']), 0);
  } finally {
    await client.quit().catch(() => {});
    await server.stop();
  }
});
