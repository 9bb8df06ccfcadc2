// Max pooling over NHWC images with SAME padding (hk.max_pool(padding="SAME"): positions outside the
// image never win), with explicit backward through the winners' indices.
import type { Backend, ConvGeometry } from '../engine/backend.js';
import type { Tensor } from '../engine/tensor.js';
import { samePadding } from './conv2d.js';
import { ensureTensor } from './workspace.js';

/** What one MaxPool pass writes and its backward reads (caller-owned, buffers reused). */
export interface MaxPoolActivations {
  inputShape?: number[];
  output?: Tensor;
  /** Per output element: the flat index of the input element that won. */
  argmax?: Int32Array;
  inputGrad?: Tensor;
}

export class MaxPool {
  private readonly ownActs: MaxPoolActivations = {};

  /** A windowSize×windowSize window moved by `stride` along both axes (Haiku ResNet: 3, 2). */
  constructor(private readonly backend: Backend, readonly windowSize = 3, readonly stride = 2) {
    for (const [what, value] of [['windowSize', windowSize], ['stride', stride]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`max pool: ${what} must be a positive integer, got ${value}`);
    }
  }

  createActivations(): MaxPoolActivations {
    return {};
  }

  geometryFor(shape: readonly number[]): ConvGeometry {
    if (shape.length !== 4) throw new Error(`max pool: expected input [batch, height, width, channels], got [${shape}]`);
    const [batch, height, width, channels] = shape;
    const rows = samePadding(height, this.windowSize, this.stride);
    const columns = samePadding(width, this.windowSize, this.stride);
    return {
      batch, height, width, channels, kernelSize: this.windowSize, stride: this.stride,
      padTop: rows.before, padLeft: columns.before, outHeight: rows.out, outWidth: columns.out,
    };
  }

  /** x is [batch, height, width, channels]; returns [batch, outHeight, outWidth, channels] (buffer reused). */
  forward(x: Tensor, acts: MaxPoolActivations = this.ownActs): Tensor {
    const g = this.geometryFor(x.shape);
    acts.inputShape = [...x.shape];
    const output = ensureTensor(acts.output, [g.batch, g.outHeight, g.outWidth, g.channels]);
    acts.output = output;
    if (!acts.argmax || acts.argmax.length !== output.data.length) acts.argmax = new Int32Array(output.data.length);
    this.backend.maxPoolForward(x.data, g, output.data, acts.argmax);
    return output;
  }

  /** Returns dL/dx (buffer reused): each output's gradient added to the input element that won. */
  backward(dy: Tensor, acts: MaxPoolActivations = this.ownActs): Tensor {
    if (!acts.inputShape || !acts.argmax) throw new Error('max pool: backward called before forward');
    if (dy.data.length !== acts.argmax.length) throw new Error(`max pool: output gradient has ${dy.data.length} values, expected ${acts.argmax.length}`);
    const inputGrad = ensureTensor(acts.inputGrad, [...acts.inputShape]);
    acts.inputGrad = inputGrad;
    this.backend.maxPoolBackward(dy.data, acts.argmax, inputGrad.data);
    return inputGrad;
  }
}
