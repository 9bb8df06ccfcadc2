// LO's autoencoder loss: mean((target − sigmoid(logits))²) over every element, with its gradient.
import type { Backend } from '../engine/backend.js';
import type { Tensor } from '../engine/tensor.js';
import { ensureTensor } from './workspace.js';

export class SigmoidMSE {
  private logitsGrad?: Tensor;

  constructor(private readonly backend: Backend) {}

  /** Mean over all elements of (target − sigmoid(logits))²; target (the input image) has the logits' size. */
  loss(logits: Tensor, target: Tensor): number {
    this.check(logits, target);
    return this.backend.sigmoidMse(logits.data, target.data, null);
  }

  /** The loss and its gradient with respect to the logits (buffer reused across calls). */
  lossAndGrad(logits: Tensor, target: Tensor): { loss: number; dlogits: Tensor } {
    this.check(logits, target);
    this.logitsGrad = ensureTensor(this.logitsGrad, [...logits.shape]);
    const loss = this.backend.sigmoidMse(logits.data, target.data, this.logitsGrad.data);
    return { loss, dlogits: this.logitsGrad };
  }

  private check(logits: Tensor, target: Tensor): void {
    if (logits.data.length !== target.data.length) {
      throw new Error(`sigmoid MSE: ${logits.data.length} logits but ${target.data.length} targets`);
    }
  }
}
