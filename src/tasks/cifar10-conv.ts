// cifar10-conv / cifar10-16-conv: the paper's ConvNet — conv3x3 32 stride 2, conv3x3 64, conv3x3 64
// (SAME padding, ReLU), spatial mean, linear to 10; batch 128. `channelMult` scales the channels.
import type { Backend } from '../engine/backend.js';
import { split, type Key } from '../engine/random.js';
import { zerosLike, type Params, type Tensor } from '../engine/tensor.js';
import type { ImageBatch } from '../data/image-data.js';
import { loadCifar10, loadCifar10x16 } from '../data/cifar10.js';
import { getBackend } from '../engine/select.js';
import { Conv2d, type Conv2dActivations, type ConvWorkspace } from '../nn/conv2d.js';
import { Linear, type LinearActivations } from '../nn/linear.js';
import { ReLU, type ReluActivations } from '../nn/relu.js';
import { SoftmaxCrossEntropy, type LossActivations } from '../nn/softmax-cross-entropy.js';
import { SpatialMean, type SpatialMeanActivations } from '../nn/spatial-mean.js';
import { splitImageData } from './image-mlp.js';
import { classificationClipTop, clippedNormalizer } from './normalizers.js';
import type { TaskOptions } from './options.js';
import type { LossAndGrad, Task, TaskDatasets } from './task.js';

interface ConvTaskConfig {
  name: string;
  imageSize: number;
  channels: number[];
  strides: number[];
  batchSize: number;
  normalizerClip: 'lo' | 'paper';
  backend: Backend;
  datasets: () => TaskDatasets<ImageBatch>;
}

export class ConvNetTask implements Task<ImageBatch> {
  readonly name: string;
  readonly batchSize: number;
  readonly paramCount: number;
  readonly flopsPerStep: number;
  readonly normalizer: (loss: number) => number;
  private readonly convs: Conv2d[];
  private readonly relus: ReLU[];
  private readonly pool: SpatialMean;
  private readonly head: Linear;
  private readonly crossEntropy: SoftmaxCrossEntropy;
  /** Every layer's activations: owned here, reused across steps. */
  private readonly acts: {
    convs: Conv2dActivations[]; relus: ReluActivations[]; pool: SpatialMeanActivations; head: LinearActivations; loss: LossActivations;
  };
  private grads?: Params;
  private loaded?: TaskDatasets<ImageBatch>;

  constructor(private readonly config: ConvTaskConfig) {
    const { backend, channels, strides } = config;
    this.name = config.name;
    this.batchSize = config.batchSize;
    const inputs = [3, ...channels.slice(0, -1)];
    const workspace: ConvWorkspace = { data: new Float32Array(0) };
    this.convs = channels.map((out, i) => new Conv2d(`convnet/conv_${i}`, inputs[i], out, backend, { stride: strides[i], workspace }));
    this.relus = channels.map(() => new ReLU(backend));
    this.pool = new SpatialMean(backend);
    this.head = new Linear('convnet/linear', channels.at(-1)!, 10, backend);
    this.crossEntropy = new SoftmaxCrossEntropy(backend);
    this.acts = {
      convs: this.convs.map((conv) => conv.createActivations()),
      relus: this.relus.map((relu) => relu.createActivations()),
      pool: this.pool.createActivations(),
      head: this.head.createActivations(),
      loss: this.crossEntropy.createActivations(),
    };
    this.paramCount = this.convs.reduce((sum, conv) => sum + conv.paramCount, 0) + this.head.paramCount;
    this.flopsPerStep = this.trainFlops(config.batchSize);
    this.normalizer = clippedNormalizer(classificationClipTop(10, config.normalizerClip));
  }

  get datasets(): TaskDatasets<ImageBatch> {
    if (!this.loaded) this.loaded = this.config.datasets();
    return this.loaded;
  }

  init(key: Key): Params {
    const keys = split(key, this.convs.length + 1);
    return Object.assign({}, ...this.convs.map((conv, i) => conv.init(keys[i])), this.head.init(keys.at(-1)!));
  }

  loss(params: Params, batch: ImageBatch): number {
    return this.crossEntropy.loss(this.forward(params, batch.image), batch.label);
  }

  lossAndGrad(params: Params, batch: ImageBatch): LossAndGrad {
    if (!this.grads) this.grads = zerosLike(params);
    const acts = this.acts;
    const { loss, dlogits } = this.crossEntropy.lossAndGrad(this.forward(params, batch.image), batch.label, acts.loss);
    let d: Tensor = this.pool.backward(this.head.backward(params, dlogits, this.grads, true, acts.head)!, acts.pool);
    for (let i = this.convs.length - 1; i >= 0; i--) {
      d = this.relus[i].backward(d, acts.relus[i]);
      const dx = this.convs[i].backward(params, d, this.grads, i > 0, acts.convs[i]);
      if (dx) d = dx;
    }
    return { loss, grads: this.grads };
  }

  private forward(params: Params, image: Tensor): Tensor {
    const acts = this.acts;
    let h = image;
    this.convs.forEach((conv, i) => {
      h = this.relus[i].forward(conv.forward(params, h, acts.convs[i]), acts.relus[i]);
    });
    return this.head.forward(params, this.pool.forward(h, acts.pool), acts.head);
  }

  /** Forward, weight gradients and input gradients (none for the first conv) of every layer. */
  private trainFlops(batch: number): number {
    let shape = [batch, this.config.imageSize, this.config.imageSize, 3];
    let forward = 0;
    let inputGrads = 0;
    this.convs.forEach((conv, i) => {
      shape = conv.outputShape(shape);
      const flops = conv.forwardFlops(shape[0] * shape[1] * shape[2]);
      forward += flops;
      if (i > 0) inputGrads += flops;
    });
    forward += this.head.forwardFlops(batch);
    return 2 * forward + inputGrads + this.head.forwardFlops(batch);
  }
}

function convNet(name: string, imageSize: number, options: TaskOptions): ConvNetTask {
  const mult = options.channelMult ?? 1;
  const batchSize = options.batchSize ?? 128;
  const backend = options.backend ?? getBackend();
  const load = imageSize === 32 ? loadCifar10 : loadCifar10x16;
  return new ConvNetTask({
    name,
    imageSize,
    channels: [32, 64, 64].map((c) => Math.max(1, Math.round(c * mult))),
    strides: [2, 1, 1],
    batchSize,
    normalizerClip: options.normalizerClip ?? 'lo',
    backend,
    datasets: () => splitImageData(load('train', options.dataDir), load('test', options.dataDir), batchSize, backend),
  });
}

export const cifar10Conv = (options: TaskOptions = {}) => convNet('cifar10-conv', 32, options);
export const cifar1016Conv = (options: TaskOptions = {}) => convNet('cifar10-16-conv', 16, options);
