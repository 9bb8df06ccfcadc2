// The task registry: tasks.get(name, options) builds a task by name.
import { fmnistMlp } from './fmnist-mlp.js';
import { taskKnobsSchema, type TaskOptions } from './options.js';
import type { Task } from './task.js';

type TaskFactory = (options: TaskOptions) => Task<any>;

const factories: Record<string, { describe: string; build: TaskFactory }> = {
  'fmnist-mlp': { describe: 'Fashion-MNIST MLP 784-128-128-10, ReLU, batch 128', build: fmnistMlp },
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
    throw new Error(`bad task option ${issue.path.join('.') || ''} for ${name}: ${issue.message} (knobs: width, depth, channelMult, batchSize, normalizerClip)`);
  }
  return entry.build({ ...parsed.data, backend, dataDir });
}

export const tasks = { get: getTask, names: taskNames, describe: describeTask };
