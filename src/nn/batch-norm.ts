// BatchNorm over the channels (last axis) of NHWC activations, as Haiku's hk.BatchNorm with the
// ResNets' bn_config (haiku/_src/nets/resnet.py): decay_rate 0.9, eps 1e-5, learned scale and offset.
// Training normalises with the batch statistics and, given a state, moves its exponential moving
// averages (hk.ExponentialMovingAverage with zero debiasing); evaluation normalises with those
// averages. The averages are model state, not parameters: they live in a separate Params tree (the
// task's `modelState`), never in the optimizer's.
import type { Backend } from '../engine/backend.js';
import type { Params, Tensor } from '../engine/tensor.js';
import { ensureTensor } from './workspace.js';

export interface BatchNormOptions {
  /** Decay of the moving averages; default 0.9. */
  decayRate?: number;
  /** Added to the variance; default 1e-5. */
  eps?: number;
}

/** Whether a pass uses the batch (training) or the moving averages (evaluation), and the state tree. */
export type BatchNormMode = { training: true; state?: Params } | { training: false; state: Params };

/** What one BatchNorm pass writes and its backward reads (caller-owned, buffers reused). */
export interface BatchNormActivations {
  input?: Tensor;
  output?: Tensor;
  inputGrad?: Tensor;
  /** Per channel: the statistics the output was normalised with. */
  mean?: Float32Array;
  invStd?: Float32Array;
  /** Whether the last forward used batch statistics (backward needs it). */
  training?: boolean;
}

export class BatchNorm {
  readonly scaleName: string;
  readonly offsetName: string;
  /** State names (Haiku's EMA "hidden" values and their shared step counter). */
  readonly meanName: string;
  readonly varName: string;
  readonly counterName: string;
  readonly decayRate: number;
  readonly eps: number;
  private readonly ownActs: BatchNormActivations = {};

  constructor(readonly name: string, readonly channels: number, private readonly backend: Backend, options: BatchNormOptions = {}) {
    if (!Number.isInteger(channels) || channels < 1) throw new Error(`${name}: channels must be a positive integer, got ${channels}`);
    this.decayRate = options.decayRate ?? 0.9;
    this.eps = options.eps ?? 1e-5;
    this.scaleName = `${name}/scale`;
    this.offsetName = `${name}/offset`;
    this.meanName = `${name}/mean_ema/hidden`;
    this.varName = `${name}/var_ema/hidden`;
    this.counterName = `${name}/counter`;
  }

  /** Trainable parameters: scale and offset per channel. */
  get paramCount(): number {
    return 2 * this.channels;
  }

  /** Haiku's create_scale/create_offset defaults: scale 1, offset 0. */
  init(): Params {
    return {
      [this.scaleName]: { shape: [this.channels], data: new Float32Array(this.channels).fill(1) },
      [this.offsetName]: { shape: [this.channels], data: new Float32Array(this.channels) },
    };
  }

  /** The moving averages before any training step (zeros, counter 0). */
  initState(): Params {
    return {
      [this.meanName]: { shape: [this.channels], data: new Float32Array(this.channels) },
      [this.varName]: { shape: [this.channels], data: new Float32Array(this.channels) },
      [this.counterName]: { shape: [1], data: new Float32Array(1) },
    };
  }

  createActivations(): BatchNormActivations {
    return {};
  }

  /** x is [..., channels]; returns the normalised tensor of the same shape (buffer reused). */
  forward(params: Params, x: Tensor, acts: BatchNormActivations = this.ownActs, mode: BatchNormMode = { training: true }): Tensor {
    const rows = this.rowsOf(x);
    const c = this.channels;
    if (!acts.mean || acts.mean.length !== c) acts.mean = new Float32Array(c);
    if (!acts.invStd || acts.invStd.length !== c) acts.invStd = new Float32Array(c);
    if (!mode.training) this.loadAverages(mode.state, acts.mean, acts.invStd);
    acts.input = x;
    acts.training = mode.training;
    const output = ensureTensor(acts.output, [...x.shape]);
    acts.output = output;
    this.backend.batchNormForward(x.data, rows, c, params[this.scaleName].data, params[this.offsetName].data, this.eps,
      mode.training, acts.mean, acts.invStd, output.data);
    if (mode.training && mode.state) this.updateAverages(mode.state, acts.mean, acts.invStd);
    return output;
  }

  /** Writes dL/d scale and dL/d offset into `grads` (overwriting) and returns dL/dx (buffer reused). */
  backward(params: Params, dy: Tensor, grads: Params, acts: BatchNormActivations = this.ownActs): Tensor {
    const x = acts.input;
    if (!x || !acts.mean || !acts.invStd) throw new Error(`${this.name}: backward called before forward`);
    if (!acts.training) throw new Error(`${this.name}: backward needs a training-mode forward (batch statistics)`);
    if (dy.data.length !== x.data.length) throw new Error(`${this.name}: output gradient has ${dy.data.length} values, expected ${x.data.length}`);
    const inputGrad = ensureTensor(acts.inputGrad, [...x.shape]);
    acts.inputGrad = inputGrad;
    this.backend.batchNormBackward(x.data, dy.data, x.data.length / this.channels, this.channels, params[this.scaleName].data,
      acts.mean, acts.invStd, inputGrad.data, grads[this.scaleName].data, grads[this.offsetName].data);
    return inputGrad;
  }

  private rowsOf(x: Tensor): number {
    if (x.shape.at(-1) !== this.channels) throw new Error(`${this.name}: expected input [..., ${this.channels}], got [${x.shape}]`);
    return x.data.length / this.channels;
  }

  /**
   * hidden ← decay·hidden + (1 − decay)·value for the batch mean and variance, counter + 1. The batch
   * variance is recovered from invStd = 1/sqrt(var + eps) in double (the kernel keeps only invStd).
   */
  private updateAverages(state: Params, mean: Float32Array, invStd: Float32Array): void {
    const d = this.decayRate;
    const hiddenMean = state[this.meanName].data;
    const hiddenVar = state[this.varName].data;
    for (let c = 0; c < this.channels; c++) {
      const variance = Math.max(1 / (invStd[c] * invStd[c]) - this.eps, 0);
      hiddenMean[c] = hiddenMean[c] * d + mean[c] * (1 - d);
      hiddenVar[c] = hiddenVar[c] * d + variance * (1 - d);
    }
    state[this.counterName].data[0] += 1;
  }

  /**
   * The zero-debiased averages hidden/(1 − decay^counter) as mean and invStd. Before any training step
   * (counter 0, where Haiku divides 0 by 0) it uses mean 0 and variance 1.
   */
  private loadAverages(state: Params, mean: Float32Array, invStd: Float32Array): void {
    if (!state[this.meanName]) throw new Error(`${this.name}: evaluation needs the moving averages (state ${this.meanName})`);
    const counter = state[this.counterName].data[0];
    const debias = counter > 0 ? 1 - this.decayRate ** counter : 0;
    for (let c = 0; c < this.channels; c++) {
      const m = debias > 0 ? state[this.meanName].data[c] / debias : 0;
      const v = debias > 0 ? state[this.varName].data[c] / debias : 1;
      mean[c] = m;
      invStd[c] = 1 / Math.sqrt(v + this.eps);
    }
  }
}
