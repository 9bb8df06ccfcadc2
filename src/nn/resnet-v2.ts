// Haiku's ResNet V2 (haiku/_src/nets/resnet.py with resnet_v2=True): initial 7x7 stride-2 conv (64
// channels, no bias, no BatchNorm in V2), 3x3 stride-2 SAME max pool, four block groups (strides 1, 2,
// 2, 2), final BatchNorm + ReLU, mean over height and width, a linear layer to the classes (weights
// initialised to zero, Haiku's logits default). ResNet-18 and ResNet-50 are the configurations of
// Haiku's ResNet18 and ResNet50 classes; `widthMult` scales every channel count (small test models).
import type { Backend } from '../engine/backend.js';
import { split, type Key } from '../engine/random.js';
import type { Params, Tensor } from '../engine/tensor.js';
import { BatchNorm, type BatchNormActivations, type BatchNormMode } from './batch-norm.js';
import { Conv2d, type Conv2dActivations, type ConvWorkspace } from './conv2d.js';
import { Linear, type LinearActivations } from './linear.js';
import { MaxPool, type MaxPoolActivations } from './max-pool.js';
import { ReLU, type ReluActivations } from './relu.js';
import { ResNetBlockV2, type ResNetBlockActivations } from './resnet-block.js';
import { SpatialMean, type SpatialMeanActivations } from './spatial-mean.js';

export interface ResNetConfig {
  blocksPerGroup: number[];
  channelsPerGroup: number[];
  bottleneck: boolean;
  /** Whether the first block of each group has a projection shortcut. */
  useProjection: boolean[];
}

/** Haiku's ResNet18 (BlockV2 without bottleneck). */
export const RESNET18: ResNetConfig = {
  blocksPerGroup: [2, 2, 2, 2], channelsPerGroup: [64, 128, 256, 512], bottleneck: false, useProjection: [false, true, true, true],
};
/** Haiku's ResNet50 (bottleneck BlockV2). */
export const RESNET50: ResNetConfig = {
  blocksPerGroup: [3, 4, 6, 3], channelsPerGroup: [256, 512, 1024, 2048], bottleneck: true, useProjection: [true, true, true, true],
};

export interface ResNetActivations {
  initialConv: Conv2dActivations;
  maxPool: MaxPoolActivations;
  blocks: ResNetBlockActivations[];
  finalBn: BatchNormActivations;
  finalRelu: ReluActivations;
  pool: SpatialMeanActivations;
  logits: LinearActivations;
}

export class ResNetV2 {
  private readonly initialConv: Conv2d;
  private readonly maxPool: MaxPool;
  private readonly blocks: ResNetBlockV2[] = [];
  private readonly finalBn: BatchNorm;
  private readonly finalRelu: ReLU;
  private readonly pool: SpatialMean;
  private readonly logits: Linear;

  constructor(readonly name: string, config: ResNetConfig, numClasses: number, backend: Backend, widthMult = 1) {
    if (!(widthMult > 0)) throw new Error(`${name}: widthMult must be positive, got ${widthMult}`);
    // Scaled channel counts stay multiples of 4 in bottleneck models (their inner width is channels/4).
    const unit = config.bottleneck ? 4 : 1;
    const scaled = (c: number): number => unit * Math.max(1, Math.round((c * widthMult) / unit));
    const workspace: ConvWorkspace = { data: new Float32Array(0) };
    const stem = scaled(64);
    this.initialConv = new Conv2d(`${name}/initial_conv`, 3, stem, backend, { kernelSize: 7, stride: 2, bias: false, workspace });
    this.maxPool = new MaxPool(backend, 3, 2);
    let inChannels = stem;
    config.blocksPerGroup.forEach((count, g) => {
      const channels = scaled(config.channelsPerGroup[g]);
      for (let b = 0; b < count; b++) {
        const first = b === 0;
        this.blocks.push(new ResNetBlockV2(`${name}/block_group_${g}/block_${b}`, {
          inChannels, channels, stride: first && g > 0 ? 2 : 1, bottleneck: config.bottleneck,
          projection: first && config.useProjection[g], workspace,
        }, backend));
        inChannels = channels;
      }
    });
    this.finalBn = new BatchNorm(`${name}/final_batchnorm`, inChannels, backend);
    this.finalRelu = new ReLU(backend);
    this.pool = new SpatialMean(backend);
    this.logits = new Linear(`${name}/logits`, inChannels, numClasses, backend);
  }

