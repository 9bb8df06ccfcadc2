// LO's autoencoder loss: mean((target − sigmoid(logits))²) over every element, with its gradient.
import type { Backend } from '../engine/backend.js';
import type { Tensor } from '../engine/tensor.js';
import type { LossActivations } from './softmax-cross-entropy.js';
import { ensureTensor } from './workspace.js';

export class SigmoidMSE {
  /** Used when lossAndGrad is given no activations (the loss's own, for direct use). */
  private readonly ownActs: LossActivations = {};

  constructor(private readonly backend: Backend) {}

  /** A fresh, empty activations object (the buffer is allocated on first use). */
  createActivations(): LossActivations {
    return {};
  }

  /** Mean over all elements of (target − sigmoid(logits))²; target (the input image) has the logits' size. */
  loss(logits: Tensor, target: Tensor): number {
    this.check(logits, target);
    return this.backend.sigmoidMse(logits.data, target.data, null);
  }

  /** The loss and its gradient with respect to the logits (buffer reused across calls). */
  lossAndGrad(logits: Tensor, target: Tensor, acts: LossActivations = this.ownActs): { loss: number; dlogits: Tensor } {
    this.check(logits, target);
    const dlogits = ensureTensor(acts.logitsGrad, [...logits.shape]);
    acts.logitsGrad = dlogits;
    const loss = this.backend.sigmoidMse(logits.data, target.data, dlogits.data);
    return { loss, dlogits };
  }

  private check(logits: Tensor, target: Tensor): void {
    if (logits.data.length !== target.data.length) {
      throw new Error(`sigmoid MSE: ${logits.data.length} logits but ${target.data.length} targets`);
    }
  }
}
