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
  /** New parameters; also resets the model state (modelState) where the task has one. */
  init(key: Key): Params;
  /** The loss in evaluation mode (BatchNorm with the moving averages of modelState). */
  loss(params: Params, batch: B): number;
  /** The loss and gradients in training mode (batch statistics); updates modelState. */
  lossAndGrad(params: Params, batch: B): LossAndGrad;
  /**
   * State of the model that no optimizer trains, where it has any: BatchNorm's moving averages (Haiku
   * keeps them in `state`, apart from `params`). Never part of the parameters the optimizer sees.
   */
  readonly modelState?: Params;
  /** Maps a raw loss to the meta-training loss (clipping; NaN/Inf to the top). */
  normalizer(loss: number): number;
  /** Loaded on first access (reading data can fail with a DataError). */
  readonly datasets: TaskDatasets<B>;
}
