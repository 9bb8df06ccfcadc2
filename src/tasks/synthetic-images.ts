// A seeded synthetic image data set of any shape: uniform random pixels and labels, for timing models
// at sizes we have no data for (the paper's Table 1 times ResNets on 224x224 ImageNet batches; only the
// shape matters for the time of a step).
import { foldIn, keyFromSeed, randomBits } from '../engine/random.js';
import type { ImageData } from '../data/image-data.js';

/** `count` images [imageSize, imageSize, 3] of random bytes and labels in [0, classes), from `seed`. */
export function syntheticImages(name: string, imageSize: number, classes: number, count: number, seed: number): ImageData {
  const pixelsPerImage = imageSize * imageSize * 3;
  const key = keyFromSeed(seed);
  const words = randomBits(foldIn(key, 0), Math.ceil((count * pixelsPerImage) / 4));
  const pixels = new Uint8Array(words.buffer, 0, count * pixelsPerImage);
  const labels = Int32Array.from(randomBits(foldIn(key, 1), count), (bits) => bits % classes);
  return { name, imageShape: [imageSize, imageSize, 3], numClasses: classes, count, pixels, labels };
}
