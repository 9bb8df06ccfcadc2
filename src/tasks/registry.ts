// The task registry: tasks.get(name, options) builds a task by name.
import { fmnistMlp } from './fmnist-mlp.js';
import { imagenet16Mlp } from './imagenet16-mlp.js';
import { cifar1016Conv, cifar10Conv } from './cifar10-conv.js';
import { cifar10Ae } from './cifar10-ae.js';
import { textLstmLm } from './text-lstm-lm.js';
import { resnet18V2, resnet50V2 } from './resnet-v2.js';
import { transformerByte } from './transformer-byte.js';
import { TASK_KNOB_KEYS, taskKnobsSchema, type TaskOptions } from './options.js';
import { MIXTURES, mixtureFamily } from './mixture.js';
import { logQuadraticTask, quadraticFamily, quadraticTask, sumQuadraticTask, type TaskFamily } from './quadratics.js';
import type { Task } from './task.js';

type TaskFactory = (options: TaskOptions) => Task<any>;

const factories: Record<string, { describe: string; build: TaskFactory }> = {
  'fmnist-mlp': { describe: 'Fashion-MNIST MLP 784-128-128-10, ReLU, batch 128', build: fmnistMlp },
  'cifar10-conv': { describe: 'CIFAR-10 ConvNet: conv 32 s2, 64, 64, ReLU, spatial mean, linear 10; batch 128', build: cifar10Conv },
  'cifar10-16-conv': { describe: 'the CIFAR-10 ConvNet on 16x16 images', build: cifar1016Conv },
  'cifar10-ae': { describe: 'CIFAR-10 MLP autoencoder 3072-128-32-128-3072, sigmoid MSE; batch 256', build: cifar10Ae },
  'text-lstm-lm': { describe: 'byte-level LSTM LM: embed 64, LSTM 128, linear 256; 32 bytes, batch 128', build: textLstmLm },
  'imagenet16-mlp': { describe: 'Tiny ImageNet 16x16 MLP 768-256-256-256-200, ReLU, batch 128', build: imagenet16Mlp },
  'resnet18-v2': { describe: 'Haiku ResNet-18 V2 (11.7M params), 224x224x3, 1,000 classes, batch 128; synthetic data unless imageSize=32,classes=10 (CIFAR-10)', build: resnet18V2 },
  'resnet50-v2': { describe: 'Haiku ResNet-50 V2 (25.6M params), 224x224x3, 1,000 classes, batch 32; synthetic data unless imageSize=32,classes=10 (CIFAR-10)', build: resnet50V2 },
  'transformer-byte': { describe: 'byte transformer LM: width 768, 6 layers, 12 heads, MLP 4x, 256 bytes, batch 16 (43.1M params); seqLen, batchSize, layers, width, heads', build: transformerByte },
  quadratic: { describe: 'Σ x² over a vector of dim (10) (LO QuadraticTask)', build: (o) => quadraticTask(o.dim) },
  'log-quadratic': { describe: 'log Σ x² (LO LogQuadraticTask)', build: (o) => logQuadraticTask(o.dim) },
  'sum-quadratic': { describe: 'Σ (a + b)² over two vectors of 10 (LO SumQuadraticTask)', build: () => sumQuadraticTask() },
};

const families: Record<string, (options: TaskOptions) => TaskFamily<any, any>> = {
  'quadratic-family': (o) => quadraticFamily(o.dim),
  'quadratic-family-noise': (o) => quadraticFamily(o.dim, { noise: true }),
  ...Object.fromEntries(Object.entries(MIXTURES).map(([name, variants]) => [name, (o: TaskOptions) => mixtureFamily(name, variants, o, getTask)])),
};

export function taskNames(): string[] {
  return Object.keys(factories).sort();
}

export function describeTask(name: string): string {
  return factories[name]?.describe ?? '';
}

/** Builds the named task; unknown names and bad knobs throw one clear error. */
export function getTask(name: string, options: TaskOptions = {}): Task<any> {
  const entry = factories[name];
  if (!entry) throw new Error(`unknown task "${name}": choose one of ${taskNames().join(', ')}`);
  const { backend, dataDir, ...knobs } = options;
  const parsed = taskKnobsSchema.safeParse(knobs);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`bad task option ${issue.path.join('.') || ''} for ${name}: ${issue.message} (knobs: ${TASK_KNOB_KEYS.join(', ')})`);
  }
  return entry.build({ ...parsed.data, backend, dataDir });
}

export function taskFamilyNames(): string[] {
  return Object.keys(families).sort();
}

/** Builds the named task family (sample(key) → task parameters, taskFn(parameters) → task). */
export function getTaskFamily(name: string, options: TaskOptions = {}): TaskFamily<any, any> {
  const build = families[name];
  if (!build) throw new Error(`unknown task family "${name}": choose one of ${taskFamilyNames().join(', ')}`);
  return build(options);
}

export const tasks = { get: getTask, names: taskNames, describe: describeTask };
export const taskFamilies = { get: getTaskFamily, names: taskFamilyNames };
