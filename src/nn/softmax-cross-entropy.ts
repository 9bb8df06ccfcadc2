// Mean softmax cross-entropy loss over a batch of logits with integer labels.
import type { Backend } from '../engine/backend.js';
import type { Tensor } from '../engine/tensor.js';
import { ensureTensor } from './workspace.js';

export class SoftmaxCrossEntropy {
  private logitsGrad?: Tensor;

  constructor(private readonly backend: Backend) {}

  /** Mean loss of [rows, classes] logits. */
  loss(logits: Tensor, labels: Int32Array): number {
    const [rows, classes] = this.dims(logits, labels);
    return this.backend.softmaxCrossEntropy(logits.data, labels, rows, classes, null);
  }

  /** Mean loss and its gradient with respect to the logits (buffer reused across calls). */
  lossAndGrad(logits: Tensor, labels: Int32Array): { loss: number; dlogits: Tensor } {
    const [rows, classes] = this.dims(logits, labels);
    this.logitsGrad = ensureTensor(this.logitsGrad, [rows, classes]);
    const loss = this.backend.softmaxCrossEntropy(logits.data, labels, rows, classes, this.logitsGrad.data);
    return { loss, dlogits: this.logitsGrad };
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
