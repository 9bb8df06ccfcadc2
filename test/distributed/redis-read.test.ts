import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openRedis } from '../../src/distributed/connect.js';
import { encodeRunState, encodeThetaRecord, MessageRejected, RUN_STATE_LIMIT, thetaRecordLimit } from '../../src/distributed/messages.js';
import { readBounded, readRunState, readThetaRecord } from '../../src/distributed/redis-read.js';
import { parseRedisUrl } from '../../src/distributed/redis-url.js';
import { startRedis } from './redis-server.js';

const rejected = (pattern: RegExp) => (e: unknown) => e instanceof MessageRejected && pattern.test(e.message);

test('lopt reads its records bounded: a value over the limit is refused by its length on the server, without its bytes', async () => {
  const server = await startRedis();
  const link = await openRedis(parseRedisUrl(server.url));
  try {
    await link.ready;
    const c = link.client;
    await c.set('big', 'x'.repeat(200_000));
    const sent = async () => Number(/total_net_output_bytes:(\d+)/.exec(String(await c.info('stats')))![1]);
    const before = await sent();
    await assert.rejects(readBounded(c, 'big', 100_000, 'test record'), rejected(/^test record: 200000 bytes, over the 100000-byte limit$/));
    // What the server sent meanwhile: the length and one INFO reply, not the 200 kB.
    assert.ok((await sent()) - before < 20_000, `${(await sent()) - before} bytes sent`);
    // The limit counts bytes, not characters: 'é' is two bytes in UTF-8.
    await c.set('accents', 'é'.repeat(6));
    assert.equal(await readBounded(c, 'accents', 12, 'r'), 'é'.repeat(6));
    await assert.rejects(readBounded(c, 'accents', 11, 'r'), rejected(/12 bytes, over the 11-byte limit/));
    assert.equal(await readBounded(c, 'missing', 10, 'r'), null);
    await c.hset('hash', 'f', 'v');
    await assert.rejects(readBounded(c, 'hash', 10, 'r'), rejected(/^r: not a string value$/));
    // The script cache emptied (a Redis restart): the read still works.
    await c.script('FLUSH');
    assert.equal(await readBounded(c, 'accents', 12, 'r'), 'é'.repeat(6));

    // θ records and the run state: bounded by their own limits, then validated.
    const theta = Float32Array.of(0.5, -2, 3);
    const record = encodeThetaRecord({ version: 4, tag: 'ab'.repeat(8), outerStep: 4, status: 'running', configDigest: 'c'.repeat(64), theta });
    await c.set('theta', record);
    const read = await readThetaRecord(c, 'theta', 3);
    assert.deepEqual([read!.version, read!.tag, [...read!.theta]], [4, 'ab'.repeat(8), [0.5, -2, 3]]);
    await assert.rejects(readThetaRecord(c, 'theta', 2), rejected(/θ record: 3 values, the learned optimizer has 2/));
    await c.set('theta', `${record.slice(0, -1)}${' '.repeat(thetaRecordLimit(3))}}`);
    await assert.rejects(readThetaRecord(c, 'theta', 3), rejected(new RegExp(`θ record: \\d+ bytes, over the ${thetaRecordLimit(3)}-byte limit`)));
    assert.equal(await readThetaRecord(c, 'nothing', 3), null);
    await c.set('state', encodeRunState({ version: 2, outerStep: 2, status: 'done' }));
    assert.deepEqual(await readRunState(c, 'state'), { version: 2, outerStep: 2, status: 'done' });
    await c.set('state', '{"format":"lopt-state/1","version":-1,"outerStep":0,"status":"done"}');
    await assert.rejects(readRunState(c, 'state'), rejected(/run state: version/));
    await c.set('state', 'y'.repeat(RUN_STATE_LIMIT + 1));
    await assert.rejects(readRunState(c, 'state'), rejected(/run state: 1025 bytes, over the 1024-byte limit/));
  } finally {
    await link.close();
    await server.stop();
  }
});