  /**
   * Trainable parameters (the paper's count): convolution kernels, BatchNorm scales and offsets, the
   * logits layer. BatchNorm's moving averages are state (initState), not parameters.
   */
  get paramCount(): number {
    return this.initialConv.paramCount + this.blocks.reduce((sum, block) => sum + block.paramCount, 0)
      + this.finalBn.paramCount + this.logits.paramCount;
  }

  init(key: Key): Params {
    const keys = split(key, this.blocks.length + 1);
    const logits = this.logits.init(keys[0]);
    logits[this.logits.weightName].data.fill(0); // Haiku ResNet: logits w_init zeros (no randomness used)
    return Object.assign({}, this.initialConv.init(keys[0]), ...this.blocks.map((block, i) => block.init(keys[i + 1])),
      this.finalBn.init(), logits);
  }

  initState(): Params {
    return Object.assign({}, ...this.blocks.map((block) => block.initState()), this.finalBn.initState());
  }

  createActivations(): ResNetActivations {
    return {
      initialConv: this.initialConv.createActivations(),
      maxPool: this.maxPool.createActivations(),
      blocks: this.blocks.map((block) => block.createActivations()),
      finalBn: this.finalBn.createActivations(),
      finalRelu: this.finalRelu.createActivations(),
      pool: this.pool.createActivations(),
      logits: this.logits.createActivations(),
    };
  }

  /** images [batch, height, width, 3] → logits [batch, classes]. */
  forward(params: Params, images: Tensor, acts: ResNetActivations, mode: BatchNormMode): Tensor {
    let h = this.maxPool.forward(this.initialConv.forward(params, images, acts.initialConv), acts.maxPool);
    this.blocks.forEach((block, i) => {
      h = block.forward(params, h, acts.blocks[i], mode);
    });
    h = this.finalRelu.forward(this.finalBn.forward(params, h, acts.finalBn, mode), acts.finalRelu);
    return this.logits.forward(params, this.pool.forward(h, acts.pool), acts.logits);
  }

  /** Writes every parameter's gradient into `grads` (overwriting), from dL/dlogits. */
  backward(params: Params, dlogits: Tensor, grads: Params, acts: ResNetActivations): void {
    let d = this.pool.backward(this.logits.backward(params, dlogits, grads, true, acts.logits)!, acts.pool);
    d = this.finalBn.backward(params, this.finalRelu.backward(d, acts.finalRelu), grads, acts.finalBn);
    for (let i = this.blocks.length - 1; i >= 0; i--) d = this.blocks[i].backward(params, d, grads, acts.blocks[i]);
    this.initialConv.backward(params, this.maxPool.backward(d, acts.maxPool), grads, false, acts.initialConv);
  }

  /** Multiply-adds ×2 of one forward pass on images [batch, size, size, 3] (FLOPs, convolutions and logits). */
  forwardFlops(batch: number, imageSize: number): number {
    let shape = this.initialConv.outputShape([batch, imageSize, imageSize, 3]);
    let flops = this.initialConv.forwardFlops(shape[0] * shape[1] * shape[2]);
    shape = this.pooledShape(shape);
    for (const block of this.blocks) {
      flops += block.forwardFlops(shape);
      shape = block.outputShape(shape);
    }
    return flops + this.logits.forwardFlops(batch);
  }

  private pooledShape(shape: number[]): number[] {
    const g = this.maxPool.geometryFor(shape);
    return [g.batch, g.outHeight, g.outWidth, g.channels];
  }
}
