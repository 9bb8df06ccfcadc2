// How θ and gradient vectors travel through Redis: base64 of little-endian float32 (4 bytes per
// value, 5⅓ characters after base64), decoded only when the text is well-formed base64 of exactly
// the expected number of values.

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** base64 of the values as little-endian float32 (float64 input is rounded to float32). */
export function encodeFloat32(values: ArrayLike<number>): string {
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  if (LITTLE_ENDIAN) return Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength).toString('base64');
  const bytes = Buffer.alloc(f32.length * 4);
  for (let i = 0; i < f32.length; i++) bytes.writeFloatLE(f32[i], i * 4);
  return bytes.toString('base64');
}

/** The base64 length of `count` float32 values. */
export function encodedLength(count: number): number {
  return 4 * Math.ceil((count * 4) / 3);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes exactly `count` float32 values, or throws saying what is wrong (wrong length, not base64).
 * NaN values are refused: every sender replaces them before sending (LO's NaN rules).
 */
export function decodeFloat32(text: string, count: number): Float32Array {
  if (text.length !== encodedLength(count)) {
    throw new Error(`expected ${count} float32 values (${encodedLength(count)} base64 characters), got ${text.length} characters`);
  }
  if (!BASE64.test(text)) throw new Error('not base64');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== count * 4) throw new Error(`expected ${count * 4} bytes, got ${bytes.length}`);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = bytes.readFloatLE(i * 4);
  for (let i = 0; i < count; i++) if (Number.isNaN(out[i])) throw new Error(`value ${i} is NaN`);
  return out;
}
