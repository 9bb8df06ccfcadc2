// GELU (jax.nn.gelu's default tanh approximation, the activation of Haiku's transformer MLPs) with
// explicit backward; the backward pass writes the input gradient into dy's buffer, as ReLU does.
import type { Backend } from '../engine/backend.js';
import type { Tensor } from '../engine/tensor.js';
import { ensureTensor } from './workspace.js';

/** What one GELU pass writes and its backward reads: the input it saw and the output buffer. */
export interface GeluActivations {
  input?: Tensor;
  output?: Tensor;
}

export class GELU {
  private readonly ownActs: GeluActivations = {};

  constructor(private readonly backend: Backend) {}

  createActivations(): GeluActivations {
    return {};
  }

  forward(x: Tensor, acts: GeluActivations = this.ownActs): Tensor {
    acts.input = x;
    const output = ensureTensor(acts.output, [...x.shape]);
    acts.output = output;
    this.backend.geluForward(x.data, output.data);
    return output;
  }

  /** Returns dL/dx, computed in place in dy (dy must not be needed afterwards). */
  backward(dy: Tensor, acts: GeluActivations = this.ownActs): Tensor {
    if (!acts.input) throw new Error('GELU: backward called before forward');
    this.backend.geluBackward(acts.input.data, dy.data, dy.data);
    return dy;
  }
}
