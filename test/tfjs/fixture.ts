// The shared fixture of the lopt/tfjs tests: TF.js (CPU backend) and lopt's Fashion-MNIST MLP task
// (784 → 128 → 128 → 10, ReLU, mean softmax cross-entropy) with the same initial weights and batches.
import * as tf from '@tensorflow/tfjs';
import { keyFromSeed } from '../../src/engine/random.js';
import type { Params } from '../../src/engine/tensor.js';
import type { ImageBatch } from '../../src/data/image-data.js';
import { fmnistMlp } from '../../src/tasks/fmnist-mlp.js';

export { tf };

export const BATCH = 128;

await tf.setBackend('cpu');

export const task = fmnistMlp({ batchSize: BATCH });

/** lopt's MLP parameters in Keras order: kernel [in, out] then bias, layer by layer. */
export const LAYER_NAMES = [0, 1, 2].flatMap((i) => [`mlp/linear_${i}/w`, `mlp/linear_${i}/b`]);

/** The initial parameters (lopt's initialisation from seed 0). */
export function initialParams(): Params {
  return task.init(keyFromSeed(0));
}

/** The first `count` training batches of `batchSize` (default 128) in order (copies: the split reuses its batch buffer). */
export function batches(count: number, batchSize = BATCH): ImageBatch[] {
  const out: ImageBatch[] = [];
  for (const batch of task.datasets.train.inOrder(batchSize)) {
    out.push({ image: { shape: [...batch.image.shape], data: batch.image.data.slice() }, label: batch.label.slice() });
    if (out.length === count) break;
  }
  return out;
}

/** The batches (all of one size B) as one x [n·B, 784] and one-hot y [n·B, 10], in order (fit with shuffle: false). */
export function xy(list: ImageBatch[]): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const size = list[0].label.length;
  const n = list.length * size;
  const x = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  list.forEach((b, i) => {
    x.set(b.image.data, i * size * 784);
    labels.set(b.label, i * size);
  });
  return { x: tf.tensor2d(x, [n, 784]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D };
}

/** The Keras MLP with lopt's initial parameters. */
export function kerasMlp(params: Params = initialParams()): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
  model.setWeights(LAYER_NAMES.map((name) => tf.tensor(params[name].data, params[name].shape)));
  return model;
}

/** Mean softmax cross-entropy of logits (lopt's loss). */
export const loss = (yTrue: tf.Tensor, logits: tf.Tensor): tf.Scalar => tf.losses.softmaxCrossEntropy(yTrue, logits) as tf.Scalar;

/** The model's weights now, as Float32Arrays in Keras order. */
export function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
}

/**
 * Fits one epoch over `list` (one step per batch, in order), returning the losses and the weights
 * after each of the first `keep` steps (default: every step; copying them costs a step's time).
 */
export async function fitSteps(model: tf.LayersModel, list: ImageBatch[], keep = Infinity): Promise<{ weights: Float32Array[][]; losses: number[] }> {
  const { x, y } = xy(list);
  const weights: Float32Array[][] = [];
  const losses: number[] = [];
  await model.fit(x, y, {
    batchSize: list[0].label.length, epochs: 1, shuffle: false, verbose: 0,
    callbacks: { onBatchEnd: async (_batch, logs) => { if (weights.length < keep) weights.push(weightsOf(model)); losses.push(logs!.loss as number); } },
  });
  x.dispose();
  y.dispose();
  return { weights, losses };
}

/** Largest |a − b| / (atol + rtol·|b|) over every value: ≤ 1 is within tolerance. */
export function worstRatio(a: Float32Array[], b: Float32Array[], rtol: number, atol: number): number {
  let worst = 0;
  a.forEach((arr, k) => {
    for (let i = 0; i < arr.length; i++) worst = Math.max(worst, Math.abs(arr[i] - b[k][i]) / (atol + rtol * Math.abs(b[k][i])));
  });
  return worst;
}
