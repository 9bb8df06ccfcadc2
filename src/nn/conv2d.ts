// 2-D convolution over NHWC images with TensorFlow/Haiku "SAME" padding, with explicit backward. The
// arithmetic is the backend's conv2d kernels (native: Winograd F(2x2, 3x3) for 3x3 stride-1 layers,
// im2col + gemm per chunk of images otherwise). What a pass saves for backward lives in a
// Conv2dActivations object the caller owns (Linear's style); the layer holds only a scratch buffer,
// which several layers may share (Conv2dOptions.workspace).
import type { Backend, ConvGeometry } from '../engine/backend.js';
import type { Key } from '../engine/random.js';
import type { Params, Tensor } from '../engine/tensor.js';
import { varianceScalingWeight, zeroBias } from './init.js';
import { ensureTensor } from './workspace.js';

export interface Conv2dOptions {
  /** Side of the square kernel; default 3. */
  kernelSize?: number;
  /** Step between windows along both axes; default 1. */
  stride?: number;
  /** Whether the layer has a bias `<name>/b`; default true (Haiku's ResNets use convolutions without). */
  bias?: boolean;
  /**
   * Scratch of the backend's conv2d kernels, grown when needed. Its contents do not outlive a call, so
   * the layers of one model may share one (a ResNet's 3x3x512 layers would otherwise each hold megabytes).
   */
  workspace?: ConvWorkspace;
}

/** A scratch buffer for the conv2d kernels (backend.conv2dWorkspaceSize), shareable between layers. */
export interface ConvWorkspace {
  data: Float32Array;
}

/**
 * What one Conv2d pass writes and its backward reads: the input it saw and its geometry, whether that
 * forward is still unconsumed, the output and input-gradient buffers (sized on first use, reused).
 */
export interface Conv2dActivations {
  input?: Tensor;
  geometry?: ConvGeometry;
  /** Whether the last forward has not yet been consumed by a backward that returned an input gradient. */
  forwardPending?: boolean;
  output?: Tensor;
  inputGrad?: Tensor;
}

/** Output size and zero padding of one axis under "SAME" padding (TensorFlow, Haiku, XLA). */
export interface SamePadding {
  out: number;
  before: number;
  after: number;
}

/**
 * out = ceil(size/stride); total = max((out − 1)·stride + kernelSize − size, 0); before =
 * floor(total/2), after = the rest. E.g. 32 with kernel 3, stride 2 → out 16, before 0, after 1.
 */
export function samePadding(size: number, kernelSize: number, stride: number): SamePadding {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernelSize - size, 0);
  const before = Math.floor(total / 2);
  return { out, before, after: total - before };
}

export class Conv2d {
  readonly weightName: string;
  readonly biasName: string;
  readonly kernelSize: number;
  readonly stride: number;
  readonly hasBias: boolean;
  private readonly workspace: ConvWorkspace;
  /** The zero bias passed to the kernel when the layer has none (constant). */
  private readonly zeros: Float32Array;
  /** Used when forward/backward are given no activations (the layer's own, for direct use). */
  private readonly ownActs: Conv2dActivations = {};

