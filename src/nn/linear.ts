// Linear layer y = x·W + b with W stored [in, out] (Haiku's layout) and explicit backward.
import type { Backend } from '../engine/backend.js';
import type { Key } from '../engine/random.js';
import type { Params, Tensor } from '../engine/tensor.js';
import { varianceScalingWeight, zeroBias } from './init.js';
import { ensureTensor } from './workspace.js';

export class Linear {
  readonly weightName: string;
  readonly biasName: string;
  private input?: Tensor;
  private output?: Tensor;
  private inputGrad?: Tensor;

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

  /** x is [rows, in] (any leading shape whose size is rows·in). The output buffer is reused. */
  forward(params: Params, x: Tensor): Tensor {
    const rows = x.data.length / this.inFeatures;
    if (!Number.isInteger(rows)) {
      throw new Error(`${this.name}: input of ${x.data.length} values is not a multiple of ${this.inFeatures}`);
    }
    this.input = x;
    this.output = ensureTensor(this.output, [rows, this.outFeatures]);
    const y = this.output.data;
    this.backend.gemm(false, false, rows, this.outFeatures, this.inFeatures, 1,
      x.data, params[this.weightName].data, 0, y);
    this.backend.addRowVector(y, params[this.biasName].data, rows, this.outFeatures);
    return this.output;
  }

  /**
   * Writes dL/dW and dL/db into `grads` (overwriting) and returns dL/dx unless `needInputGrad` is
   * false (the first layer skips that product).
   */
  backward(params: Params, dy: Tensor, grads: Params, needInputGrad = true): Tensor | null {
    const x = this.input;
    if (!x) throw new Error(`${this.name}: backward called before forward`);
    const rows = dy.data.length / this.outFeatures;
    this.backend.gemm(true, false, this.inFeatures, this.outFeatures, rows, 1,
      x.data, dy.data, 0, grads[this.weightName].data);
    this.backend.sumRows(dy.data, rows, this.outFeatures, grads[this.biasName].data, false);
    if (!needInputGrad) return null;
    this.inputGrad = ensureTensor(this.inputGrad, [rows, this.inFeatures]);
    this.backend.gemm(false, true, rows, this.inFeatures, this.outFeatures, 1,
      dy.data, params[this.weightName].data, 0, this.inputGrad.data);
    return this.inputGrad;
  }

  /** Multiply-adds of one forward pass over `rows` examples, times two (FLOPs). */
  forwardFlops(rows: number): number {
    return 2 * rows * this.inFeatures * this.outFeatures;
  }
}
