// A multilayer perceptron: Linear layers named "<prefix>/linear_i" with ReLU between them.
import type { Backend } from '../engine/backend.js';
import { split, type Key } from '../engine/random.js';
import type { Params, Tensor } from '../engine/tensor.js';
import { Linear } from './linear.js';
import { ReLU } from './relu.js';

export class MLP {
  readonly layers: Linear[];
  private readonly activations: ReLU[];

  /** sizes = [in, hidden..., out]; ReLU after every layer but the last. */
  constructor(readonly prefix: string, readonly sizes: number[], backend: Backend) {
    if (sizes.length < 2) throw new Error('MLP needs at least an input and an output size');
    this.layers = sizes.slice(1).map((out, i) => new Linear(`${prefix}/linear_${i}`, sizes[i], out, backend));
    this.activations = this.layers.slice(1).map(() => new ReLU(backend));
  }

  get paramCount(): number {
    return this.layers.reduce((sum, layer) => sum + layer.paramCount, 0);
  }

  init(key: Key): Params {
    const keys = split(key, this.layers.length);
    return Object.assign({}, ...this.layers.map((layer, i) => layer.init(keys[i])));
  }

  forward(params: Params, x: Tensor): Tensor {
    let h = x;
    this.layers.forEach((layer, i) => {
      h = layer.forward(params, h);
      if (i < this.activations.length) h = this.activations[i].forward(h);
    });
    return h;
  }

  /** Backpropagates dL/d(output) and writes every parameter's gradient into `grads`. */
  backward(params: Params, dOut: Tensor, grads: Params): void {
    let d: Tensor | null = dOut;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      d = this.layers[i].backward(params, d!, grads, i > 0);
      if (i > 0) d = this.activations[i - 1].backward(d!);
    }
  }

  /** FLOPs of one training step on `rows` examples: forward, weight gradients, input gradients. */
  trainFlops(rows: number): number {
    const forward = this.layers.reduce((sum, layer) => sum + layer.forwardFlops(rows), 0);
    const inputGrads = forward - this.layers[0].forwardFlops(rows);
    return 2 * forward + inputGrads;
  }
}
