// The one synchronous optimizer interface shared by every optimizer, hand-designed and learned.
import type { Key } from '../engine/random.js';
import type { Params } from '../engine/tensor.js';

export interface OptimizerInitOptions {
  /** Length of the planned run; schedules (e.g. NAdamW's cosine) are laid out over it. */
  numSteps: number;
  key?: Key;
}

export interface UpdateContext {
  /** The training loss at the current parameters (learned optimizers may use it). */
  loss: number;
}

export interface Optimizer<S = unknown> {
  readonly name: string;
  /** Builds a state holding its own copy of the parameters. */
  init(params: Params, opts: OptimizerInitOptions): S;
  /**
   * One step. It may reuse (mutate) the buffers of the state it is given and return that same
   * object: the caller must not use the old state afterwards.
   */
  update(state: S, grads: Params, ctx: UpdateContext): S;
  /** The current parameters (views into the state: valid until the next update). */
  getParams(state: S): Params;
  /**
   * Bytes of optimizer state beyond the parameters: accumulator floats × 4. Scalar counters
   * (the step) are not counted, so SGD is 0 and Adam is 8 bytes per parameter.
   */
  stateBytes(params: Params): number;
}
