// The sum of a residual connection, y = a + b (ResNet blocks, transformer blocks), with its backward:
// the output gradient flows unchanged into both inputs, and where two paths meet again their input
// gradients are summed (accumulate).
import type { Backend } from '../engine/backend.js';
import type { Tensor } from '../engine/tensor.js';
import { ensureTensor } from './workspace.js';

/** What one ResidualAdd pass writes: its output buffer (caller-owned, reused). */
export interface ResidualAddActivations {
  output?: Tensor;
}

export class ResidualAdd {
  private readonly ownActs: ResidualAddActivations = {};

  constructor(private readonly backend: Backend) {}

  createActivations(): ResidualAddActivations {
    return {};
  }

  /** a + b (same shape); returns the reused output buffer. */
  forward(a: Tensor, b: Tensor, acts: ResidualAddActivations = this.ownActs): Tensor {
    if (a.data.length !== b.data.length) throw new Error(`residual add: inputs of ${a.data.length} and ${b.data.length} values differ`);
    const output = ensureTensor(acts.output, [...a.shape]);
    acts.output = output;
    this.backend.add(a.data, b.data, output.data);
    return output;
  }

  /**
   * dL/da and dL/db: both are dy itself (the same buffer; a consumer that modifies its gradient in place
   * must be the last to read it).
   */
  backward(dy: Tensor): [Tensor, Tensor] {
    return [dy, dy];
  }

  /** into ← into + from: the gradients of two paths that started from the same tensor. */
  accumulate(into: Tensor, from: Tensor): Tensor {
    if (into.data.length !== from.data.length) throw new Error(`residual add: gradients of ${into.data.length} and ${from.data.length} values differ`);
    this.backend.add(into.data, from.data, into.data);
    return into;
  }
}
