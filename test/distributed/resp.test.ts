import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCommand, RedisReplyError, RespDecoder, RespProtocolError, type RespValue } from '../../src/distributed/resp.js';
import { mulberry32 } from '../fixtures/prng.js';

test('commands are RESP arrays of bulk strings (text, numbers and raw bytes)', () => {
  assert.equal(encodeCommand(['SET', 'k', 'héllo']).toString('latin1'), Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\nhéllo\r\n').toString('latin1'));
  assert.deepEqual(encodeCommand(['X', 12, Buffer.from([0, 255])]), Buffer.concat([Buffer.from('*3\r\n$1\r\nX\r\n$2\r\n12\r\n$2\r\n'), Buffer.from([0, 255]), Buffer.from('\r\n')]));
});

const REPLIES: [string, RespValue][] = [
  ['+OK\r\n', 'OK'], [':42\r\n', 42], [':-7\r\n', -7], ['$-1\r\n', null], ['*-1\r\n', null], ['$0\r\n\r\n', ''],
  ['$5\r\nhello\r\n', 'hello'], ['$7\r\nh\r\nllo!\r\n', 'h\r\nllo!'], ['*2\r\n$1\r\na\r\n:3\r\n', ['a', 3]],
  ['*3\r\n*1\r\n+x\r\n$3\r\nabc\r\n$-1\r\n', [['x'], 'abc', null]], ['$3\r\nπ!\r\n', 'π!'],
];

test('replies decode whole, whatever the chunking (random splits, byte by byte)', () => {
  const rand = mulberry32(3);
  for (let trial = 0; trial < 300; trial++) {
    const picks = Array.from({ length: 15 }, () => REPLIES[Math.floor(rand() * REPLIES.length)]);
    const bytes = Buffer.from(picks.map((p) => p[0]).join(''));
    const d = new RespDecoder();
    const out: RespValue[] = [];
    for (let i = 0; i < bytes.length;) {
      const n = trial % 10 === 0 ? 1 : 1 + Math.floor(rand() * 9);
      d.push(bytes.subarray(i, i + n));
      i += n;
      for (let v = d.next(); v !== undefined; v = d.next()) out.push(v);
    }
    assert.deepEqual(out, picks.map((p) => p[1]));
  }
});

test('error replies become RedisReplyError values with their code', () => {
  const d = new RespDecoder();
  d.push(Buffer.from('-NOSCRIPT No matching script\r\n*2\r\n-WRONGTYPE bad\r\n:1\r\n'));
  const e = d.next();
  assert.ok(e instanceof RedisReplyError && e.code === 'NOSCRIPT' && /No matching/.test(e.message));
  const arr = d.next() as RespValue[];
  assert.ok(arr[0] instanceof RedisReplyError && (arr[0] as RedisReplyError).code === 'WRONGTYPE');
  assert.equal(arr[1], 1);
});

test('oversized or malformed replies are protocol errors', () => {
  const small = new RespDecoder(1024);
  small.push(Buffer.from('$2000\r\n'));
  assert.throws(() => small.next(), (e: unknown) => e instanceof RespProtocolError && /2000 bytes exceeds the 1024-byte limit/.test((e as Error).message));
  const arrays = new RespDecoder(10);
  arrays.push(Buffer.from('*11\r\n'));
  assert.throws(() => arrays.next(), RespProtocolError);
  const junk = new RespDecoder();
  junk.push(Buffer.from('?what\r\n'));
  assert.throws(() => junk.next(), /unknown reply type/);
  const badLen = new RespDecoder();
  badLen.push(Buffer.from('$abc\r\n'));
  assert.throws(() => badLen.next(), /bad length/);
  const endless = new RespDecoder();
  endless.push(Buffer.alloc(70 * 1024, 0x2b));
  assert.throws(() => endless.next(), /longer than 64 KiB/);
});
