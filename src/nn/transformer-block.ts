// One pre-LayerNorm transformer block as in Haiku's transformer example (examples/transformer/model.py,
// the model LO's transformer LM tasks build on): h = x + attention(LN(x)); y = h + MLP(LN(h)), the MLP
// Linear(width → 4·width), GELU, Linear(4·width → width), all with biases.
import type { Backend } from '../engine/backend.js';
import { split, type Key } from '../engine/random.js';
import type { Params, Tensor } from '../engine/tensor.js';
import { CausalSelfAttention, type AttentionActivations } from './causal-self-attention.js';
import { GELU, type GeluActivations } from './gelu.js';
import { LayerNorm, type LayerNormActivations } from './layer-norm.js';
import { Linear, type LinearActivations } from './linear.js';
import { ResidualAdd, type ResidualAddActivations } from './residual-add.js';

export interface TransformerBlockActivations {
  norm0: LayerNormActivations;
  attention: AttentionActivations;
  add0: ResidualAddActivations;
  norm1: LayerNormActivations;
  up: LinearActivations;
  gelu: GeluActivations;
  down: LinearActivations;
  add1: ResidualAddActivations;
}

export class TransformerBlock {
  private readonly norm0: LayerNorm;
  private readonly attention: CausalSelfAttention;
  private readonly norm1: LayerNorm;
  private readonly up: Linear;
  private readonly gelu: GELU;
  private readonly down: Linear;
  private readonly residual: ResidualAdd;

  constructor(readonly name: string, readonly width: number, heads: number, backend: Backend, mlpFactor = 4) {
    this.norm0 = new LayerNorm(`${name}/layer_norm_0`, width, backend);
    this.attention = new CausalSelfAttention(`${name}/attention`, width, heads, backend);
    this.norm1 = new LayerNorm(`${name}/layer_norm_1`, width, backend);
    this.up = new Linear(`${name}/mlp/linear_0`, width, mlpFactor * width, backend);
    this.gelu = new GELU(backend);
    this.down = new Linear(`${name}/mlp/linear_1`, mlpFactor * width, width, backend);
    this.residual = new ResidualAdd(backend);
  }

  get paramCount(): number {
    return this.norm0.paramCount + this.attention.paramCount + this.norm1.paramCount + this.up.paramCount + this.down.paramCount;
  }

  init(key: Key): Params {
    const [ka, ku, kd] = split(key, 3);
    return { ...this.norm0.init(), ...this.attention.init(ka), ...this.norm1.init(), ...this.up.init(ku), ...this.down.init(kd) };
  }

  createActivations(): TransformerBlockActivations {
    return {
      norm0: this.norm0.createActivations(), attention: this.attention.createActivations(), add0: {},
      norm1: this.norm1.createActivations(), up: this.up.createActivations(), gelu: this.gelu.createActivations(),
      down: this.down.createActivations(), add1: {},
    };
  }

  /** x is [batch, length, width]; returns the same shape (a reused buffer). */
  forward(params: Params, x: Tensor, acts: TransformerBlockActivations): Tensor {
    const attended = this.attention.forward(params, this.norm0.forward(params, x, acts.norm0), acts.attention);
    const h = this.residual.forward(x, attended, acts.add0);
    const hidden = this.gelu.forward(this.up.forward(params, this.norm1.forward(params, h, acts.norm1), acts.up), acts.gelu);
    return this.residual.forward(h, this.down.forward(params, hidden, acts.down), acts.add1);
  }

  /** Writes the block's gradients into `grads` (overwriting) and returns dL/dx (a reused buffer). */
  backward(params: Params, dy: Tensor, grads: Params, acts: TransformerBlockActivations): Tensor {
    const [dh, dMlp] = this.residual.backward(dy);
    const dHidden = this.gelu.backward(this.down.backward(params, dMlp, grads, true, acts.down)!, acts.gelu);
    const dNorm1 = this.up.backward(params, dHidden, grads, true, acts.up)!;
    const dH = this.residual.accumulate(this.norm1.backward(params, dNorm1, grads, acts.norm1), dh);
    const [dx, dAttention] = this.residual.backward(dH);
    const dNorm0 = this.attention.backward(params, dAttention, grads, acts.attention);
    return this.residual.accumulate(this.norm0.backward(params, dNorm0, grads, acts.norm0), dx);
  }

  /** Multiply-adds ×2 of one forward pass (FLOPs): attention and the MLP. */
  forwardFlops(batch: number, length: number): number {
    return this.attention.forwardFlops(batch, length) + this.up.forwardFlops(batch * length) + this.down.forwardFlops(batch * length);
  }
}
