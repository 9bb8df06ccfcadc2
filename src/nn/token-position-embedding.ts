// Token embedding plus learned positions, as Haiku's transformer example's language model: an hk.Embed
// table [vocab, width] and a 'positional_embeddings' parameter [maxLength, width], both truncated
// normal with σ = 0.02; the input of position t is table[token] + positions[t].
import type { Backend } from '../engine/backend.js';
import { split, truncatedNormal, type Key } from '../engine/random.js';
import type { Params, Tensor } from '../engine/tensor.js';
import { Embedding, type EmbeddingActivations } from './embedding.js';

export interface TokenPositionActivations {
  embed: EmbeddingActivations;
  /** Sequences in the last forward pass. */
  batch?: number;
}

export class TokenPositionEmbedding {
  readonly positionsName: string;
  private readonly embed: Embedding;
  private readonly ownActs: TokenPositionActivations = { embed: {} };

  constructor(readonly name: string, readonly vocabSize: number, readonly width: number, readonly maxLength: number, private readonly backend: Backend) {
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new Error(`${name}: maxLength must be a positive integer, got ${maxLength}`);
    this.embed = new Embedding(`${name}/embed`, vocabSize, width, backend);
    this.positionsName = `${name}/positional_embeddings`;
  }

  get paramCount(): number {
    return this.embed.paramCount + this.maxLength * this.width;
  }

  init(key: Key): Params {
    const [kt, kp] = split(key, 2);
    return {
      [this.embed.tableName]: { shape: [this.vocabSize, this.width], data: truncatedNormal(kt, this.vocabSize * this.width, 0.02) },
      [this.positionsName]: { shape: [this.maxLength, this.width], data: truncatedNormal(kp, this.maxLength * this.width, 0.02) },
    };
  }

  createActivations(): TokenPositionActivations {
    return { embed: this.embed.createActivations() };
  }

  /** ids [batch·length] (row-major [batch, length], length ≤ maxLength); returns [batch, length, width]. */
  forward(params: Params, ids: Int32Array, batch: number, length: number, acts: TokenPositionActivations = this.ownActs): Tensor {
    if (length > this.maxLength) throw new Error(`${this.name}: sequences of ${length} exceed the ${this.maxLength} learned positions`);
    const out = this.embed.forward(params, ids, [batch, length], acts.embed);
    acts.batch = batch;
    const positions = params[this.positionsName].data.subarray(0, length * this.width);
    this.backend.addRowVector(out.data, positions, batch, length * this.width);
    return out;
  }

  /** Writes the gradients of the token table and of the positions (Σ over the batch) into `grads`. */
  backward(dy: Tensor, grads: Params, acts: TokenPositionActivations = this.ownActs): void {
    if (acts.batch === undefined) throw new Error(`${this.name}: backward called before forward`);
    this.embed.backward(dy, grads, acts.embed);
    const dPositions = grads[this.positionsName].data;
    const used = dy.data.length / acts.batch; // length·width: rows beyond the sequence get 0
    this.backend.fill(dPositions, 0);
    this.backend.sumRows(dy.data, acts.batch, used, dPositions.subarray(0, used), false);
  }
}
