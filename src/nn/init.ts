// Haiku's default initialisers: truncated normal weights (σ = 1/sqrt(fan_in), within ±2σ), zero biases.
import { truncatedNormal, type Key } from '../engine/random.js';
import { sizeOf, type Tensor } from '../engine/tensor.js';

export function varianceScalingWeight(key: Key, shape: number[], fanIn: number): Tensor {
  return { shape: [...shape], data: truncatedNormal(key, sizeOf(shape), 1 / Math.sqrt(fanIn), -2, 2) };
}

export function zeroBias(shape: number[]): Tensor {
  return { shape: [...shape], data: new Float32Array(sizeOf(shape)) };
}
