// Tiny ImageNet downsampled to 16x16 (the "ImageNet 16x16" stand-in) and its seeded per-class split.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { foldIn, keyFromSeed, permutation } from '../engine/random.js';
import { DataError } from './errors.js';
import { readMaybeGzip } from './idx.js';
import type { ImageData } from './image-data.js';
import { resolveDataRoot } from './root.js';

export const TINY_IMAGENET16_FOLDER = 'tiny-imagenet16';
const FILE_NAMES = ['val_16x16.bin', 'val_16x16.bin.gz'];
const COUNT = 10000;
const CLASSES = 200;
const PLANE = 256;
const RECORD = 2 + 3 * PLANE;
export const TINY_IMAGENET16_HOW_TO_GET = `copy val_16x16.bin.gz and wnids.txt from ../shared/datasets/${TINY_IMAGENET16_FOLDER}/ into <data dir>/${TINY_IMAGENET16_FOLDER}/ (or run "node scripts/install-data.mjs"), or pass --data-dir pointing at a folder that contains ${TINY_IMAGENET16_FOLDER}/`;

/** Folders searched, in order: `<data root>/tiny-imagenet16/`, then the data root itself. */
export function tinyImagenet16Dirs(dataDir?: string): string[] {
  const root = resolveDataRoot(dataDir);
  return [join(root, TINY_IMAGENET16_FOLDER), root];
}

/** The data file (raw `.bin` preferred over `.bin.gz`), or undefined. */
export function locateTinyImagenet16(dataDir?: string, dirs: string[] = tinyImagenet16Dirs(dataDir)): string | undefined {
  for (const dir of dirs) {
    for (const name of FILE_NAMES) {
      if (existsSync(join(dir, name))) return join(dir, name);
    }
  }
  return undefined;
}

const cache = new Map<string, ImageData>();

/**
 * Loads the 10,000 images (200 classes, 50 each) as 16x16x3 HWC bytes. Class names come from
 * `wnids.txt` next to the data file when present. Cached per process.
 */
export function loadTinyImagenet16(dataDir?: string, dirs: string[] = tinyImagenet16Dirs(dataDir)): ImageData {
  const file = locateTinyImagenet16(dataDir, dirs);
  if (!file) {
    throw new DataError(`Tiny ImageNet 16x16 file val_16x16.bin(.gz) not found in ${dirs.join(' or ')}: ${TINY_IMAGENET16_HOW_TO_GET}`);
  }
  const cached = cache.get(file);
  if (cached) return cached;
  const bytes = readMaybeGzip(file);
  if (bytes.length !== COUNT * RECORD) {
    throw new DataError(`${file} holds ${bytes.length} bytes (unpacked), expected ${COUNT * RECORD} (${COUNT} records of ${RECORD}); delete it and ${TINY_IMAGENET16_HOW_TO_GET}`);
  }
  const pixels = new Uint8Array(COUNT * 3 * PLANE);
  const labels = new Int32Array(COUNT);
  for (let i = 0; i < COUNT; i++) {
    const from = i * RECORD;
    const label = bytes[from] | (bytes[from + 1] << 8);
    if (label >= CLASSES) {
      throw new DataError(`${file}: class ${label} of record ${i} is outside 0..${CLASSES - 1}; delete it and ${TINY_IMAGENET16_HOW_TO_GET}`);
    }
    labels[i] = label;
    const to = i * 3 * PLANE;
    for (let p = 0; p < PLANE; p++) {
      pixels[to + 3 * p] = bytes[from + 2 + p];
      pixels[to + 3 * p + 1] = bytes[from + 2 + PLANE + p];
      pixels[to + 3 * p + 2] = bytes[from + 2 + 2 * PLANE + p];
    }
  }
  const wnids = join(file, '..', 'wnids.txt');
  let classNames: string[] | undefined;
  if (existsSync(wnids)) {
    const names = readFileSync(wnids, 'utf8').split('\n').map((line) => line.trim()).filter(Boolean);
    if (names.length === CLASSES) classNames = names;
  }
  const data: ImageData = {
    name: 'tiny-imagenet16', imageShape: [16, 16, 3], numClasses: CLASSES, count: COUNT, pixels, labels,
    ...(classNames ? { classNames } : {}),
  };
  cache.set(file, data);
  return data;
}

export interface IndexSplits {
  train: Int32Array;
  valid: Int32Array;
  test: Int32Array;
}

/** The seed of the fixed per-class split; changing it changes every published number on these tasks. */
export const TINY_IMAGENET16_SPLIT_SEED = 0;

/**
 * The fixed per-class split (40/5/5 of each class's 50 images). For class c, its example indices in
 * file order are permuted by `permutation(foldIn(keyFromSeed(0), c), n_c)`; of that order the first
 * n_c - 2·round(n_c/10) go to train, the next round(n_c/10) to valid, the last round(n_c/10) to test.
 * Each list is returned sorted ascending. The split is the same on every machine and for every task
 * seed (task seeds only change the batch order).
 */
export function splitPerClass(labels: Int32Array, numClasses: number, seed = TINY_IMAGENET16_SPLIT_SEED): IndexSplits {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  labels.forEach((label, i) => byClass[label].push(i));
  const train: number[] = [];
  const valid: number[] = [];
  const test: number[] = [];
  const base = keyFromSeed(seed);
  byClass.forEach((members, c) => {
    const n = members.length;
    const held = Math.round(n / 10);
    const order = permutation(foldIn(base, c), n);
    order.forEach((k, position) => {
      const target = position < n - 2 * held ? train : position < n - held ? valid : test;
      target.push(members[k]);
    });
  });
  const sorted = (list: number[]): Int32Array => Int32Array.from(list).sort();
  return { train: sorted(train), valid: sorted(valid), test: sorted(test) };
}

/** The fixed 40/5/5 per-class split of Tiny ImageNet 16x16 (see `splitPerClass`). */
export function tinyImagenet16Splits(data: ImageData): IndexSplits {
  return splitPerClass(data.labels, data.numClasses);
}
