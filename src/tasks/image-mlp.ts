// Image classification with an MLP over flattened pixels (LO's ImageMLP tasks), e.g. fmnist-mlp.
import type { Backend } from '../engine/backend.js';
import type { Key } from '../engine/random.js';
import { zerosLike, type Params } from '../engine/tensor.js';
import type { ImageBatch, ImageData } from '../data/image-data.js';
import { ImageSplit } from '../data/image-data.js';
import { MLP, type MlpActivations } from '../nn/mlp.js';
import { SoftmaxCrossEntropy, type LossActivations } from '../nn/softmax-cross-entropy.js';
import { classificationClipTop, clippedNormalizer } from './normalizers.js';
import type { LossAndGrad, Task, TaskDatasets } from './task.js';

export interface ImageMlpConfig {
  name: string;
  inputSize: number;
  hidden: number[];
  numClasses: number;
  batchSize: number;
  normalizerClip: 'lo' | 'paper';
  backend: Backend;
  /** Loads the data and builds the splits (lazily, on first use of `datasets`). */
  datasets: () => TaskDatasets<ImageBatch>;
}

/** LO's image splits: train = first 80% of the official training set, valid = next 10%, outer valid = last 10%. */
export function splitImageData(
  train: ImageData, test: ImageData, batchSize: number, backend: Backend,
): TaskDatasets<ImageBatch> {
  const trainEnd = Math.round(train.count * 0.8);
  const validEnd = Math.round(train.count * 0.9);
  return {
    train: new ImageSplit('train', train, 0, trainEnd, batchSize, backend),
    valid: new ImageSplit('valid', train, trainEnd, validEnd, batchSize, backend),
    outerValid: new ImageSplit('outer_valid', train, validEnd, train.count, batchSize, backend),
    test: new ImageSplit('test', test, 0, test.count, batchSize, backend),
  };
}

export class ImageMlpTask implements Task<ImageBatch> {
  readonly name: string;
  readonly batchSize: number;
  readonly paramCount: number;
  readonly flopsPerStep: number;
  readonly normalizer: (loss: number) => number;
  private readonly model: MLP;
  private readonly crossEntropy: SoftmaxCrossEntropy;
  /** The model's activations and the loss's logits gradient: owned here, reused across steps. */
  private readonly acts: MlpActivations;
  private readonly lossActs: LossActivations;
  private grads?: Params;
  private loaded?: TaskDatasets<ImageBatch>;

  constructor(private readonly config: ImageMlpConfig) {
    this.name = config.name;
    this.batchSize = config.batchSize;
    this.model = new MLP('mlp', [config.inputSize, ...config.hidden, config.numClasses], config.backend);
    this.crossEntropy = new SoftmaxCrossEntropy(config.backend);
    this.acts = this.model.createActivations();
    this.lossActs = this.crossEntropy.createActivations();
    this.paramCount = this.model.paramCount;
    this.flopsPerStep = this.model.trainFlops(config.batchSize);
    this.normalizer = clippedNormalizer(classificationClipTop(config.numClasses, config.normalizerClip));
  }

  get datasets(): TaskDatasets<ImageBatch> {
    if (!this.loaded) this.loaded = this.config.datasets();
    return this.loaded;
  }

  init(key: Key): Params {
    return this.model.init(key);
  }

  loss(params: Params, batch: ImageBatch): number {
    const logits = this.model.forward(params, this.flatten(batch), this.acts);
    return this.crossEntropy.loss(logits, batch.label);
  }

  lossAndGrad(params: Params, batch: ImageBatch): LossAndGrad {
    if (!this.grads) this.grads = zerosLike(params);
    const logits = this.model.forward(params, this.flatten(batch), this.acts);
    const { loss, dlogits } = this.crossEntropy.lossAndGrad(logits, batch.label, this.lossActs);
    this.model.backward(params, dlogits, this.grads, this.acts);
    return { loss, grads: this.grads };
  }

  private flatten(batch: ImageBatch) {
    const rows = batch.label.length;
    if (batch.image.data.length !== rows * this.config.inputSize) {
      throw new Error(`${this.name}: batch of ${batch.image.data.length / rows} values per example, expected ${this.config.inputSize}`);
    }
    return { shape: [rows, this.config.inputSize], data: batch.image.data };
  }
}
