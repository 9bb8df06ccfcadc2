// CIFAR-10 from its standard binary layout (cifar-10-batches-bin/), and the 16x16 variant derived from it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './errors.js';
import type { ImageData } from './image-data.js';
import { resolveDataRoot } from './root.js';

export const CIFAR10_FOLDER = 'cifar-10-batches-bin';
export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR10_CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const RECORDS_PER_FILE = 10000;
const PLANE = 1024;
const RECORD = 1 + 3 * PLANE;
export const CIFAR10_HOW_TO_GET = `build it with "node ../shared/datasets/build-cifar10.cjs <data dir>" (or "node scripts/install-data.mjs"), or unpack the official cifar-10-binary.tar.gz into <data dir>/ so that <data dir>/${CIFAR10_FOLDER}/ holds the .bin files, and pass --data-dir if <data dir> is not the default`;

/** Folders searched, in order: `<data root>/cifar-10-batches-bin/`, then the data root itself. */
export function cifar10Dirs(dataDir?: string): string[] {
  const root = resolveDataRoot(dataDir);
  return [join(root, CIFAR10_FOLDER), root];
}

const ALL_FILES = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];

/** The folder holding all six batch files, or undefined. */
export function locateCifar10(dataDir?: string, dirs: string[] = cifar10Dirs(dataDir)): string | undefined {
  return dirs.find((dir) => ALL_FILES.every((file) => existsSync(join(dir, file))));
}

/** The folder to read from: the first holding all files, else the first holding any (so the missing one is named there). */
function chooseDir(dirs: string[]): string {
  return locateCifar10(undefined, dirs)
    ?? dirs.find((dir) => ALL_FILES.some((file) => existsSync(join(dir, file))))
    ?? dirs[0];
}

/** Reads one batch file, validating its size and labels; returns its raw records. */
function readBatch(file: string): Uint8Array {
  if (!existsSync(file)) throw new DataError(`CIFAR-10 file ${file} not found: ${CIFAR10_HOW_TO_GET}`);
  const size = statSync(file).size;
  if (size !== RECORDS_PER_FILE * RECORD) {
    throw new DataError(`${file} holds ${size} bytes, expected ${RECORDS_PER_FILE * RECORD} (${RECORDS_PER_FILE} records of ${RECORD}); delete the ${CIFAR10_FOLDER} folder and ${CIFAR10_HOW_TO_GET}`);
  }
  const bytes = readFileSync(file);
  for (let i = 0; i < RECORDS_PER_FILE; i++) {
    const label = bytes[i * RECORD];
    if (label > 9) {
      throw new DataError(`${file}: label ${label} of record ${i} is outside 0..9; delete the ${CIFAR10_FOLDER} folder and ${CIFAR10_HOW_TO_GET}`);
    }
  }
  return bytes;
}

/** Converts records (label, R plane, G plane, B plane) into HWC pixels and labels at `offset` (in images). */
function decodeRecords(records: Uint8Array, pixels: Uint8Array, labels: Int32Array, offset: number): void {
  const count = records.length / RECORD;
  for (let i = 0; i < count; i++) {
    const from = i * RECORD;
    const to = (offset + i) * 3 * PLANE;
    labels[offset + i] = records[from];
    for (let p = 0; p < PLANE; p++) {
      pixels[to + 3 * p] = records[from + 1 + p];
      pixels[to + 3 * p + 1] = records[from + 1 + PLANE + p];
      pixels[to + 3 * p + 2] = records[from + 1 + 2 * PLANE + p];
    }
  }
}

function classNames(dir: string): string[] {
  const meta = join(dir, 'batches.meta.txt');
  if (!existsSync(meta)) return CIFAR10_CLASS_NAMES;
  const names = readFileSync(meta, 'utf8').split('\n').map((line) => line.trim()).filter(Boolean);
  return names.length === 10 ? names : CIFAR10_CLASS_NAMES;
}

const cache = new Map<string, ImageData>();

/**
 * Loads one official split as 32x32x3 HWC bytes: "train" is the 50,000 images of data_batch_1..5 in
 * order, "test" the 10,000 of test_batch (which the shared build writes sorted by class: shuffle, or
 * use the seeded streams, before training on it). Cached per process.
 */
export function loadCifar10(split: 'train' | 'test', dataDir?: string, dirs: string[] = cifar10Dirs(dataDir)): ImageData {
  const dir = chooseDir(dirs);
  const cacheKey = `${dir}|${split}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const files = split === 'train' ? CIFAR10_TRAIN_FILES : [CIFAR10_TEST_FILE];
  const count = files.length * RECORDS_PER_FILE;
  const pixels = new Uint8Array(count * 3 * PLANE);
  const labels = new Int32Array(count);
  files.forEach((file, b) => decodeRecords(readBatch(join(dir, file)), pixels, labels, b * RECORDS_PER_FILE));
  const data: ImageData = {
    name: `cifar10/${split}`, imageShape: [32, 32, 3], numClasses: 10, count, pixels, labels, classNames: classNames(dir),
  };
  cache.set(cacheKey, data);
  return data;
}

/**
 * Halves height and width with a 2x2 box average of each channel, keeping bytes: each output value is
 * (a + b + c + d + 2) >> 2, the mean of the four inputs rounded to the nearest integer, halves up.
 */
export function downsample2x2(data: ImageData, name = `${data.name}@${data.imageShape[0] / 2}x${data.imageShape[1] / 2}`): ImageData {
  const [h, w, c] = data.imageShape;
  if (h % 2 !== 0 || w % 2 !== 0) throw new Error(`${data.name}: cannot halve ${h}x${w} images`);
  const oh = h / 2;
  const ow = w / 2;
  const src = data.pixels;
  const out = new Uint8Array(data.count * oh * ow * c);
  const rowStride = w * c;
  for (let n = 0; n < data.count; n++) {
    const base = n * h * rowStride;
    let to = n * oh * ow * c;
    for (let y = 0; y < oh; y++) {
      const top = base + 2 * y * rowStride;
      for (let x = 0; x < ow; x++) {
        const a = top + 2 * x * c;
        for (let k = 0; k < c; k++, to++) {
          out[to] = (src[a + k] + src[a + c + k] + src[a + rowStride + k] + src[a + rowStride + c + k] + 2) >> 2;
        }
      }
    }
  }
  return { ...data, name, imageShape: [oh, ow, c], pixels: out };
}

const cache16 = new Map<string, ImageData>();

/** CIFAR-10 at 16x16 (for cifar10-16-conv): `downsample2x2` of `loadCifar10(split)`. Cached per process. */
export function loadCifar10x16(split: 'train' | 'test', dataDir?: string, dirs: string[] = cifar10Dirs(dataDir)): ImageData {
  const cacheKey = `${chooseDir(dirs)}|${split}`;
  const cached = cache16.get(cacheKey);
  if (cached) return cached;
  const data = downsample2x2(loadCifar10(split, dataDir, dirs), `cifar10-16/${split}`);
  cache16.set(cacheKey, data);
  return data;
}