  /**
   * Parameters `<name>/w` [k, k, inChannels, outChannels] (HWIO, as Haiku stores conv kernels) and,
   * unless options.bias is false, `<name>/b` [outChannels].
   */
  constructor(
    readonly name: string,
    readonly inChannels: number,
    readonly outChannels: number,
    private readonly backend: Backend,
    options: Conv2dOptions = {},
  ) {
    this.kernelSize = options.kernelSize ?? 3;
    this.stride = options.stride ?? 1;
    for (const [what, value] of [['kernelSize', this.kernelSize], ['stride', this.stride], ['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`${name}: ${what} must be a positive integer, got ${value}`);
    }
    this.weightName = `${name}/w`;
    this.biasName = `${name}/b`;
    this.hasBias = options.bias ?? true;
    this.workspace = options.workspace ?? { data: new Float32Array(0) };
    this.zeros = new Float32Array(this.hasBias ? 0 : outChannels);
  }

  /** A fresh, empty activations object for this layer (buffers are allocated on first use). */
  createActivations(): Conv2dActivations {
    return {};
  }

  /** Rows of the im2col matrix (and of the gemm): one per input window. */
  get windowSize(): number {
    return this.kernelSize * this.kernelSize * this.inChannels;
  }

  get paramCount(): number {
    return this.windowSize * this.outChannels + (this.hasBias ? this.outChannels : 0);
  }

  /** Haiku's defaults: truncated normal with σ = 1/sqrt(k·k·inChannels) within ±2σ, zero bias. */
  init(key: Key): Params {
    const k = this.kernelSize;
    const weight = { [this.weightName]: varianceScalingWeight(key, [k, k, this.inChannels, this.outChannels], this.windowSize) };
    return this.hasBias ? { ...weight, [this.biasName]: zeroBias([this.outChannels]) } : weight;
  }

  /** The geometry of this layer on a [batch, height, width, inChannels] input. */
  geometryFor(batch: number, height: number, width: number): ConvGeometry {
    const rows = samePadding(height, this.kernelSize, this.stride);
    const columns = samePadding(width, this.kernelSize, this.stride);
    return {
      batch, height, width, channels: this.inChannels, kernelSize: this.kernelSize, stride: this.stride,
      padTop: rows.before, padLeft: columns.before, outHeight: rows.out, outWidth: columns.out,
    };
  }

  /** Output shape [batch, outHeight, outWidth, outChannels] for an input shape [batch, height, width, inChannels]. */
  outputShape(inputShape: readonly number[]): number[] {
    const g = this.geometryFor(inputShape[0], inputShape[1], inputShape[2]);
    return [g.batch, g.outHeight, g.outWidth, this.outChannels];
  }

  /**
   * x is [batch, height, width, inChannels]; returns [batch, outHeight, outWidth, outChannels] (the
   * reused buffer of `acts`). `acts` keeps a reference to x for backward: leave it unchanged until then.
   */
  forward(params: Params, x: Tensor, acts: Conv2dActivations = this.ownActs): Tensor {
    if (x.shape.length !== 4 || x.shape[3] !== this.inChannels) {
      throw new Error(`${this.name}: expected input [batch, height, width, ${this.inChannels}], got [${x.shape}]`);
    }
    const [batch, height, width] = x.shape;
    const g = this.geometryFor(batch, height, width);
    acts.input = x;
    acts.geometry = g;
    acts.forwardPending = true;
    const output = ensureTensor(acts.output, [batch, g.outHeight, g.outWidth, this.outChannels]);
    acts.output = output;
    const bias = this.hasBias ? params[this.biasName].data : this.zeros;
    this.backend.conv2dForward(x.data, params[this.weightName].data, bias, g, this.outChannels, output.data, this.scratch(g));
    return output;
  }

  /**
   * Writes dL/dW and dL/db into `grads` (overwriting) and returns dL/dx (buffer reused) unless
   * `needInputGrad` is false (the first layer skips it). One backward per forward: a backward that
   * returned the input gradient consumes the forward.
   */
  backward(params: Params, dy: Tensor, grads: Params, needInputGrad = true, acts: Conv2dActivations = this.ownActs): Tensor | null {
    const x = acts.input;
    const g = acts.geometry;
    if (!x || !g) throw new Error(`${this.name}: backward called before forward`);
    if (!acts.forwardPending) throw new Error(`${this.name}: backward called twice after one forward`);
    const rows = g.batch * g.outHeight * g.outWidth;
    if (dy.data.length !== rows * this.outChannels) {
      throw new Error(`${this.name}: output gradient has ${dy.data.length} values, expected ${rows * this.outChannels}`);
    }
    const workspace = this.scratch(g);
    this.backend.conv2dBackwardFilter(x.data, dy.data, g, this.outChannels, grads[this.weightName].data, workspace);
    if (this.hasBias) this.backend.sumRows(dy.data, rows, this.outChannels, grads[this.biasName].data, false);
    if (!needInputGrad) return null;
    acts.forwardPending = false;
    const inputGrad = ensureTensor(acts.inputGrad, [...x.shape]);
    acts.inputGrad = inputGrad;
    this.backend.conv2dBackwardInput(dy.data, params[this.weightName].data, g, this.outChannels, inputGrad.data, workspace);
    return inputGrad;
  }

  private scratch(g: ConvGeometry): Float32Array {
    const size = this.backend.conv2dWorkspaceSize(g, this.outChannels);
    if (this.workspace.data.length < size) this.workspace.data = new Float32Array(size);
    return this.workspace.data;
  }

  /**
   * Multiply-adds of one forward pass, times two (FLOPs), for `rows` output positions (the im2col
   * rows, batch·outHeight·outWidth; see outputShape).
   */
  forwardFlops(rows: number): number {
    return 2 * rows * this.windowSize * this.outChannels;
  }
}
