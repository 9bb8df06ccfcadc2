// text-lstm-lm: byte-level language model — embed 64, LSTM 128 (Haiku's gates, learned initial
// state), linear 256; windows of 32 bytes, batch 128; loss masked where the target byte is 0 (padding).
// English text (State of the Union addresses) stands in for the paper's LM1B bytes.
import type { Backend } from '../engine/backend.js';
import { split, type Key } from '../engine/random.js';
import { zerosLike, type Params, type Tensor } from '../engine/tensor.js';
import { textSplits, type TextBatch } from '../data/text.js';
import { getBackend } from '../engine/select.js';
import { Embedding, type EmbeddingActivations } from '../nn/embedding.js';
import { Linear, type LinearActivations } from '../nn/linear.js';
import { LSTM, type LSTMActivations } from '../nn/lstm.js';
import { MaskedSoftmaxCrossEntropy, type MaskedCrossEntropyActivations } from '../nn/masked-softmax-cross-entropy.js';
import { ensureTensor } from '../nn/workspace.js';
import type { TaskOptions } from './options.js';
import type { LossAndGrad, Task, TaskDatasets } from './task.js';

const VOCAB = 256;
const INITIAL_H = 'rnn_lm/initial_state/h';
const INITIAL_C = 'rnn_lm/initial_state/c';

export class TextLstmLmTask implements Task<TextBatch> {
  readonly name = 'text-lstm-lm';
  readonly paramCount: number;
  readonly flopsPerStep: number;
  private readonly embed: Embedding;
  private readonly lstm: LSTM;
  private readonly head: Linear;
  private readonly crossEntropy: MaskedSoftmaxCrossEntropy;
  /** Every layer's activations (owned here, reused across steps). */
  private readonly embedActs: EmbeddingActivations;
  private readonly lstmActs: LSTMActivations;
  private readonly headActs: LinearActivations;
  private readonly lossActs: MaskedCrossEntropyActivations;
  private h0?: Tensor;
  private c0?: Tensor;
  private grads?: Params;
  private loaded?: TaskDatasets<TextBatch>;

  constructor(
    readonly batchSize: number,
    private readonly sequenceLength: number,
    private readonly hidden: number,
    private readonly backend: Backend,
    private readonly load: () => TaskDatasets<TextBatch>,
  ) {
    this.embed = new Embedding('rnn_lm/embed', VOCAB, 64, backend);
    this.lstm = new LSTM('rnn_lm/lstm', 64, hidden, backend);
    this.head = new Linear('rnn_lm/linear', hidden, VOCAB, backend);
    this.crossEntropy = new MaskedSoftmaxCrossEntropy(backend, 0);
    this.embedActs = this.embed.createActivations();
    this.lstmActs = this.lstm.createActivations();
    this.headActs = this.head.createActivations();
    this.lossActs = this.crossEntropy.createActivations();
    this.paramCount = this.embed.paramCount + this.lstm.paramCount + this.head.paramCount + 2 * hidden;
    const rows = batchSize * sequenceLength;
    // LSTM forward + backward (2x, input gradients included) and the head's three products.
    this.flopsPerStep = 3 * this.lstm.forwardFlops(batchSize, sequenceLength) + 3 * this.head.forwardFlops(rows);
  }

  get datasets(): TaskDatasets<TextBatch> {
    if (!this.loaded) this.loaded = this.load();
    return this.loaded;
  }

  /** The LM has no normaliser (LO): the raw loss is the meta-training loss. */
  normalizer(loss: number): number {
    return loss;
  }

  init(key: Key): Params {
    const [k1, k2, k3] = split(key, 3);
    return {
      ...this.embed.init(k1),
      ...this.lstm.init(k2),
      ...this.head.init(k3),
      [INITIAL_H]: { shape: [this.hidden], data: new Float32Array(this.hidden) },
      [INITIAL_C]: { shape: [this.hidden], data: new Float32Array(this.hidden) },
    };
  }

  loss(params: Params, batch: TextBatch): number {
    return this.crossEntropy.loss(this.forward(params, batch), batch.target, this.lossActs);
  }

  lossAndGrad(params: Params, batch: TextBatch): LossAndGrad {
    if (!this.grads) this.grads = zerosLike(params);
    const { loss, dlogits } = this.crossEntropy.lossAndGrad(this.forward(params, batch), batch.target, this.lossActs);
    const dOutputs = this.head.backward(params, dlogits, this.grads, true, this.headActs)!;
    const { dx, dh0, dc0 } = this.lstm.backward(params, dOutputs, this.grads, {}, this.lstmActs);
    this.embed.backward(dx!, this.grads, this.embedActs);
    // The learned initial state is shared by every row: its gradient is the sum over rows.
    this.backend.sumRows(dh0.data, batch.batchSize, this.hidden, this.grads[INITIAL_H].data, false);
    this.backend.sumRows(dc0.data, batch.batchSize, this.hidden, this.grads[INITIAL_C].data, false);
    return { loss, grads: this.grads };
  }

  private forward(params: Params, batch: TextBatch): Tensor {
    const { batchSize: rows, sequenceLength: steps } = batch;
    this.h0 = this.broadcastState(this.h0, params[INITIAL_H].data, rows);
    this.c0 = this.broadcastState(this.c0, params[INITIAL_C].data, rows);
    const embedded = this.embed.forward(params, batch.obs, [rows, steps], this.embedActs);
    const outputs = this.lstm.forward(params, embedded, this.h0, this.c0, this.lstmActs);
    return this.head.forward(params, { shape: [rows * steps, this.hidden], data: outputs.data }, this.headActs);
  }

  private broadcastState(buffer: Tensor | undefined, state: Float32Array, rows: number): Tensor {
    const out = ensureTensor(buffer, [rows, this.hidden]);
    for (let r = 0; r < rows; r++) out.data.set(state, r * this.hidden);
    return out;
  }
}

export function textLstmLm(options: TaskOptions = {}): TextLstmLmTask {
  const batchSize = options.batchSize ?? 128;
  const sequenceLength = 32;
  const backend = options.backend ?? getBackend();
  return new TextLstmLmTask(batchSize, sequenceLength, options.width ?? 128, backend, () => {
    const splits = textSplits({ textFile: options.text, batchSize, sequenceLength });
    return { train: splits.train, valid: splits.valid, test: splits.test };
  });
}
