// Global average pooling: the mean over height and width of NHWC activations, with explicit backward.
import type { Backend } from '../engine/backend.js';
import type { Tensor } from '../engine/tensor.js';
import { ensureTensor } from './workspace.js';

export class SpatialMean {
  private inputShape?: number[];
  private output?: Tensor;
  private inputGrad?: Tensor;

  constructor(private readonly backend: Backend) {}

  /** x is [batch, height, width, channels]; returns [batch, channels] (buffer reused). */
  forward(x: Tensor): Tensor {
    if (x.shape.length !== 4) throw new Error(`spatial mean: expected input [batch, height, width, channels], got [${x.shape}]`);
    const [batch, height, width, channels] = x.shape;
    this.inputShape = [...x.shape];
    this.output = ensureTensor(this.output, [batch, channels]);
    this.backend.spatialMean(x.data, batch, height * width, channels, this.output.data);
    return this.output;
  }

  /** dy is [batch, channels]; returns dL/dx [batch, height, width, channels] (buffer reused). */
  backward(dy: Tensor): Tensor {
    const shape = this.inputShape;
    if (!shape) throw new Error('spatial mean: backward called before forward');
    const [batch, height, width, channels] = shape;
    if (dy.data.length !== batch * channels) {
      throw new Error(`spatial mean: output gradient has ${dy.data.length} values, expected ${batch * channels}`);
    }
    this.inputGrad = ensureTensor(this.inputGrad, [...shape]);
    this.backend.spatialMeanBackward(dy.data, batch, height * width, channels, this.inputGrad.data);
    return this.inputGrad;
  }
}
