// Mean softmax cross-entropy over the rows whose label is not the padding value (LM losses).
import type { Backend } from '../engine/backend.js';
import type { Tensor } from '../engine/tensor.js';
import { SoftmaxCrossEntropy } from './softmax-cross-entropy.js';
import { ensureTensor } from './workspace.js';

export class MaskedSoftmaxCrossEntropy {
  private readonly crossEntropy: SoftmaxCrossEntropy;
  private logitsGrad?: Tensor;
  private compact?: Tensor;
  private kept = new Int32Array(0);
  private keptLabels = new Int32Array(0);

  /** Rows whose label equals `padding` are left out of the mean and get zero gradient. */
  constructor(private readonly backend: Backend, private readonly padding = 0) {
    this.crossEntropy = new SoftmaxCrossEntropy(backend);
  }

  loss(logits: Tensor, labels: Int32Array): number {
    const rows = this.selectRows(labels);
    if (rows === 0) return 0;
    if (rows === labels.length) return this.crossEntropy.loss(logits, labels);
    return this.crossEntropy.loss(this.gather(logits, rows), this.keptLabels.subarray(0, rows));
  }

  lossAndGrad(logits: Tensor, labels: Int32Array): { loss: number; dlogits: Tensor } {
    const classes = logits.shape[logits.shape.length - 1];
    const rows = this.selectRows(labels);
    if (rows === labels.length) return this.crossEntropy.lossAndGrad(logits, labels);
    this.logitsGrad = ensureTensor(this.logitsGrad, [labels.length, classes]);
    this.backend.fill(this.logitsGrad.data, 0);
    if (rows === 0) return { loss: 0, dlogits: this.logitsGrad };
    const { loss, dlogits } = this.crossEntropy.lossAndGrad(this.gather(logits, rows), this.keptLabels.subarray(0, rows));
    this.backend.scatterAddRows(dlogits.data, classes, this.kept.subarray(0, rows), this.logitsGrad.data);
    return { loss, dlogits: this.logitsGrad };
  }

  /** Fills kept/keptLabels with the unpadded rows; returns how many. */
  private selectRows(labels: Int32Array): number {
    if (this.kept.length < labels.length) {
      this.kept = new Int32Array(labels.length);
      this.keptLabels = new Int32Array(labels.length);
    }
    let count = 0;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== this.padding) {
        this.kept[count] = i;
        this.keptLabels[count++] = labels[i];
      }
    }
    return count;
  }

  private gather(logits: Tensor, rows: number): Tensor {
    const classes = logits.shape[logits.shape.length - 1];
    this.compact = ensureTensor(this.compact, [rows, classes]);
    this.backend.gatherRows(logits.data, classes, this.kept.subarray(0, rows), this.compact.data);
    return this.compact;
  }
}
