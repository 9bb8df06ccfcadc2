// Reusable output buffers for layers: sized on first use and reallocated only when the batch changes.
import { sizeOf, type Tensor } from '../engine/tensor.js';

/** Returns `current` when it already has `shape`'s size (shape updated in place), else a new tensor. */
export function ensureTensor(current: Tensor | undefined, shape: number[]): Tensor {
  const size = sizeOf(shape);
  if (current && current.data.length === size) {
    current.shape = shape;
    return current;
  }
  return { shape, data: new Float32Array(size) };
}
