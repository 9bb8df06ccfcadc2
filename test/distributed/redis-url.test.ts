import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskPassword, parseRedisUrl } from '../../src/distributed/redis-url.js';

test('Redis URLs: host, port, password, user, database, TLS; the password never printed', () => {
  const plain = parseRedisUrl('redis://127.0.0.1:6399');
  assert.deepEqual([plain.host, plain.port, plain.db, plain.password, plain.tls], ['127.0.0.1', 6399, 0, undefined, null]);
  assert.equal(plain.display, 'redis://127.0.0.1:6399');
  const pw = parseRedisUrl('redis://:s3cr%40t@redis.example:7000/2');
  assert.deepEqual([pw.host, pw.port, pw.db, pw.username, pw.password], ['redis.example', 7000, 2, undefined, 's3cr@t']);
  assert.equal(pw.display, 'redis://:***@redis.example:7000/2');
  const user = parseRedisUrl('redis://alice:pw@h');
  assert.deepEqual([user.username, user.password, user.port, user.display], ['alice', 'pw', 6379, 'redis://alice:***@h']);
  const ca = Buffer.from('PEM');
  const tls = parseRedisUrl('rediss://:pw@redis.example:6380', { ca });
  assert.deepEqual(tls.tls, { servername: 'redis.example', ca });
  assert.equal(parseRedisUrl('rediss://127.0.0.1:6380').tls!.servername, undefined);
  assert.equal(parseRedisUrl('redis://[::1]:6379').host, '::1');
});

test('bad Redis URLs are one clear error, without the password', () => {
  assert.throws(() => parseRedisUrl('http://h:1'), /must start with redis:\/\/ or rediss:\/\//);
  assert.throws(() => parseRedisUrl('redis://h:1/x'), /database "x" must be a number/);
  assert.throws(() => parseRedisUrl('not a url :pw@'), /is not a URL/);
  assert.throws(() => parseRedisUrl('redis//:topsecret@host'), (e: unknown) => !(e as Error).message.includes('topsecret'));
  assert.equal(maskPassword('see redis://:hunter2@h:1 and rediss://u:pw@x'), 'see redis://:***@h:1 and rediss://u:***@x');
});
