// One step of Haiku's LSTM (hk.LSTM) for a batch of rows: the per-tensor LSTMs of nn_adam and
// rnn_fc_lopt, whose rows are the parameter tensors.
//
// One Linear over [x, h] → 4·hidden with one bias (weight [in + hidden, 4·hidden]); gates i, g, f, o;
// c' = σ(f + 1)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c') (docs/specification.md §16,
// backend.lstmCellForward).
import type { Backend } from '../engine/backend.js';

export class LstmStep {
  private readonly xh: Float32Array;
  private readonly gates: Float32Array;
  private readonly tanhC: Float32Array;

  constructor(private readonly backend: Backend, readonly rows: number, readonly inputs: number, readonly hidden: number) {
    this.xh = new Float32Array(rows * (inputs + hidden));
    this.gates = new Float32Array(rows * 4 * hidden);
    this.tanhC = new Float32Array(rows * hidden);
  }

  /**
   * x [rows, inputs]; h, c [rows, hidden] are the state, replaced by the next one; w [inputs + hidden,
   * 4·hidden], b [4·hidden]. Returns h (the output).
   */
  step(x: Float32Array, h: Float32Array, c: Float32Array, w: Float32Array, b: Float32Array): Float32Array {
    const { rows, inputs, hidden, xh, gates } = this;
    const width = inputs + hidden;
    for (let r = 0; r < rows; r++) {
      xh.set(x.subarray(r * inputs, (r + 1) * inputs), r * width);
      xh.set(h.subarray(r * hidden, (r + 1) * hidden), r * width + inputs);
    }
    this.backend.gemm(false, false, rows, 4 * hidden, width, 1, xh, w, 0, gates);
    this.backend.addRowVector(gates, b, rows, 4 * hidden);
    this.backend.lstmCellForward(gates, c, rows, hidden, c, h, this.tanhC);
    return h;
  }
}
