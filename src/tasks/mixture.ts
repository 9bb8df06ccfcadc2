// A task family that is a mixture of fixed tasks: every inner run draws one variant (a task name and
// its knobs) uniformly, as LO's task-family samplers draw a configuration per run
// (`tasks/parametric/`). `paper-mix` holds the paper's five tasks at sizes two CPU cores can afford,
// with widths and batch sizes varied; it is what the general-purpose small_fc_lopt weights are
// meta-trained on (README "General-purpose weights").
import { randomBits, type Key } from '../engine/random.js';
import type { TaskFamily } from './quadratics.js';
import type { TaskKnobs, TaskOptions } from './options.js';
import type { Task } from './task.js';

/** One member of a mixture: a registered task and the knobs it is built with. */
export interface MixtureVariant {
  task: string;
  knobs: TaskKnobs;
  /**
   * The variant's loss scale (about its initial loss): meta-training divides its normalised loss by
   * it, so that every variant weighs alike in the meta-loss (an autoencoder at 0.06 beside a language
   * model at 5.5). Training and evaluation losses are left as they are.
   */
  lossScale?: number;
}

/** The name a variant goes by in logs and tables: `cifar10-16-conv(batchSize=32)`. */
export function variantName(variant: MixtureVariant): string {
  const knobs = Object.entries(variant.knobs).map(([key, value]) => `${key}=${value}`).join(',');
  return knobs ? `${variant.task}(${knobs})` : variant.task;
}

/**
 * The meta-training mixture of the general weights: fmnist-mlp, cifar10-16-conv, imagenet16-mlp,
 * cifar10-ae and text-lstm-lm, each at one or two widths and a batch size whose step costs at most
 * about 10 ms on one core. Held-out variants for evaluation use other widths, depths and channels.
 */
const LN10 = Math.log(10);
export const PAPER_MIX: readonly MixtureVariant[] = [
  { task: 'fmnist-mlp', knobs: { width: 64, batchSize: 64 }, lossScale: LN10 },
  { task: 'fmnist-mlp', knobs: { width: 128, batchSize: 128 }, lossScale: LN10 },
  { task: 'cifar10-16-conv', knobs: { batchSize: 32 }, lossScale: LN10 },
  { task: 'cifar10-16-conv', knobs: { channelMult: 0.5, batchSize: 64 }, lossScale: LN10 },
  { task: 'imagenet16-mlp', knobs: { width: 128, batchSize: 64 }, lossScale: Math.log(200) },
  { task: 'imagenet16-mlp', knobs: { width: 256, batchSize: 64 }, lossScale: Math.log(200) },
  { task: 'cifar10-ae', knobs: { batchSize: 64 }, lossScale: 0.06 },
  { task: 'cifar10-ae', knobs: { width: 64, batchSize: 64 }, lossScale: 0.06 },
  { task: 'text-lstm-lm', knobs: { width: 64, batchSize: 32 }, lossScale: Math.log(256) },
  { task: 'text-lstm-lm', knobs: { width: 128, batchSize: 16 }, lossScale: Math.log(256) },
];

/** The registered mixture families by name (the task registry builds them with mixtureFamily). */
export const MIXTURES: Readonly<Record<string, readonly MixtureVariant[]>> = { 'paper-mix': PAPER_MIX };

/** The task names a mixture family draws from, each once, in order ([] for a name that is not a mixture). */
export function mixtureTaskNames(family: string): string[] {
  return [...new Set((MIXTURES[family] ?? []).map((variant) => variant.task))];
}

/**
 * A family drawing one of `variants` per inner run (uniformly, from the run's task key). Each
 * variant's task is built once per thread on first use (its data loads then) and reused.
 */
export function mixtureFamily(
  name: string, variants: readonly MixtureVariant[], options: TaskOptions,
  build: (task: string, options: TaskOptions) => Task<unknown>,
): TaskFamily<number, unknown> {
  if (variants.length === 0) throw new Error(`task family ${name} has no variants`);
  const built = new Map<number, Task<unknown>>();
  return {
    name,
    sample: (key: Key) => randomBits(key, 1)[0] % variants.length,
    taskFn(index: number) {
      let task: Task<unknown> | undefined = built.get(index);
      if (!task) {
        const variant = variants[index];
        task = build(variant.task, { backend: options.backend, dataDir: options.dataDir, ...variant.knobs });
        if (variant.lossScale !== undefined) task = withLossScale(task, variant.lossScale);
        built.set(index, task);
      }
      return task;
    },
  };
}

/** The task with its normaliser divided by `scale` (everything else is the task's own, by delegation). */
function withLossScale<B>(task: Task<B>, scale: number): Task<B> {
  if (!(scale > 0)) throw new Error(`a mixture variant's lossScale must be positive, got ${scale}`);
  return Object.create(task, { normalizer: { value: (loss: number) => task.normalizer(loss) / scale } }) as Task<B>;
}
