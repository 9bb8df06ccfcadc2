// One block of Haiku's ResNet V2 (haiku/_src/nets/resnet.py, BlockV2): pre-activation, each layer is
// BatchNorm → ReLU → conv; the projection shortcut (a 1x1 strided conv, when the block has one) reads
// the first pre-activation, the identity shortcut the block's input; the output is main + shortcut.
// Basic blocks (ResNet-18/34): 3x3 (stride) then 3x3. Bottleneck blocks (ResNet-50+): 1x1 to
// channels/4, 3x3 (stride), 1x1 to channels. Convolutions have no bias (Haiku: with_bias=False).
import type { Backend } from '../engine/backend.js';
import { split, type Key } from '../engine/random.js';
import type { Params, Tensor } from '../engine/tensor.js';
import { BatchNorm, type BatchNormActivations, type BatchNormMode } from './batch-norm.js';
import { Conv2d, type Conv2dActivations, type ConvWorkspace } from './conv2d.js';
import { ReLU, type ReluActivations } from './relu.js';
import { ResidualAdd, type ResidualAddActivations } from './residual-add.js';

export interface ResNetBlockOptions {
  inChannels: number;
  channels: number;
  stride: number;
  bottleneck: boolean;
  projection: boolean;
  /** Scratch shared by the model's convolutions. */
  workspace: ConvWorkspace;
}

export interface ResNetBlockActivations {
  bns: BatchNormActivations[];
  relus: ReluActivations[];
  convs: Conv2dActivations[];
  projection: Conv2dActivations;
  add: ResidualAddActivations;
}

export class ResNetBlockV2 {
  private readonly bns: BatchNorm[];
  private readonly relus: ReLU[];
  private readonly convs: Conv2d[];
  private readonly projection?: Conv2d;
  private readonly add: ResidualAdd;

  constructor(readonly name: string, options: ResNetBlockOptions, backend: Backend) {
    const { inChannels, channels, stride, bottleneck, workspace } = options;
    // [in, out, kernel, stride] of each conv.
    const quarter = channels / 4;
    if (bottleneck && !Number.isInteger(quarter)) throw new Error(`${name}: bottleneck channels ${channels} must be a multiple of 4`);
    const layers: [number, number, number, number][] = bottleneck
      ? [[inChannels, quarter, 1, 1], [quarter, quarter, 3, stride], [quarter, channels, 1, 1]]
      : [[inChannels, channels, 3, stride], [channels, channels, 3, 1]];
    this.bns = layers.map(([cin], i) => new BatchNorm(`${name}/batchnorm_${i}`, cin, backend));
    this.relus = layers.map(() => new ReLU(backend));
    this.convs = layers.map(([cin, cout, k, s], i) => new Conv2d(`${name}/conv_${i}`, cin, cout, backend, { kernelSize: k, stride: s, bias: false, workspace }));
    if (options.projection) {
      this.projection = new Conv2d(`${name}/shortcut_conv`, inChannels, channels, backend, { kernelSize: 1, stride, bias: false, workspace });
    } else if (inChannels !== channels || stride !== 1) {
      throw new Error(`${name}: an identity shortcut needs inChannels = channels and stride 1 (got ${inChannels} → ${channels}, stride ${stride})`);
    }
    this.add = new ResidualAdd(backend);
  }

  get paramCount(): number {
    const layers = [...this.bns, ...this.convs, ...(this.projection ? [this.projection] : [])];
    return layers.reduce((sum, layer) => sum + layer.paramCount, 0);
  }

  init(key: Key): Params {
    const keys = split(key, this.convs.length + 1);
    return Object.assign({}, ...this.bns.map((bn) => bn.init()), ...this.convs.map((conv, i) => conv.init(keys[i])),
      this.projection?.init(keys.at(-1)!) ?? {});
  }

  initState(): Params {
    return Object.assign({}, ...this.bns.map((bn) => bn.initState()));
  }

  createActivations(): ResNetBlockActivations {
    return {
      bns: this.bns.map((bn) => bn.createActivations()),
      relus: this.relus.map((relu) => relu.createActivations()),
      convs: this.convs.map((conv) => conv.createActivations()),
      projection: this.projection?.createActivations() ?? {},
      add: this.add.createActivations(),
    };
  }

  forward(params: Params, x: Tensor, acts: ResNetBlockActivations, mode: BatchNormMode): Tensor {
    let shortcut = x;
    let h = x;
    this.convs.forEach((conv, i) => {
      h = this.relus[i].forward(this.bns[i].forward(params, h, acts.bns[i], mode), acts.relus[i]);
      if (i === 0 && this.projection) shortcut = this.projection.forward(params, h, acts.projection);
      h = conv.forward(params, h, acts.convs[i]);
    });
    return this.add.forward(h, shortcut, acts.add);
  }

  /** Writes every gradient of the block into `grads` and returns dL/dx (a buffer of the block's). */
  backward(params: Params, dy: Tensor, grads: Params, acts: ResNetBlockActivations): Tensor {
    const [dMain, dShortcut] = this.add.backward(dy);
    let d = dMain;
    for (let i = this.convs.length - 1; i >= 0; i--) {
      d = this.convs[i].backward(params, d, grads, true, acts.convs[i])!;
      if (i === 0 && this.projection) this.add.accumulate(d, this.projection.backward(params, dShortcut, grads, true, acts.projection)!);
      d = this.bns[i].backward(params, this.relus[i].backward(d, acts.relus[i]), grads, acts.bns[i]);
    }
    return this.projection ? d : this.add.accumulate(d, dShortcut);
  }

  /** Output shape for an input shape [batch, height, width, inChannels]. */
  outputShape(shape: number[]): number[] {
    return this.convs.reduce((s, conv) => conv.outputShape(s), shape);
  }

  /** Forward multiply-adds ×2 of the convolutions for an input shape (FLOPs). */
  forwardFlops(shape: number[]): number {
    let flops = 0;
    let s = shape;
    this.convs.forEach((conv, i) => {
      const out = conv.outputShape(s);
      flops += conv.forwardFlops(out[0] * out[1] * out[2]);
      if (i === 0 && this.projection) {
        const p = this.projection.outputShape(s);
        flops += this.projection.forwardFlops(p[0] * p[1] * p[2]);
      }
      s = out;
    });
    return flops;
  }
}
