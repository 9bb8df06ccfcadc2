// The training-step features of the learned optimizers: LO's 11 timescales, tanh or sin embeddings.

/** τ of LO's time features. */
export const TIMESCALES: readonly number[] = [1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000];

/** tanh(t/τ − 1) for each τ, t the iteration before the increment (small_fc_lopt, fc_lopt). */
export function tanhTimeFeatures(iteration: number, out = new Float32Array(TIMESCALES.length)): Float32Array {
  for (let i = 0; i < TIMESCALES.length; i++) out[i] = Math.tanh(iteration / TIMESCALES[i] - 1);
  return out;
}

/** sin(t/(τπ)) for each τ (rnn_fc_lopt). */
export function sinTimeFeatures(iteration: number, out = new Float32Array(TIMESCALES.length)): Float32Array {
  for (let i = 0; i < TIMESCALES.length; i++) out[i] = Math.sin(iteration / (TIMESCALES[i] * Math.PI));
  return out;
}
