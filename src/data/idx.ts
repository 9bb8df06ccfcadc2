// Reader for the IDX format (MNIST-style files), raw or gzip-compressed, validating magic and sizes.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

/** Parses an unsigned-byte IDX buffer; `expectedRank` is 3 for images, 1 for labels. */
export function parseIdx(buffer: Uint8Array, expectedRank: number, file: string): IdxArray {
  const fail = (what: string): never => {
    throw new DataError(`${file} is not a valid IDX file (${what}); delete it and reinstall the data set (apt-get install --reinstall dataset-fashion-mnist) or point --data-dir at a good copy`);
  };
  if (buffer.length < 4) fail('file too short');
  if (buffer[0] !== 0 || buffer[1] !== 0) fail('bad magic number');
  if (buffer[2] !== UNSIGNED_BYTE) fail(`element type 0x${buffer[2].toString(16)} is not unsigned byte`);
  const rank = buffer[3];
  if (rank !== expectedRank) fail(`rank ${rank}, expected ${expectedRank}`);
  const header = 4 + 4 * rank;
  if (buffer.length < header) fail('truncated header');
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (buffer.length !== header + size) fail(`expected ${header + size} bytes for dims [${dims}], found ${buffer.length}`);
  return { dims, data: buffer.subarray(header) };
}

/** Reads a file that may be gzip-compressed (detected by its magic bytes). */
export function readMaybeGzip(file: string): Uint8Array {
  const raw = readFileSync(file);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw);
    } catch (error) {
      throw new DataError(`${file} is a corrupt gzip file (${(error as Error).message}); delete it and reinstall the data set or point --data-dir at a good copy`);
    }
  }
  return raw;
}
