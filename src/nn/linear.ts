// Linear layer y = x·W + b with W stored [in, out] (Haiku's layout) and explicit backward.
import type { Backend } from '../engine/backend.js';
import type { Key } from '../engine/random.js';
import type { Params, Tensor } from '../engine/tensor.js';
import { varianceScalingWeight, zeroBias } from './init.js';
import { ensureTensor } from './workspace.js';

/**
 * What one Linear pass writes and its backward reads (llm.c's ActivationTensors, for one layer): the
 * input it saw, its output buffer and its input-gradient buffer (sized on first use, reused). The
 * caller owns it (a task holds one per layer of its model); layers keep none of their own beyond the
 * default used when none is passed.
 */
export interface LinearActivations {
  input?: Tensor;
  output?: Tensor;
  inputGrad?: Tensor;
}

export class Linear {
  readonly weightName: string;
  readonly biasName: string;
  /** Used when forward/backward are given no activations (the layer's own, for direct use). */
  private readonly ownActs: LinearActivations = {};

  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    private readonly backend: Backend,
  ) {
    this.weightName = `${name}/w`;
    this.biasName = `${name}/b`;
  }

  get paramCount(): number {
    return this.inFeatures * this.outFeatures + this.outFeatures;
  }

  init(key: Key): Params {
    return {
      [this.weightName]: varianceScalingWeight(key, [this.inFeatures, this.outFeatures], this.inFeatures),
      [this.biasName]: zeroBias([this.outFeatures]),
    };
  }

  /** A fresh, empty activations object for this layer (buffers are allocated on first use). */
  createActivations(): LinearActivations {
    return {};
  }

  /**
   * x is [rows, in] (any leading shape whose size is rows·in). Records x in `acts` and writes the
   * output into its (reused) output buffer.
   */
  forward(params: Params, x: Tensor, acts: LinearActivations = this.ownActs): Tensor {
    const rows = x.data.length / this.inFeatures;
    if (!Number.isInteger(rows)) {
      throw new Error(`${this.name}: input of ${x.data.length} values is not a multiple of ${this.inFeatures}`);
    }
    acts.input = x;
    const output = ensureTensor(acts.output, [rows, this.outFeatures]);
    acts.output = output;
    const y = output.data;
    this.backend.gemm(false, false, rows, this.outFeatures, this.inFeatures, 1,
      x.data, params[this.weightName].data, 0, y);
    this.backend.addRowVector(y, params[this.biasName].data, rows, this.outFeatures);
    return output;
  }

  /**
   * Writes dL/dW and dL/db into `grads` (overwriting) and returns dL/dx unless `needInputGrad` is
   * false (the first layer skips that product). `acts` are those its forward pass wrote.
   */
  backward(params: Params, dy: Tensor, grads: Params, needInputGrad = true, acts: LinearActivations = this.ownActs): Tensor | null {
    const x = acts.input;
    if (!x) throw new Error(`${this.name}: backward called before forward`);
    const rows = dy.data.length / this.outFeatures;
    this.backend.gemm(true, false, this.inFeatures, this.outFeatures, rows, 1,
      x.data, dy.data, 0, grads[this.weightName].data);
    this.backend.sumRows(dy.data, rows, this.outFeatures, grads[this.biasName].data, false);
    if (!needInputGrad) return null;
    const inputGrad = ensureTensor(acts.inputGrad, [rows, this.inFeatures]);
    acts.inputGrad = inputGrad;
    this.backend.gemm(false, true, rows, this.inFeatures, this.outFeatures, 1,
      dy.data, params[this.weightName].data, 0, inputGrad.data);
    return inputGrad;
  }

  /** Multiply-adds of one forward pass over `rows` examples, times two (FLOPs). */
  forwardFlops(rows: number): number {
    return 2 * rows * this.inFeatures * this.outFeatures;
  }
}
