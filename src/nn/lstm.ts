// Haiku's LSTM (hk.LSTM) unrolled over a sequence, with explicit backpropagation through time.
//
// One Linear over concat[x, h] → 4·hidden with one bias; gates in the order i, g, f, o;
// c' = σ(f + 1)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c') (docs/specification.md §16). The weight
// [in + hidden, 4·hidden] is used as its two row blocks: W_x (the first `in` rows) projects the whole
// input sequence in one gemm, W_h (the last `hidden` rows) is applied to h once per step. Work buffers are time-major
// ([steps, batch, ·]) so that every step is a contiguous block; they are sized on the first call and
// reused while batch and steps stay the same.
import type { Backend } from '../engine/backend.js';
import type { Key } from '../engine/random.js';
import type { Params, Tensor } from '../engine/tensor.js';
import { varianceScalingWeight, zeroBias } from './init.js';

export interface LSTMGradients {
  /** dL/dx [batch, steps, in], or null when not asked for (buffer reused). */
  dx: Tensor | null;
  /** dL/dh0 and dL/dc0 [batch, hidden], per row (buffers reused). */
  dh0: Tensor;
  dc0: Tensor;
}

export interface LSTMBackwardOptions {
  /** Compute dL/dx; default true (a first layer over fixed inputs skips it). */
  needInputGrad?: boolean;
  /** Gradients with respect to the final state (h_T, c_T) [batch, hidden], when the loss uses it. */
  dFinalH?: Tensor;
  dFinalC?: Tensor;
}

/** Per-step views into one time-major buffer of `count` blocks of `block` floats. */
function stepViews(buffer: Float32Array, count: number, block: number): Float32Array[] {
  return Array.from({ length: count }, (_, t) => buffer.subarray(t * block, (t + 1) * block));
}

/** The work buffers for one (batch, steps) and their per-step views, built once per shape. */
class Workspace {
  readonly xT: Float32Array;
  readonly gates: Float32Array; // pre-activations, then (after each step) the saved activations
  readonly h: Float32Array; // [steps + 1, batch, hidden]: h0, h1, …
  readonly c: Float32Array;
  readonly tanhC: Float32Array;
  readonly output: Tensor;
  readonly gateSteps: Float32Array[];
  readonly hSteps: Float32Array[];
  readonly cSteps: Float32Array[];
  readonly tanhCSteps: Float32Array[];
  readonly hBeforeEachStep: Float32Array; // h0 … h_{T−1}
  readonly hAfterEachStep: Float32Array; // h1 … h_T
  readonly finalH: Tensor;
  readonly finalC: Tensor;
  private backwardBuffers?: {
    dOutT: Float32Array; dOutSteps: Float32Array[]; dGates: Float32Array; dGateSteps: Float32Array[];
    dxT: Float32Array; dx: Tensor; dh0: Tensor; dc0: Tensor;
  };

  constructor(readonly batch: number, readonly steps: number, readonly inputSize: number, readonly hidden: number) {
    const state = batch * hidden;
    this.xT = new Float32Array(steps * batch * inputSize);
    this.gates = new Float32Array(steps * 4 * state);
    this.h = new Float32Array((steps + 1) * state);
    this.c = new Float32Array((steps + 1) * state);
    this.tanhC = new Float32Array(steps * state);
    this.output = { shape: [batch, steps, hidden], data: new Float32Array(steps * state) };
    this.gateSteps = stepViews(this.gates, steps, 4 * state);
    this.hSteps = stepViews(this.h, steps + 1, state);
    this.cSteps = stepViews(this.c, steps + 1, state);
    this.tanhCSteps = stepViews(this.tanhC, steps, state);
    this.hBeforeEachStep = this.h.subarray(0, steps * state);
    this.hAfterEachStep = this.h.subarray(state);
    this.finalH = { shape: [batch, hidden], data: this.hSteps[steps] };
    this.finalC = { shape: [batch, hidden], data: this.cSteps[steps] };
  }

  get backward() {
    if (!this.backwardBuffers) {
      const { batch, steps, inputSize, hidden } = this;
      const state = batch * hidden;
      const dOutT = new Float32Array(steps * state);
      const dGates = new Float32Array(steps * 4 * state);
      this.backwardBuffers = {
        dOutT, dOutSteps: stepViews(dOutT, steps, state), dGates, dGateSteps: stepViews(dGates, steps, 4 * state),
        dxT: new Float32Array(steps * batch * inputSize),
        dx: { shape: [batch, steps, inputSize], data: new Float32Array(steps * batch * inputSize) },
        dh0: { shape: [batch, hidden], data: new Float32Array(state) },
        dc0: { shape: [batch, hidden], data: new Float32Array(state) },
      };
    }
    return this.backwardBuffers;
  }
}

