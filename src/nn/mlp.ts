// A multilayer perceptron: Linear layers named "<prefix>/linear_i" with ReLU between them.
import type { Backend } from '../engine/backend.js';
import { split, type Key } from '../engine/random.js';
import type { Params, Tensor } from '../engine/tensor.js';
import { Linear, type LinearActivations } from './linear.js';
import { ReLU, type ReluActivations } from './relu.js';

/** The activations of one MLP pass (llm.c's ActivationTensors): per Linear layer and per ReLU. */
export interface MlpActivations {
  layers: LinearActivations[];
  relus: ReluActivations[];
}

export class MLP {
  readonly layers: Linear[];
  private readonly relus: ReLU[];
  /** Used when forward/backward are given no activations (the model's own, for direct use). */
  private readonly ownActs: MlpActivations;

  /** sizes = [in, hidden..., out]; ReLU after every layer but the last. */
  constructor(readonly prefix: string, readonly sizes: number[], backend: Backend) {
    if (sizes.length < 2) throw new Error('MLP needs at least an input and an output size');
    this.layers = sizes.slice(1).map((out, i) => new Linear(`${prefix}/linear_${i}`, sizes[i], out, backend));
    this.relus = this.layers.slice(1).map(() => new ReLU(backend));
    this.ownActs = this.createActivations();
  }

  /** A fresh activations object for this model (its buffers are allocated on first use). */
  createActivations(): MlpActivations {
    return { layers: this.layers.map((l) => l.createActivations()), relus: this.relus.map((r) => r.createActivations()) };
  }

  get paramCount(): number {
    return this.layers.reduce((sum, layer) => sum + layer.paramCount, 0);
  }

  init(key: Key): Params {
    const keys = split(key, this.layers.length);
    return Object.assign({}, ...this.layers.map((layer, i) => layer.init(keys[i])));
  }

  /** Writes its activations into `acts` (from createActivations; the output is a buffer of it). */
  forward(params: Params, x: Tensor, acts: MlpActivations = this.ownActs): Tensor {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      h = this.layers[i].forward(params, h, acts.layers[i]);
      if (i < this.relus.length) h = this.relus[i].forward(h, acts.relus[i]);
    }
    return h;
  }

  /**
   * Backpropagates dL/d(output) and writes every parameter's gradient into `grads`; `acts` are those
   * its forward pass wrote.
   */
  backward(params: Params, dOut: Tensor, grads: Params, acts: MlpActivations = this.ownActs): void {
    let d: Tensor | null = dOut;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      d = this.layers[i].backward(params, d!, grads, i > 0, acts.layers[i]);
      if (i > 0) d = this.relus[i - 1].backward(d!, acts.relus[i - 1]);
    }
  }

  /** FLOPs of one training step on `rows` examples: forward, weight gradients, input gradients. */
  trainFlops(rows: number): number {
    const forward = this.layers.reduce((sum, layer) => sum + layer.forwardFlops(rows), 0);
    const inputGrads = forward - this.layers[0].forwardFlops(rows);
    return 2 * forward + inputGrads;
  }
}
