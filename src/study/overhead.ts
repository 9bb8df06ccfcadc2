// Compute overhead: the median step time of an optimizer measured interleaved with SGD in the same
// process (blocks of optimizer steps alternating with blocks of SGD steps, same task and batches), as a
// multiple of SGD's; at the task's defaults (Fig. 1) and over batch size and width (Fig. 4).
import type { Backend } from '../engine/backend.js';
import { keyFromSeed, split } from '../engine/random.js';
import { cloneParams } from '../engine/tensor.js';
import { median } from '../training/train.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { optimizers } from '../optimizers/registry.js';
import type { Task } from '../tasks/task.js';
import { canonicalJson, type ResultsDb } from './db.js';
import { buildOptimizer, type OptimizerSpec } from './optimizer-spec.js';
import type { TaskCache } from './run-job.js';

export interface TimingSettings {
  /** Untimed steps of each optimizer first (caches, lazy buffers). */
  warmup: number;
  /** Rounds of (a block of optimizer steps, a block of SGD steps); the order alternates per round. */
  rounds: number;
  /** Steps per block. */
  block: number;
}

export const DEFAULT_TIMING: TimingSettings = { warmup: 2, rounds: 5, block: 4 };

export interface OverheadMeasurement {
  msPerStep: number;
  sgdMsPerStep: number;
  overhead: number;
  /** Timed steps of each of the two optimizers. */
  repeats: number;
}

interface Runner {
  step(): number;
}

/** One optimizer training the task from `params`, each step timed in full (batch, gradient, update). */
function runner(task: Task<any>, optimizer: Optimizer<unknown>, params: ReturnType<Task['init']>, dataKey: ReturnType<typeof keyFromSeed>, numSteps: number): Runner {
  const batches = task.datasets.train.stream(dataKey);
  let state = optimizer.init(cloneParams(params), { numSteps, key: dataKey });
  return {
    step() {
      const started = process.hrtime.bigint();
      const batch = batches.next();
      const { loss, grads } = task.lossAndGrad(optimizer.getParams(state), batch);
      state = optimizer.update(state, grads, { loss });
      return Number(process.hrtime.bigint() - started) / 1e6;
    },
  };
}

/** Times `optimizer` against SGD on `task` (both from the same initial parameters and batches). */
export function measureOverhead(task: Task<any>, optimizer: Optimizer<unknown>, backend: Backend, settings: TimingSettings = DEFAULT_TIMING, seed = 0): OverheadMeasurement {
  const { warmup, rounds, block } = settings;
  if (rounds < 1 || block < 1 || warmup < 0) throw new Error('timing needs at least one round of one step');
  const [initKey, dataKey] = split(keyFromSeed(seed), 2);
  const params = task.init(initKey);
  const numSteps = warmup + rounds * block;
  const timed = runner(task, optimizer, params, dataKey, numSteps);
  const sgd = runner(task, optimizers.get('sgd', {}, { backend }) as Optimizer<unknown>, params, dataKey, numSteps);
  for (let i = 0; i < warmup; i++) {
    timed.step();
    sgd.step();
  }
  const optimizerMs: number[] = [];
  const sgdMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order: [Runner, number[]][] = round % 2 === 0 ? [[timed, optimizerMs], [sgd, sgdMs]] : [[sgd, sgdMs], [timed, optimizerMs]];
    for (const [r, into] of order) for (let i = 0; i < block; i++) into.push(r.step());
  }
  const msPerStep = median(optimizerMs);
  const sgdMsPerStep = median(sgdMs);
  return { msPerStep, sgdMsPerStep, overhead: msPerStep / sgdMsPerStep, repeats: rounds * block };
}

/** How a task's width is varied (Fig. 4): the knob, its values, and the width they stand for. */
export interface WidthSweep {
  knob: 'width' | 'channelMult';
  values: readonly number[];
  /** The `width` column: MLP hidden width, or a ConvNet's first-layer channels (32 × channelMult). */
  widthOf(value: number): number;
  defaultValue: number;
}

const mlpSweep = (defaultValue: number): WidthSweep => ({
  knob: 'width', values: [32, 64, 128, 256, 512, 1024], widthOf: (v) => v, defaultValue,
});
const convSweep: WidthSweep = {
  knob: 'channelMult', values: [0.25, 0.5, 1, 2, 4], widthOf: (v) => Math.max(1, Math.round(32 * v)), defaultValue: 1,
};