/** The two row blocks of a [in + hidden, 4·hidden] matrix, cached per underlying array. */
class RowBlocks {
  private source?: Float32Array;
  private blocks?: [Float32Array, Float32Array];

  constructor(private readonly split: number) {}

  of(data: Float32Array): [Float32Array, Float32Array] {
    if (data !== this.source || !this.blocks) {
      this.source = data;
      this.blocks = [data.subarray(0, this.split), data.subarray(this.split)];
    }
    return this.blocks;
  }
}

/**
 * What one LSTM forward writes and its backward reads: every step's gates, states and outputs, and the
 * backward pass's buffers (sized on first use, reused while batch and steps stay). The caller owns it
 * (the task holds one per LSTM of its model), as with Linear's activations.
 */
export interface LSTMActivations {
  work?: Workspace;
  forwardDone?: boolean;
}

export class LSTM {
  readonly weightName: string;
  readonly biasName: string;
  /** Used when forward/backward are given no activations (the layer's own, for direct use). */
  private readonly ownActs: LSTMActivations = {};
  /** Views of W's input and recurrent rows (memoised per parameter array; no activations). */
  private readonly weights: RowBlocks;
  private readonly weightGrads: RowBlocks;

  /** Parameters `<name>/linear/w` [inputSize + hiddenSize, 4·hiddenSize] and `<name>/linear/b` [4·hiddenSize]. */
  constructor(
    readonly name: string,
    readonly inputSize: number,
    readonly hiddenSize: number,
    private readonly backend: Backend,
  ) {
    for (const [what, value] of [['inputSize', inputSize], ['hiddenSize', hiddenSize]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`${name}: ${what} must be a positive integer, got ${value}`);
    }
    this.weightName = `${name}/linear/w`;
    this.biasName = `${name}/linear/b`;
    this.weights = new RowBlocks(inputSize * 4 * hiddenSize);
    this.weightGrads = new RowBlocks(inputSize * 4 * hiddenSize);
  }

  /** A fresh, empty activations object for this layer (buffers are allocated on first use). */
  createActivations(): LSTMActivations {
    return {};
  }

  get paramCount(): number {
    return (this.inputSize + this.hiddenSize + 1) * 4 * this.hiddenSize;
  }

  /** Haiku's Linear defaults on [x, h]: truncated normal σ = 1/sqrt(in + hidden) within ±2σ, zero bias. */
  init(key: Key): Params {
    const fanIn = this.inputSize + this.hiddenSize;
    return {
      [this.weightName]: varianceScalingWeight(key, [fanIn, 4 * this.hiddenSize], fanIn),
      [this.biasName]: zeroBias([4 * this.hiddenSize]),
    };
  }

  /**
   * Runs the cell over x [batch, steps, in] from the state (h0, c0), each [batch, hidden]; returns every
   * h as [batch, steps, hidden] (a buffer of `acts`; the final state is in finalState(acts)).
   */
  forward(params: Params, x: Tensor, h0: Tensor, c0: Tensor, acts: LSTMActivations = this.ownActs): Tensor {
    const [batch, steps, inputSize] = x.shape;
    const hidden = this.hiddenSize;
    if (x.shape.length !== 3 || inputSize !== this.inputSize || x.data.length !== batch * steps * inputSize) {
      throw new Error(`${this.name}: expected input [batch, steps, ${this.inputSize}], got [${x.shape}]`);
    }
    for (const [what, t] of [['h0', h0], ['c0', c0]] as const) {
      if (t.data.length !== batch * hidden) throw new Error(`${this.name}: ${what} has ${t.data.length} values, expected [${batch}, ${hidden}]`);
    }
    if (!acts.work || acts.work.batch !== batch || acts.work.steps !== steps) {
      acts.work = new Workspace(batch, steps, inputSize, hidden);
    }
    const w = acts.work;
    const b = this.backend;
    const gateWidth = 4 * hidden;
    const [wx, wh] = this.weights.of(params[this.weightName].data);
    // The input projection of every step at once, plus the bias.
    b.swapLeadingAxes(x.data, batch, steps, inputSize, w.xT);
    b.gemm(false, false, steps * batch, gateWidth, inputSize, 1, w.xT, wx, 0, w.gates);
    b.addRowVector(w.gates, params[this.biasName].data, steps * batch, gateWidth);
    w.hSteps[0].set(h0.data);
    w.cSteps[0].set(c0.data);
    for (let t = 0; t < steps; t++) {
      b.gemm(false, false, batch, gateWidth, hidden, 1, w.hSteps[t], wh, 1, w.gateSteps[t]);
      b.lstmCellForward(w.gateSteps[t], w.cSteps[t], batch, hidden, w.cSteps[t + 1], w.hSteps[t + 1], w.tanhCSteps[t]);
    }
    b.swapLeadingAxes(w.hAfterEachStep, steps, batch, hidden, w.output.data);
    acts.forwardDone = true;
    return w.output;
  }

