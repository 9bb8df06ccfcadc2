// Learned accumulator decays (small_fc_lopt): θ holds an offset x per decay, 0 at initialisation.
//
// LO's param_to_decay(decay_to_param(d0) + x) = 1 − exp(10·(log(1 − d0)/10 + x)), so x = 0 gives d0.

export function decayFromOffset(initial: number, offset: number): number {
  return 1 - Math.exp(10 * (Math.log(1 - initial) / 10 + offset));
}

/** Effective decays (float32) from initial decays and θ offsets; `clip` clips them to [0, 1] (rms, AdaFactor). */
export function decaysFromOffsets(initial: readonly number[], offsets: Float32Array | null, clip: boolean): Float32Array {
  const out = new Float32Array(initial.length);
  for (let i = 0; i < initial.length; i++) {
    const d = decayFromOffset(initial[i], offsets ? offsets[i] : 0);
    out[i] = clip ? Math.min(Math.max(d, 0), 1) : d;
  }
  return out;
}
