// fmnist-mlp: Fashion-MNIST, MLP 784 → 128 → 128 → 10 with ReLU, batch 128 (the paper's main MLP task).
import { loadFashionMnist } from '../data/fashion-mnist.js';
import { getBackend } from '../engine/select.js';
import { ImageMlpTask, splitImageData } from './image-mlp.js';
import type { TaskOptions } from './options.js';

export function fmnistMlp(options: TaskOptions = {}): ImageMlpTask {
  const width = options.width ?? 128;
  const depth = options.depth ?? 2;
  const batchSize = options.batchSize ?? 128;
  const backend = options.backend ?? getBackend();
  return new ImageMlpTask({
    name: 'fmnist-mlp',
    inputSize: 28 * 28,
    hidden: Array.from({ length: depth }, () => width),
    numClasses: 10,
    batchSize,
    normalizerClip: options.normalizerClip ?? 'lo',
    backend,
    datasets: () => splitImageData(
      loadFashionMnist('train', options.dataDir), loadFashionMnist('test', options.dataDir), batchSize, backend),
  });
}
