// Fashion-MNIST from its four standard IDX files, looked up in the data root then Debian's package.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './errors.js';
import { parseIdx, readMaybeGzip } from './idx.js';
import type { ImageData } from './image-data.js';
import { resolveDataRoot } from './root.js';

export const FASHION_MNIST_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';
const FILES = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
} as const;
const HOW_TO_GET = 'install it with "apt-get install dataset-fashion-mnist", or put the four IDX files in <data dir>/fashion-mnist/ and pass --data-dir';

/** Folders searched, in order. */
export function fashionMnistDirs(dataDir?: string): string[] {
  return [join(resolveDataRoot(dataDir), 'fashion-mnist'), FASHION_MNIST_SYSTEM_DIR];
}

function findFile(base: string, dirs: string[]): string | undefined {
  for (const dir of dirs) {
    for (const candidate of [join(dir, `${base}.gz`), join(dir, base)]) {
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Where the data set was found (the folder holding the first file), or undefined. */
export function locateFashionMnist(dataDir?: string): string | undefined {
  const dirs = fashionMnistDirs(dataDir);
  const found = [...FILES.train, ...FILES.test].map((base) => findFile(base, dirs));
  return found.every(Boolean) ? join(found[0]!, '..') : undefined;
}

const cache = new Map<string, ImageData>();

/** Loads one official split ("train": 60,000 images, "test": 10,000). Cached per process. */
export function loadFashionMnist(
  split: 'train' | 'test', dataDir?: string, dirs: string[] = fashionMnistDirs(dataDir),
): ImageData {
  const cacheKey = `${dirs[0]}|${split}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const [imagesBase, labelsBase] = FILES[split];
  const locate = (base: string): string => {
    const file = findFile(base, dirs);
    if (!file) throw new DataError(`Fashion-MNIST file ${base}(.gz) not found in ${dirs.join(' or ')}: ${HOW_TO_GET}`);
    return file;
  };
  const imagesFile = locate(imagesBase);
  const labelsFile = locate(labelsBase);
  const images = parseIdx(readMaybeGzip(imagesFile), 3, imagesFile);
  const labels = parseIdx(readMaybeGzip(labelsFile), 1, labelsFile);
  const expected = split === 'train' ? 60000 : 10000;
  if (images.dims[0] !== expected || images.dims[1] !== 28 || images.dims[2] !== 28) {
    throw new DataError(`${imagesFile} holds images of dims [${images.dims}], expected [${expected}, 28, 28]; reinstall the data set`);
  }
  if (labels.dims[0] !== expected) {
    throw new DataError(`${labelsFile} holds ${labels.dims[0]} labels, expected ${expected}; reinstall the data set`);
  }
  const labelValues = Int32Array.from(labels.data);
  const bad = labelValues.findIndex((label) => label > 9);
  if (bad >= 0) throw new DataError(`${labelsFile}: label ${labelValues[bad]} at ${bad} is outside 0..9; reinstall the data set`);
  const data: ImageData = {
    name: `fashion-mnist/${split}`,
    imageShape: [28, 28, 1],
    numClasses: 10,
    count: expected,
    pixels: images.data,
    labels: labelValues,
  };
  cache.set(cacheKey, data);
  return data;
}
