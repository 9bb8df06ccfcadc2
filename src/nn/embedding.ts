// Embedding lookup table (Haiku's hk.Embed) with explicit backward (scatter-add into the table gradient).
import type { Backend } from '../engine/backend.js';
import { truncatedNormal, type Key } from '../engine/random.js';
import type { Params, Tensor } from '../engine/tensor.js';
import { ensureTensor } from './workspace.js';

/** What one Embedding pass writes and its backward reads: a copy of the ids and the output buffer. */
export interface EmbeddingActivations {
  ids?: Int32Array;
  output?: Tensor;
}

export class Embedding {
  readonly tableName: string;
  /** Used when forward/backward are given no activations (the layer's own, for direct use). */
  private readonly ownActs: EmbeddingActivations = {};

  /** Parameter `<name>/embeddings` [vocabSize, embedDim] (Haiku's name). */
  constructor(
    readonly name: string,
    readonly vocabSize: number,
    readonly embedDim: number,
    private readonly backend: Backend,
  ) {
    this.tableName = `${name}/embeddings`;
  }

  get paramCount(): number {
    return this.vocabSize * this.embedDim;
  }

  /** A fresh, empty activations object (buffers are allocated on first use). */
  createActivations(): EmbeddingActivations {
    return {};
  }

  /** Haiku's default: truncated normal with σ = 1 within ±2σ. */
  init(key: Key): Params {
    return {
      [this.tableName]: { shape: [this.vocabSize, this.embedDim], data: truncatedNormal(key, this.vocabSize * this.embedDim, 1, -2, 2) },
    };
  }

  /**
   * Looks up every id (in [0, vocabSize)); returns [...shape, embedDim] (buffer reused), shape
   * defaulting to [ids.length] (e.g. [batch, steps] for token sequences).
   */
  forward(params: Params, ids: Int32Array, shape: number[] = [ids.length], acts: EmbeddingActivations = this.ownActs): Tensor {
    if (shape.reduce((a, b) => a * b, 1) !== ids.length) throw new Error(`${this.name}: shape [${shape}] does not hold ${ids.length} ids`);
    for (let i = 0; i < ids.length; i++) {
      if (!(ids[i] >= 0 && ids[i] < this.vocabSize)) throw new Error(`${this.name}: id ${ids[i]} outside [0, ${this.vocabSize})`);
    }
    if (!acts.ids || acts.ids.length !== ids.length) acts.ids = new Int32Array(ids.length);
    acts.ids.set(ids); // kept for backward, safe from later changes to the caller's array
    const output = ensureTensor(acts.output, [...shape, this.embedDim]);
    acts.output = output;
    this.backend.gatherRows(params[this.tableName].data, this.embedDim, ids, output.data);
    return output;
  }

  /** Writes dL/d(table) into `grads` (zeroed, then each output row's gradient added to its id's row). */
  backward(dy: Tensor, grads: Params, acts: EmbeddingActivations = this.ownActs): void {
    const ids = acts.ids;
    if (!ids) throw new Error(`${this.name}: backward called before forward`);
    if (dy.data.length !== ids.length * this.embedDim) {
      throw new Error(`${this.name}: output gradient has ${dy.data.length} values, expected ${ids.length * this.embedDim}`);
    }
    const table = grads[this.tableName].data;
    this.backend.fill(table, 0);
    this.backend.scatterAddRows(dy.data, this.embedDim, ids, table);
  }
}
