// The Task interface (mirrors LO's Task: init, loss, gradients, normaliser, data sets).
import type { Key } from '../engine/random.js';
import type { Params } from '../engine/tensor.js';
import type { DataSplit } from '../data/image-data.js';

export interface LossAndGrad {
  loss: number;
  /** Gradient tree shaped like the parameters; its buffers are reused by the next call. */
  grads: Params;
}

export interface TaskDatasets<B> {
  /** LO's split of the official training set: first 80%. */
  train: DataSplit<B>;
  /** Next 10% of the training set (LO's inner_valid). */
  valid: DataSplit<B>;
  /** The official test set. */
  test: DataSplit<B>;
  /** Last 10% of the training set (LO's outer_valid), held out for meta-validation, where the data set has one. */
  outerValid?: DataSplit<B>;
}

export interface Task<B = unknown> {
  readonly name: string;
  readonly paramCount: number;
  readonly batchSize: number;
  /** Estimated floating-point operations of one training step (forward + backward). */
  readonly flopsPerStep: number;
  init(key: Key): Params;
  loss(params: Params, batch: B): number;
  lossAndGrad(params: Params, batch: B): LossAndGrad;
  /** Maps a raw loss to the meta-training loss (clipping; NaN/Inf to the top). */
  normalizer(loss: number): number;
  /** Loaded on first access (reading data can fail with a DataError). */
  readonly datasets: TaskDatasets<B>;
}
