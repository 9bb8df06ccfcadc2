// Causal multi-head self-attention (Haiku's hk.MultiHeadAttention as the transformer examples use it:
// query, key, value and output projections with biases, key size width/heads, a causal mask), with
// explicit backward. Per head and sequence, QKᵀ and PV are backend.gemm calls on head-major copies;
// scaling, masking and the softmax are one fused kernel (backend.causalSoftmax), as is its backward.
import type { Backend } from '../engine/backend.js';
import { split, type Key } from '../engine/random.js';
import type { Params, Tensor } from '../engine/tensor.js';
import { Linear, type LinearActivations } from './linear.js';
import { ensureTensor } from './workspace.js';

/** What one attention pass writes and its backward reads (caller-owned, buffers reused). */
export interface AttentionActivations {
  query: LinearActivations;
  key: LinearActivations;
  value: LinearActivations;
  output: LinearActivations;
  /** Head-major [batch, heads, length, headSize] copies of Q, K, V and of the attention output. */
  q?: Tensor;
  k?: Tensor;
  v?: Tensor;
  context?: Tensor;
  /** The attention weights [batch, heads, length, length] (row i: query i; zero above the diagonal). */
  probs?: Tensor;
  /** The context merged back to [batch·length, width] for the output projection. */
  merged?: Tensor;
  /** Backward scratch: gradients of the head-major tensors and of the scores, then merged gradients. */
  dq?: Tensor;
  dk?: Tensor;
  dv?: Tensor;
  dContext?: Tensor;
  dScores?: Tensor;
  dMerged?: Tensor;
  batch?: number;
  length?: number;
}

export class CausalSelfAttention {
  readonly headSize: number;
  private readonly query: Linear;
  private readonly key: Linear;
  private readonly value: Linear;
  private readonly output: Linear;
  private readonly ownActs: AttentionActivations;

  constructor(readonly name: string, readonly width: number, readonly heads: number, private readonly backend: Backend) {
    if (!Number.isInteger(heads) || heads < 1 || width % heads !== 0) {
      throw new Error(`${name}: width ${width} must be a multiple of heads ${heads} (a positive integer)`);
    }
    this.headSize = width / heads;
    this.query = new Linear(`${name}/query`, width, width, backend);
    this.key = new Linear(`${name}/key`, width, width, backend);
    this.value = new Linear(`${name}/value`, width, width, backend);
    this.output = new Linear(`${name}/linear`, width, width, backend);
    this.ownActs = this.createActivations();
  }

  get paramCount(): number {
    return 4 * this.query.paramCount;
  }

  init(key: Key): Params {
    const [kq, kk, kv, ko] = split(key, 4);
    return { ...this.query.init(kq), ...this.key.init(kk), ...this.value.init(kv), ...this.output.init(ko) };
  }

  createActivations(): AttentionActivations {
    return { query: {}, key: {}, value: {}, output: {} };
  }

  /** x is [batch, length, width]; returns [batch·length, width] (buffer reused). */
  forward(params: Params, x: Tensor, acts: AttentionActivations = this.ownActs): Tensor {
    if (x.shape.length !== 3 || x.shape[2] !== this.width) {
      throw new Error(`${this.name}: expected input [batch, length, ${this.width}], got [${x.shape}]`);
    }
    const [batch, length] = x.shape;
    acts.batch = batch;
    acts.length = length;
    const headShape = [batch, this.heads, length, this.headSize];
    acts.q = this.splitHeads(this.query.forward(params, x, acts.query), ensureTensor(acts.q, headShape), batch, length);
    acts.k = this.splitHeads(this.key.forward(params, x, acts.key), ensureTensor(acts.k, headShape), batch, length);
    acts.v = this.splitHeads(this.value.forward(params, x, acts.value), ensureTensor(acts.v, headShape), batch, length);
    const probs = ensureTensor(acts.probs, [batch, this.heads, length, length]);
    const context = ensureTensor(acts.context, headShape);
    acts.probs = probs;
    acts.context = context;
    this.perHead(batch, length, (qkv, scores) => {
      this.backend.gemm(false, true, length, length, this.headSize, 1, acts.q!.data.subarray(...qkv), acts.k!.data.subarray(...qkv), 0,
        probs.data.subarray(...scores));
    });
    this.backend.causalSoftmax(probs.data, batch * this.heads, length, this.scale, probs.data);
    this.perHead(batch, length, (qkv, scores) => {
      this.backend.gemm(false, false, length, this.headSize, length, 1, probs.data.subarray(...scores), acts.v!.data.subarray(...qkv), 0,
        context.data.subarray(...qkv));
    });
    acts.merged = this.mergeHeads(context, ensureTensor(acts.merged, [batch * length, this.width]), batch, length);
    return this.output.forward(params, acts.merged, acts.output);
  }

