// LayerNorm over the last axis (Haiku's hk.LayerNorm(axis=-1, create_scale=True, create_offset=True),
// eps 1e-5), with explicit backward; the statistics of a pass are kept in the caller's activations.
import type { Backend } from '../engine/backend.js';
import type { Params, Tensor } from '../engine/tensor.js';
import { ensureTensor } from './workspace.js';

/** What one LayerNorm pass writes and its backward reads (caller-owned, buffers reused). */
export interface LayerNormActivations {
  input?: Tensor;
  output?: Tensor;
  inputGrad?: Tensor;
  /** Per row: mean and 1/sqrt(var + eps). */
  mean?: Float32Array;
  invStd?: Float32Array;
}

export class LayerNorm {
  readonly scaleName: string;
  readonly offsetName: string;
  private readonly ownActs: LayerNormActivations = {};

  constructor(readonly name: string, readonly features: number, private readonly backend: Backend, readonly eps = 1e-5) {
    if (!Number.isInteger(features) || features < 1) throw new Error(`${name}: features must be a positive integer, got ${features}`);
    this.scaleName = `${name}/scale`;
    this.offsetName = `${name}/offset`;
  }

  get paramCount(): number {
    return 2 * this.features;
  }

  /** Haiku's defaults: scale 1, offset 0. */
  init(): Params {
    return {
      [this.scaleName]: { shape: [this.features], data: new Float32Array(this.features).fill(1) },
      [this.offsetName]: { shape: [this.features], data: new Float32Array(this.features) },
    };
  }

  createActivations(): LayerNormActivations {
    return {};
  }

  /** x is [..., features]; returns the normalised tensor of the same shape (buffer reused). */
  forward(params: Params, x: Tensor, acts: LayerNormActivations = this.ownActs): Tensor {
    if (x.shape.at(-1) !== this.features) throw new Error(`${this.name}: expected input [..., ${this.features}], got [${x.shape}]`);
    const rows = x.data.length / this.features;
    if (!acts.mean || acts.mean.length !== rows) acts.mean = new Float32Array(rows);
    if (!acts.invStd || acts.invStd.length !== rows) acts.invStd = new Float32Array(rows);
    acts.input = x;
    const output = ensureTensor(acts.output, [...x.shape]);
    acts.output = output;
    this.backend.layerNormForward(x.data, rows, this.features, params[this.scaleName].data, params[this.offsetName].data,
      this.eps, acts.mean, acts.invStd, output.data);
    return output;
  }

  /** Writes dL/d scale and dL/d offset into `grads` (overwriting) and returns dL/dx (buffer reused). */
  backward(params: Params, dy: Tensor, grads: Params, acts: LayerNormActivations = this.ownActs): Tensor {
    const x = acts.input;
    if (!x || !acts.mean || !acts.invStd) throw new Error(`${this.name}: backward called before forward`);
    if (dy.data.length !== x.data.length) throw new Error(`${this.name}: output gradient has ${dy.data.length} values, expected ${x.data.length}`);
    const inputGrad = ensureTensor(acts.inputGrad, [...x.shape]);
    acts.inputGrad = inputGrad;
    this.backend.layerNormBackward(x.data, dy.data, acts.mean.length, this.features, params[this.scaleName].data,
      acts.mean, acts.invStd, inputGrad.data, grads[this.scaleName].data, grads[this.offsetName].data);
    return inputGrad;
  }
}
