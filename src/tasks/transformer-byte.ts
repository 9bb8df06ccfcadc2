// transformer-byte: the byte-level transformer language model of the paper's Table 1 (App. D.4): byte
// vocabulary 256, width 768, 6 pre-LayerNorm blocks of 12-head causal self-attention and a 4x GELU MLP,
// learned positions, a final LayerNorm and an untied output layer with bias (Haiku's transformer
// example, on which LO's transformer LM tasks build); sequences of 256 bytes, batch 16 (also timed at
// 512 bytes, batch 2). It trains on the text data set of text-lstm-lm (padding byte 0 masked).
//
// Parameters at the paper's settings: per block 2·2·768 (LayerNorms) + 4·(768² + 768) (attention) +
// 768·3072 + 3072 + 3072·768 + 768 (MLP) = 7,087,872; ×6 = 42,527,232; embeddings 256·768 and positions
// 256·768 (196,608 each), final LayerNorm 1,536, output 768·256 + 256 = 196,864: 43,118,848, the paper's
// 43.1M. (Tied output embeddings would give 42.9M, a 512-row position table 43.3M.)
import type { Backend } from '../engine/backend.js';
import { split, type Key } from '../engine/random.js';
import { zerosLike, type Params, type Tensor } from '../engine/tensor.js';
import { textSplits, type TextBatch } from '../data/text.js';
import { getBackend } from '../engine/select.js';
import { LayerNorm, type LayerNormActivations } from '../nn/layer-norm.js';
import { Linear, type LinearActivations } from '../nn/linear.js';
import { MaskedSoftmaxCrossEntropy, type MaskedCrossEntropyActivations } from '../nn/masked-softmax-cross-entropy.js';
import { TokenPositionEmbedding, type TokenPositionActivations } from '../nn/token-position-embedding.js';
import { TransformerBlock, type TransformerBlockActivations } from '../nn/transformer-block.js';
import type { TaskOptions } from './options.js';
import type { LossAndGrad, Task, TaskDatasets } from './task.js';

const VOCAB = 256;

export interface TransformerByteConfig {
  seqLen: number;
  batchSize: number;
  layers: number;
  width: number;
  heads: number;
}

interface TransformerActivations {
  embed: TokenPositionActivations;
  blocks: TransformerBlockActivations[];
  norm: LayerNormActivations;
  head: LinearActivations;
}

export class TransformerByteTask implements Task<TextBatch> {
  readonly name = 'transformer-byte';
  readonly batchSize: number;
  readonly paramCount: number;
  readonly flopsPerStep: number;
  private readonly embed: TokenPositionEmbedding;
  private readonly blocks: TransformerBlock[];
  private readonly norm: LayerNorm;
  private readonly head: Linear;
  private readonly crossEntropy: MaskedSoftmaxCrossEntropy;
  private readonly lossActs: MaskedCrossEntropyActivations;
  private readonly acts: TransformerActivations;
  private grads?: Params;
  private loaded?: TaskDatasets<TextBatch>;

  constructor(readonly config: TransformerByteConfig, backend: Backend, private readonly load: () => TaskDatasets<TextBatch>) {
    const { seqLen, layers, width, heads } = config;
    if (width % heads !== 0) throw new Error(`transformer-byte: width ${width} is not a multiple of heads ${heads} (set --task-opt width=… or heads=…)`);
    this.batchSize = config.batchSize;
    this.embed = new TokenPositionEmbedding('transformer/embed', VOCAB, width, seqLen, backend);
    this.blocks = Array.from({ length: layers }, (_, i) => new TransformerBlock(`transformer/block_${i}`, width, heads, backend));
    this.norm = new LayerNorm('transformer/layer_norm', width, backend);
    this.head = new Linear('transformer/output', width, VOCAB, backend);
    this.crossEntropy = new MaskedSoftmaxCrossEntropy(backend, 0);
    this.lossActs = this.crossEntropy.createActivations();
    this.acts = {
      embed: this.embed.createActivations(), blocks: this.blocks.map((block) => block.createActivations()),
      norm: this.norm.createActivations(), head: this.head.createActivations(),
    };
    this.paramCount = this.embed.paramCount + this.blocks.reduce((sum, block) => sum + block.paramCount, 0)
      + this.norm.paramCount + this.head.paramCount;
    const forward = this.blocks.reduce((sum, block) => sum + block.forwardFlops(config.batchSize, seqLen), 0)
      + this.head.forwardFlops(config.batchSize * seqLen);
    this.flopsPerStep = 3 * forward; // backward ≈ twice the forward
  }

  get datasets(): TaskDatasets<TextBatch> {
    if (!this.loaded) this.loaded = this.load();
    return this.loaded;
  }

  /** Like text-lstm-lm (LO's LM tasks have no normaliser): the raw loss is the meta-training loss. */
  normalizer(loss: number): number {
    return loss;
  }

  init(key: Key): Params {
    const keys = split(key, this.blocks.length + 2);
    return Object.assign({}, this.embed.init(keys[0]), ...this.blocks.map((block, i) => block.init(keys[i + 2])),
      this.norm.init(), this.head.init(keys[1]));
  }

  loss(params: Params, batch: TextBatch): number {
    return this.crossEntropy.loss(this.forward(params, batch), batch.target, this.lossActs);
  }

  lossAndGrad(params: Params, batch: TextBatch): LossAndGrad {
    if (!this.grads) this.grads = zerosLike(params);
    const grads = this.grads;
    const { loss, dlogits } = this.crossEntropy.lossAndGrad(this.forward(params, batch), batch.target, this.lossActs);
    const dNorm = this.head.backward(params, dlogits, grads, true, this.acts.head)!;
    let d = this.norm.backward(params, dNorm, grads, this.acts.norm);
    for (let i = this.blocks.length - 1; i >= 0; i--) d = this.blocks[i].backward(params, d, grads, this.acts.blocks[i]);
    this.embed.backward(d, grads, this.acts.embed);
    return { loss, grads };
  }

  private forward(params: Params, batch: TextBatch): Tensor {
    const { batchSize: rows, sequenceLength: length } = batch;
    let h = this.embed.forward(params, batch.obs, rows, length, this.acts.embed);
    this.blocks.forEach((block, i) => {
      h = block.forward(params, h, this.acts.blocks[i]);
    });
    const normed = this.norm.forward(params, h, this.acts.norm);
    return this.head.forward(params, { shape: [rows * length, this.config.width], data: normed.data }, this.acts.head);
  }
}

export function transformerByte(options: TaskOptions = {}): TransformerByteTask {
  const config: TransformerByteConfig = {
    seqLen: options.seqLen ?? 256,
    batchSize: options.batchSize ?? 16,
    layers: options.layers ?? 6,
    width: options.width ?? 768,
    heads: options.heads ?? 12,
  };
  return new TransformerByteTask(config, options.backend ?? getBackend(), () => {
    const splits = textSplits({ textFile: options.text, batchSize: config.batchSize, sequenceLength: config.seqLen });
    return { train: splits.train, valid: splits.valid, test: splits.test };
  });
}
