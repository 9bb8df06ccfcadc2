// ReLU with explicit backward; the backward pass writes the input gradient into dy's buffer.
import type { Backend } from '../engine/backend.js';
import type { Tensor } from '../engine/tensor.js';
import { ensureTensor } from './workspace.js';

export class ReLU {
  private output?: Tensor;

  constructor(private readonly backend: Backend) {}

  forward(x: Tensor): Tensor {
    this.output = ensureTensor(this.output, [...x.shape]);
    this.backend.reluForward(x.data, this.output.data);
    return this.output;
  }

  /** Returns dL/dx, computed in place in dy (dy must not be needed afterwards). */
  backward(dy: Tensor): Tensor {
    if (!this.output) throw new Error('ReLU: backward called before forward');
    this.backend.reluBackward(this.output.data, dy.data, dy.data);
    return dy;
  }
}