  /**
   * Writes the projections' gradients into `grads` (overwriting) and returns dL/dx [batch·length,
   * width] (a reused buffer).
   */
  backward(params: Params, dy: Tensor, grads: Params, acts: AttentionActivations = this.ownActs): Tensor {
    const { batch, length, q, k, v, probs } = acts;
    if (batch === undefined || length === undefined || !q || !k || !v || !probs) throw new Error(`${this.name}: backward called before forward`);
    const headShape = [batch, this.heads, length, this.headSize];
    const dMerged = this.output.backward(params, dy, grads, true, acts.output)!;
    const dContext = this.splitHeads(dMerged, ensureTensor(acts.dContext, headShape), batch, length);
    const dScores = ensureTensor(acts.dScores, [batch, this.heads, length, length]);
    const dq = ensureTensor(acts.dq, headShape);
    const dk = ensureTensor(acts.dk, headShape);
    const dv = ensureTensor(acts.dv, headShape);
    Object.assign(acts, { dContext, dScores, dq, dk, dv });
    const b = this.backend;
    const h = this.headSize;
    this.perHead(batch, length, (qkv, scores) => {
      const dC = dContext.data.subarray(...qkv);
      b.gemm(false, true, length, length, h, 1, dC, v.data.subarray(...qkv), 0, dScores.data.subarray(...scores));
      b.gemm(true, false, length, h, length, 1, probs.data.subarray(...scores), dC, 0, dv.data.subarray(...qkv));
    });
    b.causalSoftmaxBackward(probs.data, dScores.data, batch * this.heads, length, this.scale, dScores.data);
    this.perHead(batch, length, (qkv, scores) => {
      const dS = dScores.data.subarray(...scores);
      b.gemm(false, false, length, h, length, 1, dS, k.data.subarray(...qkv), 0, dq.data.subarray(...qkv));
      b.gemm(true, false, length, h, length, 1, dS, q.data.subarray(...qkv), 0, dk.data.subarray(...qkv));
    });
    const merged = ensureTensor(acts.dMerged, [batch * length, this.width]);
    acts.dMerged = merged;
    const dx = this.query.backward(params, this.mergeHeads(dq, merged, batch, length), grads, true, acts.query)!;
    b.add(dx.data, this.key.backward(params, this.mergeHeads(dk, merged, batch, length), grads, true, acts.key)!.data, dx.data);
    b.add(dx.data, this.value.backward(params, this.mergeHeads(dv, merged, batch, length), grads, true, acts.value)!.data, dx.data);
    return dx;
  }

  /** 1/sqrt(headSize): the scale of the scores. */
  private get scale(): number {
    return 1 / Math.sqrt(this.headSize);
  }

  /** Calls fn with the [start, end) ranges of one (sequence, head) block of Q/K/V and of the scores. */
  private perHead(batch: number, length: number, fn: (qkv: [number, number], scores: [number, number]) => void): void {
    const qkvSize = length * this.headSize;
    const scoreSize = length * length;
    for (let i = 0; i < batch * this.heads; i++) fn([i * qkvSize, (i + 1) * qkvSize], [i * scoreSize, (i + 1) * scoreSize]);
  }

  /** [batch, length, heads, headSize] → [batch, heads, length, headSize]. */
  private splitHeads(x: Tensor, out: Tensor, batch: number, length: number): Tensor {
    const size = length * this.width;
    for (let s = 0; s < batch; s++) {
      this.backend.swapLeadingAxes(x.data.subarray(s * size, (s + 1) * size), length, this.heads, this.headSize, out.data.subarray(s * size, (s + 1) * size));
    }
    return out;
  }

  /** [batch, heads, length, headSize] → [batch·length, width]. */
  private mergeHeads(x: Tensor, out: Tensor, batch: number, length: number): Tensor {
    const size = length * this.width;
    for (let s = 0; s < batch; s++) {
      this.backend.swapLeadingAxes(x.data.subarray(s * size, (s + 1) * size), this.heads, length, this.headSize, out.data.subarray(s * size, (s + 1) * size));
    }
    return out;
  }

  /** Multiply-adds of one forward pass over `batch` sequences of `length`, times two (FLOPs). */
  forwardFlops(batch: number, length: number): number {
    return 4 * this.query.forwardFlops(batch * length) + 2 * 2 * batch * this.heads * length * length * this.headSize;
  }
}
