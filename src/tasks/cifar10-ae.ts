// cifar10-ae: MLP autoencoder 3072 → 128 → 32 → 128 → 3072 (ReLU) on CIFAR-10, loss
// mean((x − sigmoid(out))²), batch 256 (LO ImageMLPAE_Cifar10_128x32x128_bs256). `width` scales the
// hidden sizes (128 → width, 32 → width/4).
import type { Backend } from '../engine/backend.js';
import type { Key } from '../engine/random.js';
import { zerosLike, type Params, type Tensor } from '../engine/tensor.js';
import type { ImageBatch } from '../data/image-data.js';
import { loadCifar10 } from '../data/cifar10.js';
import { getBackend } from '../engine/select.js';
import { MLP, type MlpActivations } from '../nn/mlp.js';
import type { LossActivations } from '../nn/softmax-cross-entropy.js';
import { SigmoidMSE } from '../nn/sigmoid-mse.js';
import { splitImageData } from './image-mlp.js';
import { clippedNormalizer } from './normalizers.js';
import type { TaskOptions } from './options.js';
import type { LossAndGrad, Task, TaskDatasets } from './task.js';

const PIXELS = 32 * 32 * 3;

export class ImageAutoencoderTask implements Task<ImageBatch> {
  readonly name = 'cifar10-ae';
  readonly paramCount: number;
  readonly flopsPerStep: number;
  /** LO clips the autoencoder loss to [0, 1]. */
  readonly normalizer = clippedNormalizer(1);
  private readonly model: MLP;
  private readonly mse: SigmoidMSE;
  /** The model's activations and the loss's logits gradient: owned here, reused across steps. */
  private readonly acts: MlpActivations;
  private readonly lossActs: LossActivations;
  private grads?: Params;
  private loaded?: TaskDatasets<ImageBatch>;

  constructor(readonly batchSize: number, hidden: number[], backend: Backend, private readonly load: () => TaskDatasets<ImageBatch>) {
    this.model = new MLP('mlp', [PIXELS, ...hidden, PIXELS], backend);
    this.mse = new SigmoidMSE(backend);
    this.acts = this.model.createActivations();
    this.lossActs = this.mse.createActivations();
    this.paramCount = this.model.paramCount;
    this.flopsPerStep = this.model.trainFlops(batchSize);
  }

  get datasets(): TaskDatasets<ImageBatch> {
    if (!this.loaded) this.loaded = this.load();
    return this.loaded;
  }

  init(key: Key): Params {
    return this.model.init(key);
  }

  loss(params: Params, batch: ImageBatch): number {
    const x = flatten(batch);
    return this.mse.loss(this.model.forward(params, x, this.acts), x);
  }

  lossAndGrad(params: Params, batch: ImageBatch): LossAndGrad {
    if (!this.grads) this.grads = zerosLike(params);
    const x = flatten(batch);
    const { loss, dlogits } = this.mse.lossAndGrad(this.model.forward(params, x, this.acts), x, this.lossActs);
    this.model.backward(params, dlogits, this.grads, this.acts);
    return { loss, grads: this.grads };
  }
}

function flatten(batch: ImageBatch): Tensor {
  return { shape: [batch.label.length, PIXELS], data: batch.image.data };
}

export function cifar10Ae(options: TaskOptions = {}): ImageAutoencoderTask {
  const width = options.width ?? 128;
  const bottleneck = Math.max(1, Math.round(width / 4));
  const batchSize = options.batchSize ?? 256;
  const backend = options.backend ?? getBackend();
  return new ImageAutoencoderTask(batchSize, [width, bottleneck, width], backend,
    () => splitImageData(loadCifar10('train', options.dataDir), loadCifar10('test', options.dataDir), batchSize, backend));
}
