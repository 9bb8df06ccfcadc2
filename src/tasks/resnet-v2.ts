// resnet18-v2 / resnet50-v2: Haiku's ResNet V2 (src/nn/resnet-v2.ts), the models of the paper's Table 1
// (App. D.4: ResNet-18 at batch 128, ResNet-50 at batch 32, 224x224x3 inputs, 1,000 classes). At that
// size they train on a seeded synthetic stream (timing needs only the shape); `imageSize=32,classes=10`
// trains on CIFAR-10 (16: its 16x16 version). BatchNorm's moving averages are the task's modelState:
// lossAndGrad (training mode) updates them, loss (evaluation mode) uses them, init resets them.
import type { Backend } from '../engine/backend.js';
import type { Key } from '../engine/random.js';
import { zerosLike, type Params } from '../engine/tensor.js';
import type { ImageBatch } from '../data/image-data.js';
import { loadCifar10, loadCifar10x16 } from '../data/cifar10.js';
import { getBackend } from '../engine/select.js';
import { RESNET18, RESNET50, ResNetV2, type ResNetActivations, type ResNetConfig } from '../nn/resnet-v2.js';
import { SoftmaxCrossEntropy, type LossActivations } from '../nn/softmax-cross-entropy.js';
import { splitImageData } from './image-mlp.js';
import { classificationClipTop, clippedNormalizer } from './normalizers.js';
import type { TaskOptions } from './options.js';
import { syntheticImages } from './synthetic-images.js';
import type { LossAndGrad, Task, TaskDatasets } from './task.js';

export interface ResNetTaskConfig {
  name: string;
  model: ResNetConfig;
  imageSize: number;
  classes: number;
  batchSize: number;
  widthMult: number;
  normalizerClip: 'lo' | 'paper';
  backend: Backend;
  datasets: () => TaskDatasets<ImageBatch>;
}

export class ResNetTask implements Task<ImageBatch> {
  readonly name: string;
  readonly batchSize: number;
  readonly paramCount: number;
  readonly flopsPerStep: number;
  readonly normalizer: (loss: number) => number;
  private readonly model: ResNetV2;
  private readonly crossEntropy: SoftmaxCrossEntropy;
  private readonly acts: ResNetActivations;
  private readonly lossActs: LossActivations;
  private state: Params;
  private grads?: Params;
  private loaded?: TaskDatasets<ImageBatch>;

  constructor(private readonly config: ResNetTaskConfig) {
    this.name = config.name;
    this.batchSize = config.batchSize;
    this.model = new ResNetV2('resnet', config.model, config.classes, config.backend, config.widthMult);
    this.crossEntropy = new SoftmaxCrossEntropy(config.backend);
    this.acts = this.model.createActivations();
    this.lossActs = this.crossEntropy.createActivations();
    this.state = this.model.initState();
    this.paramCount = this.model.paramCount;
    // Backward costs about twice the forward pass (input and weight gradients of every layer).
    this.flopsPerStep = 3 * this.model.forwardFlops(config.batchSize, config.imageSize);
    this.normalizer = clippedNormalizer(classificationClipTop(config.classes, config.normalizerClip));
  }

  get datasets(): TaskDatasets<ImageBatch> {
    if (!this.loaded) this.loaded = this.config.datasets();
    return this.loaded;
  }

  /** BatchNorm's moving averages (names `…/mean_ema/hidden`, `…/var_ema/hidden`, `…/counter`). */
  get modelState(): Params {
    return this.state;
  }

  init(key: Key): Params {
    this.state = this.model.initState();
    return this.model.init(key);
  }

  loss(params: Params, batch: ImageBatch): number {
    this.checkBatch(batch);
    const logits = this.model.forward(params, batch.image, this.acts, { training: false, state: this.state });
    return this.crossEntropy.loss(logits, batch.label);
  }

  lossAndGrad(params: Params, batch: ImageBatch): LossAndGrad {
    this.checkBatch(batch);
    if (!this.grads) this.grads = zerosLike(params);
    const logits = this.model.forward(params, batch.image, this.acts, { training: true, state: this.state });
    const { loss, dlogits } = this.crossEntropy.lossAndGrad(logits, batch.label, this.lossActs);
    this.model.backward(params, dlogits, this.grads, this.acts);
    return { loss, grads: this.grads };
  }

  private checkBatch(batch: ImageBatch): void {
    const [, h, w, c] = batch.image.shape;
    const s = this.config.imageSize;
    if (h !== s || w !== s || c !== 3) {
      throw new Error(`${this.name}: images [${batch.image.shape}] do not match imageSize ${s} (pass --task-opt imageSize=${h})`);
    }
  }
}

/** CIFAR-10 at 32 or 16 pixels with 10 classes, else the synthetic stream of that shape. */
function resnetDatasets(name: string, imageSize: number, classes: number, batchSize: number, options: TaskOptions, backend: Backend) {
  return (): TaskDatasets<ImageBatch> => {
    if (classes === 10 && (imageSize === 32 || imageSize === 16)) {
      const load = imageSize === 32 ? loadCifar10 : loadCifar10x16;
      return splitImageData(load('train', options.dataDir), load('test', options.dataDir), batchSize, backend);
    }
    // Enough examples for the 80/10/10 split to hold whole batches; the seed fixes the stream.
    const train = syntheticImages(`${name}-synthetic-train`, imageSize, classes, 10 * batchSize, 0);
    const test = syntheticImages(`${name}-synthetic-test`, imageSize, classes, batchSize, 1);
    return splitImageData(train, test, batchSize, backend);
  };
}

function resnetTask(name: string, model: ResNetConfig, defaultBatch: number, options: TaskOptions): ResNetTask {
  const imageSize = options.imageSize ?? 224;
  const classes = options.classes ?? 1000;
  const batchSize = options.batchSize ?? defaultBatch;
  const backend = options.backend ?? getBackend();
  return new ResNetTask({
    name, model, imageSize, classes, batchSize, widthMult: options.channelMult ?? 1,
    normalizerClip: options.normalizerClip ?? 'lo', backend,
    datasets: resnetDatasets(name, imageSize, classes, batchSize, options, backend),
  });
}

export const resnet18V2 = (options: TaskOptions = {}) => resnetTask('resnet18-v2', RESNET18, 128, options);
export const resnet50V2 = (options: TaskOptions = {}) => resnetTask('resnet50-v2', RESNET50, 32, options);
