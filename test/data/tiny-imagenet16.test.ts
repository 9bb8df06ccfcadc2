import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../src/data/errors.js';
import { ImageSplit } from '../../src/data/image-data.js';
import { loadTinyImagenet16, locateTinyImagenet16, splitPerClass, tinyImagenet16Splits } from '../../src/data/tiny-imagenet16.js';
import { keyFromSeed } from '../../src/engine/random.js';
import { getBackend } from '../../src/engine/select.js';

const HOW = 'Tiny ImageNet 16x16 must be in <data root>/tiny-imagenet16/: run "node scripts/install-data.mjs"';
const SHARED = resolve(process.cwd(), '..', 'shared', 'datasets');
const oneLineDataError = (patterns: RegExp[]) => (e: Error) =>
  e instanceof DataError && !e.message.includes('\n') && patterns.every((p) => p.test(e.message));

test('real Tiny ImageNet 16x16: 10,000 images, 50 per class, class names, channel means', () => {
  assert.ok(locateTinyImagenet16(), HOW);
  const data = loadTinyImagenet16();
  assert.equal(data.count, 10000);
  assert.deepEqual(data.imageShape, [16, 16, 3]);
  assert.equal(data.numClasses, 200);
  assert.equal(data.pixels.length, 10000 * 768);
  assert.equal(data.classNames?.length, 200);
  assert.match(data.classNames![0], /^n\d{8}$/);
  const counts = new Array(200).fill(0);
  for (const label of data.labels) counts[label]++;
  assert.deepEqual(counts, new Array(200).fill(50));
  const sums = [0, 0, 0];
  for (let i = 0; i < data.pixels.length; i++) sums[i % 3] += data.pixels[i];
  const means = sums.map((s) => s / (10000 * 256 * 255));
  [0.4813, 0.4478, 0.3971].forEach((expected, c) => assert.ok(Math.abs(means[c] - expected) < 0.002, `channel ${c} mean ${means[c]}`));
});

test('--data-dir may point at any folder holding tiny-imagenet16/ (the shared one included)', { skip: !existsSync(SHARED) && 'no shared data folder' }, () => {
  const data = loadTinyImagenet16(SHARED);
  assert.equal(data.count, 10000);
  assert.equal(locateTinyImagenet16(SHARED), join(SHARED, 'tiny-imagenet16', 'val_16x16.bin.gz'));
});

test('the fixed per-class split is 40/5/5, disjoint, covering, sorted and the same every time', () => {
  assert.ok(locateTinyImagenet16(), HOW);
  const data = loadTinyImagenet16();
  const splits = tinyImagenet16Splits(data);
  assert.deepEqual([splits.train.length, splits.valid.length, splits.test.length], [8000, 1000, 1000]);
  const owner = new Int8Array(10000).fill(-1);
  (['train', 'valid', 'test'] as const).forEach((name, s) => {
    const list = splits[name];
    for (let i = 1; i < list.length; i++) assert.ok(list[i - 1] < list[i], `${name} sorted`);
    const perClass = new Array(200).fill(0);
    for (const index of list) {
      assert.equal(owner[index], -1, `index ${index} in two splits`);
      owner[index] = s;
      perClass[data.labels[index]]++;
    }
    assert.deepEqual(perClass, new Array(200).fill([40, 5, 5][s]));
  });
  assert.ok(owner.every((s) => s >= 0));
  assert.deepEqual(tinyImagenet16Splits(data), splits);
  // A different seed gives a different split (so the seed really drives it).
  assert.notDeepEqual(splitPerClass(data.labels, 200, 1).valid, splits.valid);
});

test('ImageSplit over an index list streams and evaluates exactly those examples', () => {
  assert.ok(locateTinyImagenet16(), HOW);
  const data = loadTinyImagenet16();
  const { valid } = tinyImagenet16Splits(data);
  const backend = getBackend('reference');
  const rows = valid.subarray(0, 12);
  const split = new ImageSplit('valid', data, rows, 5, backend);
  assert.equal(split.numExamples, 12);
  const stream = split.stream(keyFromSeed(3));
  const labels: number[] = [];
  const firstPixels: number[] = [];
  for (let b = 0; b < 3; b++) {
    const batch = stream.next();
    assert.deepEqual(batch.image.shape, [5, 16, 16, 3]);
    labels.push(...batch.label);
    for (let i = 0; i < 5; i++) firstPixels.push(Math.round(batch.image.data[i * 768] * 255));
  }
  // The first 12 drawn are a permutation of the 12 rows (matched by label and first pixel).
  const expected = [...rows].map((r) => `${data.labels[r]}:${data.pixels[r * 768]}`).sort();
  const drawn = labels.slice(0, 12).map((l, i) => `${l}:${firstPixels[i]}`).sort();
  assert.deepEqual(drawn, expected);
  const inOrderLabels = [...split.inOrder(5)].flatMap((batch) => [...batch.label]);
  assert.deepEqual(inOrderLabels, [...rows].map((r) => data.labels[r]));
  assert.throws(() => new ImageSplit('bad', data, Int32Array.of(1, 10000), 5, backend), /index 10000 outside/);
  assert.throws(() => new ImageSplit('bad', data, [3, 4, 3], 5, backend), /index 3 listed twice/);
  assert.throws(() => new ImageSplit('bad', data, [], 5, backend), /empty/);
  // The range form is unchanged.
  assert.deepEqual([...new ImageSplit('r', data, 10, 13, 2, backend).rows], [10, 11, 12]);
});

test('missing Tiny ImageNet 16x16 gives one DataError naming the file and the fix', () => {
  const empty = mkdtempSync(join(tmpdir(), 'lopt-tiny-empty-'));
  assert.throws(() => loadTinyImagenet16(empty),
    oneLineDataError([/val_16x16\.bin\(\.gz\) not found in .*tiny-imagenet16/, /wnids\.txt/, /install-data\.mjs/, /--data-dir/]));
});

test('a Tiny ImageNet file of the wrong size or with a bad class is named', () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-tiny-bad-'));
  mkdirSync(join(root, 'tiny-imagenet16'));
  const file = join(root, 'tiny-imagenet16', 'val_16x16.bin.gz');
  writeFileSync(file, gzipSync(Buffer.alloc(770 * 10)));
  assert.throws(() => loadTinyImagenet16(root), oneLineDataError([/val_16x16\.bin\.gz holds 7700 bytes \(unpacked\), expected 7700000/]));
  const bad = Buffer.alloc(770 * 10000);
  bad.writeUInt16LE(200, 770 * 5);
  writeFileSync(join(root, 'tiny-imagenet16', 'val_16x16.bin'), bad); // raw .bin is preferred over .bin.gz
  assert.throws(() => loadTinyImagenet16(root), oneLineDataError([/val_16x16\.bin: class 200 of record 5 is outside 0\.\.199/]));
});
