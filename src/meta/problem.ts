// What is meta-trained on: a learned optimizer (by name) and a task or a task family (by name), as a
// plain, serialisable spec that worker threads rebuild on their side.
import type { Key } from '../engine/random.js';
import { learned } from '../learned/registry.js';
import { learnableLrSgd } from '../learned/learnable-sgd.js';
import type { LearnedOptimizer } from '../learned/learned-optimizer.js';
import { getTask, getTaskFamily } from '../tasks/registry.js';
import type { TaskOptions } from '../tasks/options.js';
import type { Task } from '../tasks/task.js';

export interface MetaProblemSpec {
  /** Learned optimizer name: any of the registry, or `learnable_lr_sgd`. */
  lopt: string;
  loptOptions?: Record<string, unknown>;
  /** Exactly one of `task` and `family`. */
  task?: string;
  family?: string;
  /** Task knobs (no backend: every thread picks its own). */
  taskOptions?: Omit<TaskOptions, 'backend'>;
}

/** Builds the learned optimizer of a spec (`learnable_lr_sgd` is built here until the registry lists it). */
export function buildLopt(spec: MetaProblemSpec): LearnedOptimizer {
  if (spec.lopt === 'learnable_lr_sgd' && !learned.has(spec.lopt)) return learnableLrSgd(spec.loptOptions ?? {});
  return learned.get(spec.lopt, spec.loptOptions ?? {});
}

/** Where tasks come from: one fixed task, or a fresh draw of a family for every inner run. */
export interface TaskSource {
  readonly name: string;
  /** The task of an inner run whose task-sampling key is `key` (ignored for a fixed task). */
  taskFor(key: Key): Task<any>;
  /** Loads what can be loaded before the first run (a fixed task's data), so it is not timed as stepping. */
  preload?(): void;
}

export function buildTaskSource(spec: MetaProblemSpec): TaskSource {
  if ((spec.task === undefined) === (spec.family === undefined)) throw new Error('give exactly one of a task and a task family');
  const options = (spec.taskOptions ?? {}) as TaskOptions;
  if (spec.task !== undefined) {
    const task = getTask(spec.task, options);
    return { name: spec.task, taskFor: () => task, preload: () => { void task.datasets; } };
  }
  const family = getTaskFamily(spec.family!, options);
  // Tasks of a family are cheap to build; keep the last one so a run's task is built once.
  let lastKey = '';
  let last: Task<any> | null = null;
  return {
    name: spec.family!,
    taskFor(key) {
      const id = `${key[0]}:${key[1]}`;
      if (!last || id !== lastKey) {
        last = family.taskFn(family.sample(key));
        lastKey = id;
      }
      return last;
    },
  };
}
