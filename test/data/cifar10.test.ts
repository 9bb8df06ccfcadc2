import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downsample2x2, loadCifar10, loadCifar10x16, locateCifar10 } from '../../src/data/cifar10.js';
import { DataError } from '../../src/data/errors.js';
import { ImageSplit, type ImageData } from '../../src/data/image-data.js';
import { keyFromSeed } from '../../src/engine/random.js';
import { getBackend } from '../../src/engine/select.js';

const RECORD = 3073;
const HOW = 'CIFAR-10 must be in <data root>/cifar-10-batches-bin/: run "node scripts/install-data.mjs"';

function classCounts(labels: Int32Array, from = 0, to = labels.length): number[] {
  const counts = new Array(10).fill(0);
  for (let i = from; i < to; i++) counts[labels[i]]++;
  return counts;
}

const oneLineDataError = (pattern: RegExp[]) => (e: Error) =>
  e instanceof DataError && !e.message.includes('\n') && pattern.every((p) => p.test(e.message));

test('real CIFAR-10: published sizes, label order and counts, HWC conversion, channel means', () => {
  assert.ok(locateCifar10(), HOW);
  const train = loadCifar10('train');
  const testSet = loadCifar10('test');
  assert.equal(train.count, 50000);
  assert.equal(testSet.count, 10000);
  assert.deepEqual(train.imageShape, [32, 32, 3]);
  assert.equal(train.pixels.length, 50000 * 3072);
  assert.equal(train.classNames?.[0], 'airplane');
  assert.deepEqual([...train.labels.subarray(0, 10)], [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]);
  assert.deepEqual(classCounts(train.labels, 0, 10000), [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]);
  assert.deepEqual(classCounts(train.labels), new Array(10).fill(5000));
  assert.deepEqual(classCounts(testSet.labels), new Array(10).fill(1000));
  const sums = [0, 0, 0];
  for (let i = 0; i < train.pixels.length; i += 3) {
    sums[0] += train.pixels[i];
    sums[1] += train.pixels[i + 1];
    sums[2] += train.pixels[i + 2];
  }
  const means = sums.map((s) => s / (50000 * 1024 * 255));
  [0.4900, 0.4802, 0.4453].forEach((expected, c) => assert.ok(Math.abs(means[c] - expected) < 0.002, `channel ${c} mean ${means[c]}`));
  // Cached per process: the same object comes back.
  assert.equal(loadCifar10('train'), train);
});

test('2x2 box average: channels kept apart, mean rounded to nearest, halves up', () => {
  // One 2x4 image, 2 channels: channel 0 then 1 per pixel, row-major.
  const pixels = Uint8Array.from([
    1, 0, 2, 0, /* */ 0, 255, 0, 254,
    2, 0, 2, 1, /* */ 0, 255, 1, 255,
  ]);
  const data: ImageData = { name: 'x', imageShape: [2, 4, 2], numClasses: 1, count: 1, pixels, labels: Int32Array.of(0) };
  const half = downsample2x2(data);
  assert.deepEqual(half.imageShape, [1, 2, 2]);
  // Block 0: ch0 (1+2+2+2)/4 = 1.75 -> 2; ch1 (0+0+0+1)/4 = 0.25 -> 0.
  // Block 1: ch0 (0+0+0+1)/4 = 0.25 -> 0; ch1 (255+254+255+255)/4 = 254.75 -> 255.
  assert.deepEqual([...half.pixels], [2, 0, 0, 255]);
  const ties = downsample2x2({ ...data, imageShape: [2, 2, 1], count: 2, labels: Int32Array.of(0, 0), pixels: Uint8Array.from([0, 0, 1, 1, 1, 1, 2, 2]) });
  assert.deepEqual([...ties.pixels], [1, 2]); // 0.5 -> 1, 1.5 -> 2
  assert.throws(() => downsample2x2({ ...data, imageShape: [1, 8, 2] }), /cannot halve/);
});

test('real CIFAR-10 at 16x16 is the box average of the 32x32 images', () => {
  assert.ok(locateCifar10(), HOW);
  const full = loadCifar10('test');
  const small = loadCifar10x16('test');
  assert.deepEqual(small.imageShape, [16, 16, 3]);
  assert.equal(small.count, 10000);
  assert.equal(small.labels, full.labels);
  const at = (n: number, y: number, x: number, c: number) => full.pixels[((n * 32 + y) * 32 + x) * 3 + c];
  for (const [n, y, x, c] of [[0, 0, 0, 0], [123, 7, 9, 2], [9999, 15, 15, 1]]) {
    const sum = at(n, 2 * y, 2 * x, c) + at(n, 2 * y, 2 * x + 1, c) + at(n, 2 * y + 1, 2 * x, c) + at(n, 2 * y + 1, 2 * x + 1, c);
    assert.equal(small.pixels[((n * 16 + y) * 16 + x) * 3 + c], Math.floor((sum + 2) / 4));
  }
});

test('ImageSplit over CIFAR-10 gives [B, 32, 32, 3] batches scaled to [0, 1]', () => {
  assert.ok(locateCifar10(), HOW);
  const data = loadCifar10('test');
  const split = new ImageSplit('test', data, 0, data.count, 4, getBackend('reference'));
  const batch = split.stream(keyFromSeed(0)).next();
  assert.deepEqual(batch.image.shape, [4, 32, 32, 3]);
  const [first] = split.inOrder(1);
  assert.equal(first.image.data[5], Math.fround(data.pixels[5] / 255));
});

test('missing CIFAR-10 gives one DataError naming the file and the fix', () => {
  const empty = mkdtempSync(join(tmpdir(), 'lopt-cifar-empty-'));
  assert.equal(locateCifar10(empty), undefined);
  assert.throws(() => loadCifar10('train', empty),
    oneLineDataError([/cifar-10-batches-bin\/data_batch_1\.bin not found/, /build-cifar10\.cjs/, /cifar-10-binary\.tar\.gz/, /--data-dir/]));
  assert.throws(() => loadCifar10x16('test', empty), oneLineDataError([/test_batch\.bin not found/]));
});

test('a CIFAR-10 file of the wrong size or with a bad label is named with its fix', () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-cifar-bad-'));
  const dir = join(root, 'cifar-10-batches-bin');
  mkdirSync(dir);
  writeFileSync(join(dir, 'test_batch.bin'), Buffer.alloc(RECORD * 9999));
  assert.throws(() => loadCifar10('test', root),
    oneLineDataError([/test_batch\.bin holds 30726927 bytes, expected 30730000/, /build-cifar10\.cjs/]));
  const badLabel = Buffer.alloc(RECORD * 10000);
  badLabel[RECORD * 17] = 10;
  writeFileSync(join(dir, 'test_batch.bin'), badLabel);
  assert.throws(() => loadCifar10('test', root), oneLineDataError([/test_batch\.bin: label 10 of record 17 is outside 0\.\.9/]));
  // A missing training batch next to a present test batch is named in that folder.
  assert.throws(() => loadCifar10('train', root), oneLineDataError([new RegExp(`${dir}/data_batch_1\\.bin not found`)]));
});
