// θ of a plain MLP (Haiku Linear layers, weights stored [in, out]): shapes, initialisation, packing
// into the one array the fused kernels read.
import { split, type Key } from '../engine/random.js';
import type { Params } from '../engine/tensor.js';
import { varianceScalingWeight, zeroBias } from '../nn/init.js';

export interface MlpLayerNames {
  w: string;
  b: string;
}

/** Widths [in, h, …, h, out] of an MLP with `depth` hidden layers of `hidden` units. */
export function mlpWidths(inputs: number, hidden: number, depth: number, outputs: number): number[] {
  return [inputs, ...Array.from({ length: depth }, () => hidden), outputs];
}

export function mlpShapes(widths: readonly number[], names: (layer: number) => MlpLayerNames): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (let l = 0; l + 1 < widths.length; l++) {
    const { w, b } = names(l);
    shapes[w] = [widths[l], widths[l + 1]];
    shapes[b] = [widths[l + 1]];
  }
  return shapes;
}

/**
 * Haiku's Linear initialisation: weights truncated normal with σ = 1/sqrt(fan_in) in [−2σ, 2σ] (no
 * variance correction), biases 0. Layer l draws from split(key, layers)[l].
 */
export function initMlp(key: Key, widths: readonly number[], names: (layer: number) => MlpLayerNames): Params {
  const layers = widths.length - 1;
  const keys = split(key, layers);
  const out: Params = {};
  for (let l = 0; l < layers; l++) {
    const { w, b } = names(l);
    out[w] = varianceScalingWeight(keys[l], [widths[l], widths[l + 1]], widths[l]);
    out[b] = zeroBias([widths[l + 1]]);
  }
  return out;
}

/** W0, b0, W1, b1, … concatenated (MlpLoptNet.params). */
export function packMlp(theta: Params, widths: readonly number[], names: (layer: number) => MlpLayerNames): Float32Array {
  let total = 0;
  for (let l = 0; l + 1 < widths.length; l++) total += widths[l] * widths[l + 1] + widths[l + 1];
  const out = new Float32Array(total);
  let offset = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const { w, b } = names(l);
    out.set(theta[w].data, offset);
    offset += theta[w].data.length;
    out.set(theta[b].data, offset);
    offset += theta[b].data.length;
  }
  return out;
}
