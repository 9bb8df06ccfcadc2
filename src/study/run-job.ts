// One study run: a job (task, optimizer spec, seed, steps) trained with training/train.ts, timed per step,
// stopped at the step where it diverges by the shared rule of meta/divergence.ts (a NaN/Inf loss, or
// the smoothed loss above the initial loss for a window of steps; status 'diverged'), and turned into a
// `runs` row and its curve.
import type { Backend } from '../engine/backend.js';
import { median, train } from '../training/train.js';
import { getTask } from '../tasks/registry.js';
import type { Task } from '../tasks/task.js';
import { canonicalJson, configKey, type CurvePoint, type NewRun, type RunPurpose, type RunStatus } from './db.js';
import { buildOptimizer, type OptimizerSpec } from './optimizer-spec.js';

export interface RunJob {
  configKey: string;
  purpose: RunPurpose;
  task: string;
  /** Task knobs (width, batchSize, …); `{}` is the task's defaults. */
  taskOpts: Record<string, unknown>;
  spec: OptimizerSpec;
  seed: number;
  steps: number;
  stepMultiplier: number;
  /** Keep the per-step losses and wall times (eval runs store them as the curve). */
  curve: boolean;
}

export interface RunOutcome {
  status: RunStatus;
  meanLoss: number | null;
  finalLoss: number | null;
  /** Steps run: `steps`, or up to and including the step where the run diverged (meta/divergence.ts). */
  stepsDone: number;
  wallSeconds: number;
  msPerStep: number;
  losses: Float32Array | null;
  /** Seconds since the run started, after each step. */
  wallAt: Float64Array | null;
}

export function makeJob(fields: Omit<RunJob, 'configKey'>): RunJob {
  const key = configKey({
    purpose: fields.purpose, task: fields.task, taskOpts: fields.taskOpts, optimizer: fields.spec.optimizer,
    hparams: fields.spec.hparams, weights: fields.spec.weights, seed: fields.seed, steps: fields.steps,
  });
  return { ...fields, configKey: key };
}

/** Tasks built once per thread and reused across runs (loading a data set is the slow part). */
export class TaskCache {
  private readonly tasks = new Map<string, Task<any>>();
  constructor(readonly backend: Backend, readonly dataDir?: string) {}

  get(name: string, opts: Record<string, unknown>): Task<any> {
    const key = `${name} ${canonicalJson(opts)}`;
    let task = this.tasks.get(key);
    if (!task) {
      task = this.build(name, opts);
      this.tasks.set(key, task);
    }
    return task;
  }

  /** A new task, not kept (the data sets themselves are cached per process by their readers). */
  build(name: string, opts: Record<string, unknown>): Task<any> {
    const task = getTask(name, { ...opts, backend: this.backend, dataDir: this.dataDir });
    task.datasets; // load now, so a data error surfaces before any timing
    return task;
  }
}

export function runJob(job: RunJob, tasks: TaskCache): RunOutcome {
  const task = tasks.get(job.task, job.taskOpts);
  const optimizer = buildOptimizer(job.spec, tasks.backend);
  const losses = new Float32Array(job.steps);
  const wallAt = new Float64Array(job.steps);
  const stepMs: number[] = [];
  const started = process.hrtime.bigint();
  let last = started;
  let done = 0;
  // Nothing comes back from a diverged run: stop there rather than spend the remaining steps.
  const result = train({
    task, optimizer, steps: job.steps, seed: job.seed, onDiverge: 'stop',
    onStep: (stepsDone, loss) => {
      const now = process.hrtime.bigint();
      stepMs.push(Number(now - last) / 1e6);
      last = now;
      losses[stepsDone - 1] = loss;
      wallAt[stepsDone - 1] = Number(now - started) / 1e9;
      done = stepsDone;
    },
  });
  let diverged = result.diverged;
  let sum = 0;
  for (let i = 0; i < done; i++) sum += losses[i];
  const meanLoss = sum / done;
  if (!Number.isFinite(meanLoss)) diverged = true;
  return {
    status: diverged ? 'diverged' : 'done',
    meanLoss: diverged ? null : meanLoss,
    finalLoss: diverged ? null : losses[done - 1],
    stepsDone: done,
    wallSeconds: Number(last - started) / 1e9,
    msPerStep: median(stepMs),
    losses: job.curve ? losses.slice(0, done) : null,
    wallAt: job.curve ? wallAt.slice(0, done) : null,
  };
}

/** The `runs` row and curve of a finished job. */
export function runRow(job: RunJob, outcome: RunOutcome, where: { backend: string; machine: string }): { run: NewRun; curve: CurvePoint[] } {
  const curve: CurvePoint[] = [];
  if (outcome.losses && outcome.wallAt) {
    for (let i = 0; i < outcome.losses.length; i++) {
      const loss = outcome.losses[i];
      curve.push({ step: i + 1, loss: Number.isFinite(loss) ? loss : null, wall_seconds: outcome.wallAt[i] });
    }
  }
  return {
    run: {
      purpose: job.purpose,
      config_key: job.configKey,
      task: job.task,
      task_opts: canonicalJson(job.taskOpts),
      optimizer: job.spec.optimizer,
      label: job.spec.label,
      hparams: canonicalJson(job.spec.hparams),
      weights: job.spec.weights,
      trained: job.spec.trained ? 1 : 0,
      step_multiplier: job.stepMultiplier,
      seed: job.seed,
      steps: job.steps,
      status: outcome.status,
      mean_loss: outcome.meanLoss,
      final_loss: outcome.finalLoss,
      wall_seconds: outcome.wallSeconds,
      ms_per_step: outcome.msPerStep,
      backend: where.backend,
      machine: where.machine,
      finished_at: new Date().toISOString(),
    },
    curve,
  };
}