  /** (h_T, c_T) of the last forward into `acts`, [batch, hidden] each (views into its buffers). */
  finalState(acts: LSTMActivations = this.ownActs): { h: Tensor; c: Tensor } {
    if (!acts.work || !acts.forwardDone) throw new Error(`${this.name}: finalState called before forward`);
    return { h: acts.work.finalH, c: acts.work.finalC };
  }

  /**
   * Backpropagates dL/d(outputs) [batch, steps, hidden] through time: writes dL/dW and dL/db into
   * `grads` (overwriting) and returns dL/dx and the gradients of the initial state per row. `acts` are
   * those its forward pass wrote.
   */
  backward(params: Params, dOutputs: Tensor, grads: Params, options: LSTMBackwardOptions = {}, acts: LSTMActivations = this.ownActs): LSTMGradients {
    const w = acts.work;
    if (!w || !acts.forwardDone) throw new Error(`${this.name}: backward called before forward`);
    const { batch, steps, inputSize, hidden } = w;
    const state = batch * hidden;
    if (dOutputs.data.length !== steps * state) {
      throw new Error(`${this.name}: output gradient has ${dOutputs.data.length} values, expected ${steps * state}`);
    }
    const b = this.backend;
    const d = w.backward;
    const gateWidth = 4 * hidden;
    const [, wh] = this.weights.of(params[this.weightName].data);
    b.swapLeadingAxes(dOutputs.data, batch, steps, hidden, d.dOutT);
    // d.dc0 carries dL/dc through time: from c_T on entry to c_0 at the end.
    if (options.dFinalC) d.dc0.data.set(options.dFinalC.data);
    else b.fill(d.dc0.data, 0);
    if (options.dFinalH && steps > 0) b.axpy(1, options.dFinalH.data, d.dOutSteps[steps - 1]);
    for (let t = steps - 1; t >= 0; t--) {
      // dL/dh_{t+1} = dOut_t + dGates_{t+1}·W_hᵀ (the recurrent path).
      if (t < steps - 1) b.gemm(false, true, batch, hidden, gateWidth, 1, d.dGateSteps[t + 1], wh, 1, d.dOutSteps[t]);
      b.lstmCellBackward(w.gateSteps[t], w.cSteps[t], w.tanhCSteps[t], d.dOutSteps[t], d.dc0.data, batch, hidden, d.dGateSteps[t]);
    }
    if (steps > 0) b.gemm(false, true, batch, hidden, gateWidth, 1, d.dGateSteps[0], wh, 0, d.dh0.data);
    else d.dh0.data.set(options.dFinalH ? options.dFinalH.data : new Float32Array(state));
    // Weight gradients over all steps at once: [x_t, h_{t−1}]ᵀ·dGates_t summed over t.
    const [dwx, dwh] = this.weightGrads.of(grads[this.weightName].data);
    b.gemm(true, false, inputSize, gateWidth, steps * batch, 1, w.xT, d.dGates, 0, dwx);
    b.gemm(true, false, hidden, gateWidth, steps * batch, 1, w.hBeforeEachStep, d.dGates, 0, dwh);
    b.sumRows(d.dGates, steps * batch, gateWidth, grads[this.biasName].data, false);
    if (options.needInputGrad === false) return { dx: null, dh0: d.dh0, dc0: d.dc0 };
    const [wx] = this.weights.of(params[this.weightName].data);
    b.gemm(false, true, steps * batch, inputSize, gateWidth, 1, d.dGates, wx, 0, d.dxT);
    b.swapLeadingAxes(d.dxT, steps, batch, inputSize, d.dx.data);
    return { dx: d.dx, dh0: d.dh0, dc0: d.dc0 };
  }

  /** Multiply-adds of one forward pass over [batch, steps], times two (FLOPs); gate arithmetic not counted. */
  forwardFlops(batch: number, steps: number): number {
    return 2 * batch * steps * (this.inputSize + this.hiddenSize) * 4 * this.hiddenSize;
  }
}
