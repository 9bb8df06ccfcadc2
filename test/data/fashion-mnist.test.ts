import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../src/data/errors.js';
import { loadFashionMnist, locateFashionMnist } from '../../src/data/fashion-mnist.js';
import { parseIdx, readMaybeGzip } from '../../src/data/idx.js';
import { ImageSplit } from '../../src/data/image-data.js';
import { resolveDataRoot } from '../../src/data/root.js';
import { keyFromSeed } from '../../src/engine/random.js';
import { getBackend } from '../../src/engine/select.js';

function idxBytes(dims: number[], values: number[]): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(values)]);
}

test('parseIdx reads dims and data, and rejects bad magic, rank and size', () => {
  const parsed = parseIdx(idxBytes([2, 2], [1, 2, 3, 4]), 2, 'x');
  assert.deepEqual(parsed.dims, [2, 2]);
  assert.deepEqual([...parsed.data], [1, 2, 3, 4]);
  const bad = idxBytes([2, 2], [1, 2, 3, 4]);
  bad[0] = 7;
  assert.throws(() => parseIdx(bad, 2, 'bad.idx'), /bad\.idx.*magic/);
  assert.throws(() => parseIdx(idxBytes([4], [1, 2, 3, 4]), 2, 'r'), /rank 1, expected 2/);
  assert.throws(() => parseIdx(idxBytes([2, 3], [1, 2, 3, 4]), 2, 's'), /expected 18 bytes/);
});

test('readMaybeGzip inflates gzip files and names a corrupt one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-idx-'));
  writeFileSync(join(dir, 'a.gz'), gzipSync(Buffer.from([9, 8, 7])));
  assert.deepEqual([...readMaybeGzip(join(dir, 'a.gz'))], [9, 8, 7]);
  writeFileSync(join(dir, 'b.gz'), Buffer.from([0x1f, 0x8b, 1, 2, 3]));
  assert.throws(() => readMaybeGzip(join(dir, 'b.gz')), (e: Error) => e instanceof DataError && /b\.gz is a corrupt gzip/.test(e.message));
});

test('a missing Fashion-MNIST file gives one error naming the file and the fix', () => {
  const empty = mkdtempSync(join(tmpdir(), 'lopt-empty-'));
  assert.throws(() => loadFashionMnist('train', empty, [join(empty, 'fashion-mnist')]),
    (e: Error) => e instanceof DataError && /train-images-idx3-ubyte/.test(e.message) && /apt-get install dataset-fashion-mnist/.test(e.message));
});

test('a corrupt file in the data root is reported, not silently skipped', () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-corrupt-'));
  mkdirSync(join(root, 'fashion-mnist'));
  writeFileSync(join(root, 'fashion-mnist', 't10k-images-idx3-ubyte'), idxBytes([2, 28, 28], new Array(2 * 784).fill(0)));
  assert.throws(() => loadFashionMnist('test', root), /expected \[10000, 28, 28\]/);
});

test('the data root comes from --data-dir, then $LOPT_DATA_DIR, then ~/.cache/lopt/data', () => {
  assert.equal(resolveDataRoot('/tmp/x'), '/tmp/x');
  const saved = process.env.LOPT_DATA_DIR;
  process.env.LOPT_DATA_DIR = '/tmp/y';
  assert.equal(resolveDataRoot(), '/tmp/y');
  delete process.env.LOPT_DATA_DIR;
  assert.match(resolveDataRoot(), /\.cache\/lopt\/data$/);
  if (saved !== undefined) process.env.LOPT_DATA_DIR = saved;
});

test('real Fashion-MNIST loads with the published sizes and balanced labels', () => {
  assert.ok(locateFashionMnist(), 'Fashion-MNIST must be installed (apt-get install dataset-fashion-mnist)');
  const train = loadFashionMnist('train');
  const testSet = loadFashionMnist('test');
  assert.equal(train.count, 60000);
  assert.equal(testSet.count, 10000);
  assert.equal(train.pixels.length, 60000 * 784);
  const counts = new Array(10).fill(0);
  for (const label of testSet.labels) counts[label]++;
  assert.deepEqual(counts, new Array(10).fill(1000));
});

test('seeded batch streams: same key same batches, pixels in [0, 1], every epoch a permutation', () => {
  const data = loadFashionMnist('test');
  const backend = getBackend('reference');
  const split = new ImageSplit('s', data, 100, 130, 8, backend);
  const a = split.stream(keyFromSeed(5));
  const b = split.stream(keyFromSeed(5));
  const firstA = a.next();
  const labelsA = [...firstA.label];
  const imageA = firstA.image.data.slice();
  const firstB = b.next();
  assert.deepEqual([...firstB.label], labelsA);
  assert.deepEqual(firstB.image.data, imageA);
  assert.deepEqual(firstA.image.shape, [8, 28, 28, 1]);
  assert.ok(imageA.every((v) => v >= 0 && v <= 1) && imageA.some((v) => v > 0.5));
  const other = split.stream(keyFromSeed(6)).next();
  assert.notDeepEqual([...other.label, ...other.image.data.slice(0, 50)], [...labelsA, ...imageA.slice(0, 50)]);
  // 30 examples: the first 30 drawn (across batches) cover the split exactly once.
  const seen: number[] = [];
  const stream = split.stream(keyFromSeed(1));
  for (let i = 0; i < 4; i++) {
    const batch = stream.next();
    for (let j = 0; j < 8; j++) {
      const firstPixels = batch.image.data.subarray(j * 784, (j + 1) * 784);
      const index = [...Array(30).keys()].find((k) =>
        data.pixels.subarray((100 + k) * 784, (101 + k) * 784).every((p, q) => Math.abs(p / 255 - firstPixels[q]) < 1e-6));
      seen.push(index!);
    }
  }
  assert.deepEqual(seen.slice(0, 30).sort((x, y) => x - y), [...Array(30).keys()]);
  let total = 0;
  for (const batch of split.inOrder(7)) total += batch.label.length;
  assert.equal(total, 30);
});
