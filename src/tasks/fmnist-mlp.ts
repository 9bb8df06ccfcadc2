// fmnist-mlp: Fashion-MNIST, MLP 784 → 128 → 128 → 10 with ReLU, batch 128 (the paper's main MLP task).
import { loadFashionMnist } from '../data/fashion-mnist.js';
import { getBackend } from '../engine/select.js';
import { ImageMlpTask } from './image-mlp.js';
import type { TaskOptions } from './options.js';

export function fmnistMlp(options: TaskOptions = {}): ImageMlpTask {
  const width = options.width ?? 128;
  const depth = options.depth ?? 2;
  return new ImageMlpTask({
    name: 'fmnist-mlp',
    inputSize: 28 * 28,
    hidden: Array.from({ length: depth }, () => width),
    numClasses: 10,
    batchSize: options.batchSize ?? 128,
    normalizerClip: options.normalizerClip ?? 'lo',
    backend: options.backend ?? getBackend(),
    load: () => ({ train: loadFashionMnist('train', options.dataDir), test: loadFashionMnist('test', options.dataDir) }),
  });
}
