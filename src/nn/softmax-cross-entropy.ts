// Mean softmax cross-entropy loss over a batch of logits with integer labels.
import type { Backend } from '../engine/backend.js';
import type { Tensor } from '../engine/tensor.js';
import { ensureTensor } from './workspace.js';

/** The loss's caller-owned buffer: the gradient with respect to the logits (reused). */
export interface LossActivations {
  logitsGrad?: Tensor;
}

export class SoftmaxCrossEntropy {
  /** Used when lossAndGrad is given no activations (the loss's own, for direct use). */
  private readonly ownActs: LossActivations = {};

  constructor(private readonly backend: Backend) {}

  /** A fresh, empty activations object (the buffer is allocated on first use). */
  createActivations(): LossActivations {
    return {};
  }

  /** Mean loss of [rows, classes] logits. */
  loss(logits: Tensor, labels: Int32Array): number {
    const [rows, classes] = this.dims(logits, labels);
    return this.backend.softmaxCrossEntropy(logits.data, labels, rows, classes, null);
  }

  /** Mean loss and its gradient with respect to the logits (buffer reused across calls). */
  lossAndGrad(logits: Tensor, labels: Int32Array, acts: LossActivations = this.ownActs): { loss: number; dlogits: Tensor } {
    const [rows, classes] = this.dims(logits, labels);
    const dlogits = ensureTensor(acts.logitsGrad, [rows, classes]);
    acts.logitsGrad = dlogits;
    const loss = this.backend.softmaxCrossEntropy(logits.data, labels, rows, classes, dlogits.data);
    return { loss, dlogits };
  }

  private dims(logits: Tensor, labels: Int32Array): [number, number] {
    const classes = logits.shape[logits.shape.length - 1];
    const rows = logits.data.length / classes;
    if (rows !== labels.length) throw new Error(`cross-entropy: ${rows} logit rows but ${labels.length} labels`);
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= classes) throw new Error(`cross-entropy: label ${labels[i]} outside [0, ${classes})`);
    }
    return [rows, classes];
  }
}