export const WIDTH_SWEEPS: Readonly<Record<string, WidthSweep>> = {
  'fmnist-mlp': mlpSweep(128),
  'imagenet16-mlp': mlpSweep(256),
  'cifar10-conv': convSweep,
  'cifar10-16-conv': convSweep,
};

export const BATCH_SIZES: readonly number[] = [8, 16, 32, 64, 128, 256, 512, 1024];

/**
 * One task configuration to time: `{}` (the defaults: the Fig. 1 numbers, and the point of both
 * Fig. 4 sweeps at the default batch size and width) or one knob varied (`{batchSize}`, `{width}` or
 * `{channelMult}`: the Fig. 4 sweeps).
 */
export interface TimingPoint {
  task: string;
  taskOpts: Record<string, unknown>;
  batchSize: number;
  width: number | null;
}

export interface SweepOptions {
  /** Also the Fig. 4 sweeps (else only the defaults). */
  sweeps: boolean;
  batchSizes?: readonly number[];
  /** Width-knob values replacing the task's sweep values. */
  widthValues?: readonly number[];
  /** Keep only the sweep values within this many places of the default on either side (a short sweep). */
  near?: number;
}

/** The values of `values` within `near` places of `center` (which need not be among them). */
function around(values: readonly number[], center: number, near: number | undefined): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  if (near === undefined) return sorted;
  const below = sorted.filter((v) => v < center).slice(-near);
  const above = sorted.filter((v) => v > center).slice(0, near);
  return [...below, ...above];
}

export function timingPoints(task: string, defaultBatchSize: number, options: SweepOptions): TimingPoint[] {
  const sweep = WIDTH_SWEEPS[task];
  const defaultWidth = sweep ? sweep.widthOf(sweep.defaultValue) : null;
  const points: TimingPoint[] = [{ task, taskOpts: {}, batchSize: defaultBatchSize, width: defaultWidth }];
  if (!options.sweeps) return points;
  // The defaults row is the sweeps' point at the default batch size and width: not measured twice.
  for (const batchSize of around(options.batchSizes ?? BATCH_SIZES, defaultBatchSize, options.near)) {
    if (batchSize !== defaultBatchSize) points.push({ task, taskOpts: { batchSize }, batchSize, width: defaultWidth });
  }
  if (sweep) {
    for (const value of around(options.widthValues ?? sweep.values, sweep.defaultValue, options.near)) {
      if (value !== sweep.defaultValue) points.push({ task, taskOpts: { [sweep.knob]: value }, batchSize: defaultBatchSize, width: sweep.widthOf(value) });
    }
  }
  return points;
}

export interface OverheadRunOptions {
  where: { backend: string; machine: string };
  settings?: TimingSettings;
  shouldStop?: () => boolean;
  onMeasure?: (point: TimingPoint, spec: OptimizerSpec, measurement: OverheadMeasurement) => void;
}

/**
 * Times every (point, optimizer) not yet in `timings`, one at a time in this thread (so no other
 * study work competes for the core), and records each.
 */
export function runOverhead(db: ResultsDb, tasks: TaskCache, points: readonly TimingPoint[], specs: readonly OptimizerSpec[], options: OverheadRunOptions): { measured: number; remaining: number } {
  const todo: [TimingPoint, OptimizerSpec][] = [];
  for (const point of points) {
    for (const spec of specs) if (!db.hasTiming(point.task, canonicalJson(point.taskOpts), spec.label)) todo.push([point, spec]);
  }
  let measured = 0;
  for (const [point, spec] of todo) {
    if (options.shouldStop?.()) break;
    // Sweep points are built afresh and dropped: a wide or large-batch task holds big workspaces.
    const task = Object.keys(point.taskOpts).length === 0 ? tasks.get(point.task, {}) : tasks.build(point.task, point.taskOpts);
    const m = measureOverhead(task, buildOptimizer(spec, tasks.backend), tasks.backend, options.settings);
    db.upsertTiming({
      task: point.task, task_opts: canonicalJson(point.taskOpts), optimizer: spec.optimizer, label: spec.label,
      batch_size: point.batchSize, width: point.width, ms_per_step: m.msPerStep, sgd_ms_per_step: m.sgdMsPerStep,
      overhead: m.overhead, repeats: m.repeats, backend: options.where.backend, machine: options.where.machine,
      measured_at: new Date().toISOString(),
    });
    measured++;
    options.onMeasure?.(point, spec, m);
  }
  return { measured, remaining: todo.length - measured };
}
