// Global average pooling: the mean over height and width of NHWC activations, with explicit backward.
import type { Backend } from '../engine/backend.js';
import type { Tensor } from '../engine/tensor.js';
import { ensureTensor } from './workspace.js';

/** What one SpatialMean pass writes and its backward reads (caller-owned, buffers reused). */
export interface SpatialMeanActivations {
  inputShape?: number[];
  output?: Tensor;
  inputGrad?: Tensor;
}

export class SpatialMean {
  /** Used when forward/backward are given no activations (the layer's own, for direct use). */
  private readonly ownActs: SpatialMeanActivations = {};

  constructor(private readonly backend: Backend) {}

  /** A fresh, empty activations object (buffers are allocated on first use). */
  createActivations(): SpatialMeanActivations {
    return {};
  }

  /** x is [batch, height, width, channels]; returns [batch, channels] (buffer reused). */
  forward(x: Tensor, acts: SpatialMeanActivations = this.ownActs): Tensor {
    if (x.shape.length !== 4) throw new Error(`spatial mean: expected input [batch, height, width, channels], got [${x.shape}]`);
    const [batch, height, width, channels] = x.shape;
    acts.inputShape = [...x.shape];
    const output = ensureTensor(acts.output, [batch, channels]);
    acts.output = output;
    this.backend.spatialMean(x.data, batch, height * width, channels, output.data);
    return output;
  }

  /** dy is [batch, channels]; returns dL/dx [batch, height, width, channels] (buffer reused). */
  backward(dy: Tensor, acts: SpatialMeanActivations = this.ownActs): Tensor {
    const shape = acts.inputShape;
    if (!shape) throw new Error('spatial mean: backward called before forward');
    const [batch, height, width, channels] = shape;
    if (dy.data.length !== batch * channels) {
      throw new Error(`spatial mean: output gradient has ${dy.data.length} values, expected ${batch * channels}`);
    }
    const inputGrad = ensureTensor(acts.inputGrad, [...shape]);
    acts.inputGrad = inputGrad;
    this.backend.spatialMeanBackward(dy.data, batch, height * width, channels, inputGrad.data);
    return inputGrad;
  }
}
