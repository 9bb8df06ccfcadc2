// imagenet16-mlp: MLP 768 → 256 → 256 → 256 → 200 with ReLU on Tiny ImageNet 16x16 (the stand-in
// for the paper's ImageNet 16x16), batch 128. Splits: 40/5/5 images per class (seeded, fixed).
import { ImageSplit } from '../data/image-data.js';
import { loadTinyImagenet16, tinyImagenet16Splits } from '../data/tiny-imagenet16.js';
import { getBackend } from '../engine/select.js';
import { ImageMlpTask } from './image-mlp.js';
import type { TaskOptions } from './options.js';

export function imagenet16Mlp(options: TaskOptions = {}): ImageMlpTask {
  const width = options.width ?? 256;
  const depth = options.depth ?? 3;
  const batchSize = options.batchSize ?? 128;
  const backend = options.backend ?? getBackend();
  return new ImageMlpTask({
    name: 'imagenet16-mlp',
    inputSize: 16 * 16 * 3,
    hidden: Array.from({ length: depth }, () => width),
    numClasses: 200,
    batchSize,
    normalizerClip: options.normalizerClip ?? 'lo',
    backend,
    datasets: () => {
      const data = loadTinyImagenet16(options.dataDir);
      const splits = tinyImagenet16Splits(data);
      return {
        train: new ImageSplit('train', data, splits.train, batchSize, backend),
        valid: new ImageSplit('valid', data, splits.valid, batchSize, backend),
        test: new ImageSplit('test', data, splits.test, batchSize, backend),
      };
    },
  });
}
