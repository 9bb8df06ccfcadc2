import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFloat32, encodedLength, encodeFloat32 } from '../../src/distributed/codec.js';
import { mulberry32 } from '../fixtures/prng.js';

test('float32 vectors travel as base64 of little-endian bytes, exactly', () => {
  // 1.0f is 00 00 80 3f little-endian; -2.0f is 00 00 00 c0.
  assert.equal(encodeFloat32(Float32Array.of(1, -2)), Buffer.from([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]).toString('base64'));
  const rand = mulberry32(7);
  const values = Float32Array.from({ length: 1001 }, () => (rand() - 0.5) * 1e6);
  values[3] = Infinity;
  values[4] = -0;
  const text = encodeFloat32(values);
  assert.equal(text.length, encodedLength(values.length));
  assert.deepEqual(decodeFloat32(text, values.length), values);
  // Float64 input is rounded to float32 (what gradients are sent as).
  assert.deepEqual([...decodeFloat32(encodeFloat32(Float64Array.of(0.1)), 1)], [Math.fround(0.1)]);
  // A subarray view encodes only its own values.
  assert.deepEqual(decodeFloat32(encodeFloat32(values.subarray(10, 13)), 3), values.slice(10, 13));
});

test('decoding refuses the wrong length, non-base64 text and NaN', () => {
  const text = encodeFloat32(Float32Array.of(1, 2, 3));
  assert.throws(() => decodeFloat32(text, 2), /expected 2 float32 values/);
  assert.throws(() => decodeFloat32(text, 4), /expected 4 float32 values/);
  assert.throws(() => decodeFloat32(`${text.slice(0, -2)}$$`, 3), /not base64/);
  assert.throws(() => decodeFloat32(encodeFloat32(Float32Array.of(1, NaN)), 2), /value 1 is NaN/);
});
