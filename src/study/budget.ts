// Budgets: per-task default search budgets that fit a 2-core machine, the ETA printed before a study
// starts (from measured ms per step), and the --max-hours deadline.
//
// Measured on the development machine (2 cores, AVX-512, native backend), NAdamW, batch 128, median ms
// per step: fmnist-mlp 0.8, imagenet16-mlp 3.2, cifar10-ae 14.7, cifar10-16-conv 16.8, text-lstm-lm 48,
// cifar10-conv 66 (a 2,000-step cifar10-conv run takes about 2 minutes). The NAdamW budgets below keep
// each task's search at roughly half an hour or less on two workers at 2,000 steps; the learning-rate
// grid (15 values × sgd, sgdm, adam) is always searched whole unless --budget is smaller.
import { canonicalJson, type ResultsDb } from './db.js';
import { measureOverhead, type TimingPoint, type TimingSettings } from './overhead.js';
import { buildOptimizer, type OptimizerSpec } from './optimizer-spec.js';
import type { TaskCache } from './run-job.js';
import { LR_GRID } from './search-space.js';

export const MEASURED_MS_PER_STEP: Readonly<Record<string, number>> = {
  'fmnist-mlp': 0.8,
  'imagenet16-mlp': 3.2,
  'cifar10-ae': 14.7,
  'cifar10-16-conv': 16.8,
  'text-lstm-lm': 48,
  'cifar10-conv': 66,
};

/** NAdamW configurations searched per task when --budget is not given. */
export const DEFAULT_NADAMW_BUDGET: Readonly<Record<string, number>> = {
  'fmnist-mlp': 1000,
  'imagenet16-mlp': 200,
  'cifar10-ae': 40,
  'cifar10-16-conv': 40,
  'text-lstm-lm': 15,
  'cifar10-conv': 10,
};
export const FALLBACK_NADAMW_BUDGET = 10;

/** Configurations searched for (task, optimizer): --budget N when given, else the per-task default. */
export function budgetFor(task: string, optimizer: string, explicit?: number): number {
  if (explicit !== undefined) return explicit;
  if (optimizer === 'nadamw') return DEFAULT_NADAMW_BUDGET[task] ?? FALLBACK_NADAMW_BUDGET;
  return LR_GRID.length;
}

/** Absolute deadline (ms since the epoch) for --max-hours, or null without one. */
export function deadlineFrom(maxHours: number | undefined, now = Date.now()): number | null {
  if (maxHours === undefined) return null;
  if (!(maxHours > 0)) throw new Error(`--max-hours must be a positive number, got ${maxHours}`);
  return now + maxHours * 3600_000;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** ms per step of (task, label) at the task's defaults. */
export type StepTimes = Map<string, number>;
export const stepTimeKey = (task: string, label: string) => `${task}\u0000${label}`;

/**
 * ms per step of each optimizer on each task: from the database when it holds a timing or runs of
 * it, else measured now with a few interleaved steps (SGD measured alongside, recorded as `sgd`).
 */
export function measureStepTimes(db: ResultsDb, tasks: TaskCache, taskNames: readonly string[], specs: readonly OptimizerSpec[], settings: TimingSettings = { warmup: 1, rounds: 1, block: 3 }): StepTimes {
  const times: StepTimes = new Map();
  for (const task of taskNames) {
    for (const timing of db.timings(task)) if (timing.task_opts === canonicalJson({})) times.set(stepTimeKey(task, timing.label), timing.ms_per_step);
    for (const spec of specs) {
      const key = stepTimeKey(task, spec.label);
      if (times.has(key)) continue;
      const runs = db.runs({ task, label: spec.label }).filter((r) => r.task_opts === '{}');
      if (runs.length > 0) {
        const sorted = runs.map((r) => r.ms_per_step).sort((a, b) => a - b);
        times.set(key, sorted[sorted.length >> 1]);
        continue;
      }
      const m = measureOverhead(tasks.get(task, {}), buildOptimizer(spec, tasks.backend), tasks.backend, settings);
      times.set(key, m.msPerStep);
      if (!times.has(stepTimeKey(task, 'sgd'))) times.set(stepTimeKey(task, 'sgd'), m.sgdMsPerStep);
    }
  }
  return times;
}

function msFor(times: StepTimes, task: string, label: string): number {
  const base = label.replace(/@\d+x$/, '');
  return times.get(stepTimeKey(task, base)) ?? times.get(stepTimeKey(task, 'sgd')) ?? MEASURED_MS_PER_STEP[task] ?? 10;
}

/** Seconds `jobs` take on `workers` workers (each job: steps × its ms per step). */
export function runSeconds(jobs: readonly { task: string; steps: number; spec: { label: string } }[], times: StepTimes, workers: number): number {
  let ms = 0;
  for (const job of jobs) ms += job.steps * msFor(times, job.task, job.spec.label);
  return ms / 1000 / Math.max(1, workers);
}

/** How much slower a sweep point is than the task's defaults (batch and width scale the work). */
function pointScale(point: TimingPoint, defaults: TimingPoint | undefined): number {
  if (!defaults) return 1;
  let scale = point.batchSize / defaults.batchSize;
  if (point.width !== null && defaults.width !== null) scale *= (point.width / defaults.width) ** 2;
  return scale;
}

/** Seconds the overhead measurements take (each times the optimizer and SGD). */
export function timingSeconds(todo: readonly (readonly [TimingPoint, { label: string }])[], times: StepTimes, settings: TimingSettings): number {
  const steps = settings.warmup + settings.rounds * settings.block;
  let ms = 0;
  for (const [point, spec] of todo) {
    const defaults = todo.find(([p]) => p.task === point.task && Object.keys(p.taskOpts).length === 0)?.[0]
      ?? { task: point.task, taskOpts: {}, batchSize: 128, width: point.width };
    ms += steps * pointScale(point, defaults) * (msFor(times, point.task, spec.label) + msFor(times, point.task, 'sgd'));
  }
  return ms / 1000;
}

/** Seconds the memory children take: start-up and data loading (~2 s), then their steps. */
export function memorySeconds(todo: readonly { task: string; label: string }[], steps: number, times: StepTimes, concurrency: number): number {
  let seconds = 0;
  for (const { task, label } of todo) seconds += 2 + (steps * msFor(times, task, label)) / 1000;
  return seconds / Math.max(1, concurrency);
}
