// Mean softmax cross-entropy over the rows whose label is not the padding value (LM losses).
import type { Backend } from '../engine/backend.js';
import type { Tensor } from '../engine/tensor.js';
import { SoftmaxCrossEntropy, type LossActivations } from './softmax-cross-entropy.js';
import { ensureTensor } from './workspace.js';

/**
 * The loss's buffers: the kept rows and their labels, the gathered logits and the logits' gradient
 * (sized on first use, reused). The caller owns it (the task), as with Linear's activations.
 */
export interface MaskedCrossEntropyActivations {
  logitsGrad?: Tensor;
  compact?: Tensor;
  kept?: Int32Array;
  keptLabels?: Int32Array;
  /** The unmasked loss's own buffer (the gradient of the kept rows' logits). */
  inner?: LossActivations;
}

export class MaskedSoftmaxCrossEntropy {
  private readonly crossEntropy: SoftmaxCrossEntropy;
  /** Used when loss/lossAndGrad are given no activations (the loss's own, for direct use). */
  private readonly ownActs: MaskedCrossEntropyActivations = {};

  /** Rows whose label equals `padding` are left out of the mean and get zero gradient. */
  constructor(private readonly backend: Backend, private readonly padding = 0) {
    this.crossEntropy = new SoftmaxCrossEntropy(backend);
  }

  /** A fresh, empty activations object for this loss (buffers are allocated on first use). */
  createActivations(): MaskedCrossEntropyActivations {
    return {};
  }

  loss(logits: Tensor, labels: Int32Array, acts: MaskedCrossEntropyActivations = this.ownActs): number {
    const rows = this.selectRows(labels, acts);
    if (rows === 0) return 0;
    if (rows === labels.length) return this.crossEntropy.loss(logits, labels);
    return this.crossEntropy.loss(this.gather(logits, rows, acts), acts.keptLabels!.subarray(0, rows));
  }

  lossAndGrad(logits: Tensor, labels: Int32Array, acts: MaskedCrossEntropyActivations = this.ownActs): { loss: number; dlogits: Tensor } {
    const classes = logits.shape[logits.shape.length - 1];
    const rows = this.selectRows(labels, acts);
    acts.inner ??= this.crossEntropy.createActivations();
    if (rows === labels.length) return this.crossEntropy.lossAndGrad(logits, labels, acts.inner);
    const logitsGrad = ensureTensor(acts.logitsGrad, [labels.length, classes]);
    acts.logitsGrad = logitsGrad;
    this.backend.fill(logitsGrad.data, 0);
    if (rows === 0) return { loss: 0, dlogits: logitsGrad };
    const { loss, dlogits } = this.crossEntropy.lossAndGrad(this.gather(logits, rows, acts), acts.keptLabels!.subarray(0, rows), acts.inner);
    this.backend.scatterAddRows(dlogits.data, classes, acts.kept!.subarray(0, rows), logitsGrad.data);
    return { loss, dlogits: logitsGrad };
  }

  /** Fills kept/keptLabels of `acts` with the unpadded rows; returns how many. */
  private selectRows(labels: Int32Array, acts: MaskedCrossEntropyActivations): number {
    if (!acts.kept || !acts.keptLabels || acts.kept.length < labels.length) {
      acts.kept = new Int32Array(labels.length);
      acts.keptLabels = new Int32Array(labels.length);
    }
    const { kept, keptLabels } = acts;
    let count = 0;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== this.padding) {
        kept[count] = i;
        keptLabels[count++] = labels[i];
      }
    }
    return count;
  }

  private gather(logits: Tensor, rows: number, acts: MaskedCrossEntropyActivations): Tensor {
    const classes = logits.shape[logits.shape.length - 1];
    const compact = ensureTensor(acts.compact, [rows, classes]);
    acts.compact = compact;
    this.backend.gatherRows(logits.data, classes, acts.kept!.subarray(0, rows), compact.data);
    return compact;
  }
}
