// ReLU with explicit backward; the backward pass writes the input gradient into dy's buffer.
import type { Backend } from '../engine/backend.js';
import type { Tensor } from '../engine/tensor.js';
import { ensureTensor } from './workspace.js';

/** What one ReLU pass writes and its backward reads: the output buffer (caller-owned, reused). */
export interface ReluActivations {
  output?: Tensor;
}

export class ReLU {
  /** Used when forward/backward are given no activations (the layer's own, for direct use). */
  private readonly ownActs: ReluActivations = {};

  constructor(private readonly backend: Backend) {}

  /** A fresh, empty activations object (the buffer is allocated on first use). */
  createActivations(): ReluActivations {
    return {};
  }

  forward(x: Tensor, acts: ReluActivations = this.ownActs): Tensor {
    const output = ensureTensor(acts.output, [...x.shape]);
    acts.output = output;
    this.backend.reluForward(x.data, output.data);
    return output;
  }

  /** Returns dL/dx, computed in place in dy (dy must not be needed afterwards). */
  backward(dy: Tensor, acts: ReluActivations = this.ownActs): Tensor {
    if (!acts.output) throw new Error('ReLU: backward called before forward');
    this.backend.reluBackward(acts.output.data, dy.data, dy.data);
    return dy;
  }
}
