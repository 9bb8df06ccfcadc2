// One step of Haiku's LSTM (hk.LSTM) for a batch of rows: the per-tensor LSTMs of nn_adam and
// rnn_fc_lopt, whose rows are the parameter tensors.
//
// One Linear over [x, h] → 4·hidden with one bias (weight [in + hidden, 4·hidden]); gates i, g, f, o;
// c' = σ(f + 1)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c') (docs/specification.md §16,
// backend.lstmCellForward).
//
// `lstmStep` is stateless: the caller owns the recurrent state (h, c) and the scratch buffers
// (`LstmScratch`, plain typed arrays), so an optimizer can keep them in its state object (checkpointable,
// structuredClone-able, several states of one optimizer stepped interleaved). `LstmStep` wraps one
// scratch for callers that want an object.
import type { Backend } from '../engine/backend.js';

/** Scratch of one LSTM step over `rows` rows; its contents before a step do not matter. */
export interface LstmScratch {
  /** [rows, inputs + hidden]: the concatenated [x, h]. */
  xh: Float32Array;
  /** [rows, 4·hidden]: the gate pre-activations. */
  gates: Float32Array;
  /** [rows, hidden]: tanh(c'). */
  tanhC: Float32Array;
}

export function createLstmScratch(rows: number, inputs: number, hidden: number): LstmScratch {
  return {
    xh: new Float32Array(rows * (inputs + hidden)),
    gates: new Float32Array(rows * 4 * hidden),
    tanhC: new Float32Array(rows * hidden),
  };
}

/**
 * x [rows, inputs]; h, c [rows, hidden] are the state, replaced by the next one; w [inputs + hidden,
 * 4·hidden], b [4·hidden]; `scratch` from createLstmScratch(rows, inputs, hidden). Returns h (the output).
 */
export function lstmStep(
  backend: Backend, rows: number, inputs: number, hidden: number,
  x: Float32Array, h: Float32Array, c: Float32Array, w: Float32Array, b: Float32Array, scratch: LstmScratch,
): Float32Array {
  const { xh, gates, tanhC } = scratch;
  const width = inputs + hidden;
  for (let r = 0; r < rows; r++) {
    xh.set(x.subarray(r * inputs, (r + 1) * inputs), r * width);
    xh.set(h.subarray(r * hidden, (r + 1) * hidden), r * width + inputs);
  }
  backend.gemm(false, false, rows, 4 * hidden, width, 1, xh, w, 0, gates);
  backend.addRowVector(gates, b, rows, 4 * hidden);
  backend.lstmCellForward(gates, c, rows, hidden, c, h, tanhC);
  return h;
}

export class LstmStep {
  private readonly scratch: LstmScratch;

  constructor(private readonly backend: Backend, readonly rows: number, readonly inputs: number, readonly hidden: number) {
    this.scratch = createLstmScratch(rows, inputs, hidden);
  }

  /**
   * x [rows, inputs]; h, c [rows, hidden] are the state, replaced by the next one; w [inputs + hidden,
   * 4·hidden], b [4·hidden]. Returns h (the output).
   */
  step(x: Float32Array, h: Float32Array, c: Float32Array, w: Float32Array, b: Float32Array): Float32Array {
    return lstmStep(this.backend, this.rows, this.inputs, this.hidden, x, h, c, w, b, this.scratch);
  }
}
