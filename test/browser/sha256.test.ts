// The browser bundle's SHA-256 (src/browser/node/sha256.ts) against node:crypto: every padding case
// around the 64-byte block, long inputs, strings and incremental updates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Sha256 } from '../../src/browser/node/sha256.js';
import { mulberry32 } from '../fixtures/prng.js';

test('SHA-256 equals node:crypto for every length around a block, long inputs and strings', () => {
  const next = mulberry32(3);
  for (const length of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 70_001]) {
    const bytes = Uint8Array.from({ length }, () => Math.floor(next() * 256));
    assert.equal(new Sha256().update(bytes).digest('hex'), createHash('sha256').update(bytes).digest('hex'), `length ${length}`);
  }
  const text = 'θ names: nn/w0[39,4] — ünïcödé';
  assert.equal(new Sha256().update(text).digest('hex'), createHash('sha256').update(text).digest('hex'));
});

test('SHA-256 of pieces fed one update at a time equals the whole', () => {
  const next = mulberry32(4);
  const bytes = Uint8Array.from({ length: 5000 }, () => Math.floor(next() * 256));
  const hash = new Sha256();
  for (let at = 0; at < bytes.length;) {
    const take = 1 + Math.floor(next() * 150);
    hash.update(bytes.subarray(at, at + take));
    at += take;
  }
  assert.equal(hash.digest('hex'), createHash('sha256').update(bytes).digest('hex'));
});
