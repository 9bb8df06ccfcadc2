// `lopt train --save-state F` / `--resume-state F`: a training run's state in an optimizer state file
// (src/optimizers/state-file.ts). The file holds the optimizer state (the model parameters included,
// and the step count), and in its manifest's `meta.run` what the run needs to go on bit for bit: the
// task and its options, the seed (the batch stream is seeded: resuming replays the batches consumed),
// the planned total steps (--steps; schedules span them), the steps done, every training loss so far
// (float32, base64), the evaluations made, and the task's model state where it has one (BatchNorm's
// moving averages, float32 base64). A resumed run ends where the uninterrupted one would and reports
// the same curve, losses and evaluations.
import type { Evaluation, TrainResult, TrainResume } from '../training/train.js';
import type { Params } from '../engine/tensor.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { loadState, saveState, StateFileError } from '../optimizers/state-file.js';
import { UsageError } from './errors.js';

/** What identifies a run: a state may only continue the same one. */
export interface RunIdentity {
  task: string;
  taskOptions: Record<string, unknown>;
  seed: number;
}

interface SavedRun extends RunIdentity {
  /** Planned total steps (--steps). */
  steps: number;
  stepsDone: number;
  /** Float32 losses, little-endian, base64. */
  losses: string;
  /** Evaluations with non-finite numbers as strings ("NaN", "Infinity"). */
  evaluations: Array<{ step: number; validLoss: number | string; testLoss: number | string }>;
  /** The task's model state (float32 base64 per tensor), where it has one. */
  modelState?: Record<string, { shape: number[]; data: string }>;
}

/** Float32 values, little-endian, as base64. */
function encodeFloats(values: Float32Array): string {
  const bytes = Buffer.alloc(4 * values.length);
  values.forEach((x, i) => bytes.writeFloatLE(x, 4 * i));
  return bytes.toString('base64');
}

/** The inverse of encodeFloats; undefined when the bytes do not hold `count` values. */
function decodeFloats(base64: string, count: number): Float32Array | undefined {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== 4 * count) return undefined;
  const values = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) values[i] = view.getFloat32(4 * i, true);
  return values;
}

const encodeNumber = (x: number): number | string => (Number.isFinite(x) ? x : String(x));
const decodeNumber = (x: number | string): number => (typeof x === 'number' ? x : Number(x));

function canonical(value: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]])));
}

/** Writes the run's optimizer state and position to `file` (atomically). */
export function saveRunState(file: string, optimizer: Optimizer<unknown>, result: TrainResult, run: RunIdentity & { steps: number }): void {
  const losses = encodeFloats(result.losses);
  const saved: SavedRun = {
    task: run.task,
    taskOptions: run.taskOptions,
    seed: run.seed,
    steps: run.steps,
    stepsDone: result.stepsDone,
    losses,
    evaluations: result.evaluations.map((e) => ({ step: e.step, validLoss: encodeNumber(e.validLoss), testLoss: encodeNumber(e.testLoss) })),
    ...(result.modelState ? {
      modelState: Object.fromEntries(Object.entries(result.modelState).map(([name, t]) => [name, { shape: [...t.shape], data: encodeFloats(t.data) }])),
    } : {}),
  };
  saveState(file, optimizer, result.state, { numSteps: run.steps, run: saved });
}

/**
 * Reads a state written by saveRunState for `optimizer` and checks that it continues this run (same
 * task, task options, seed; `steps`, when given, the same planned total). Every mismatch is one
 * UsageError naming it.
 */
export function loadRunState(
  file: string, optimizer: Optimizer<unknown>, run: RunIdentity & { steps?: number },
): TrainResume & { steps: number } {
  let loaded;
  try {
    loaded = loadState(file, optimizer);
  } catch (error) {
    if (error instanceof StateFileError) throw new UsageError(`--resume-state: ${error.message}`);
    throw error;
  }
  const saved = loaded.meta.run as SavedRun | undefined;
  if (!saved || typeof saved !== 'object' || typeof saved.stepsDone !== 'number' || typeof saved.losses !== 'string') {
    throw new UsageError(`--resume-state: ${file} holds an optimizer state but no training run (it was not written by lopt train --save-state)`);
  }
  if (saved.task !== run.task) throw new UsageError(`--resume-state: ${file} is a run of task ${saved.task}, not ${run.task} (pass --task ${saved.task})`);
  if (canonical(saved.taskOptions) !== canonical(run.taskOptions)) {
    throw new UsageError(`--resume-state: ${file} is a run with task options ${canonical(saved.taskOptions)}, not ${canonical(run.taskOptions)} (pass the same --task-opt and --batch-size)`);
  }
  if (saved.seed !== run.seed) throw new UsageError(`--resume-state: ${file} is a run with seed ${saved.seed}, not ${run.seed} (pass --seed ${saved.seed})`);
  if (run.steps !== undefined && run.steps !== saved.steps) {
    throw new UsageError(`--resume-state: ${file} is a run planned for ${saved.steps} steps (its schedules span them), not ${run.steps}: pass --steps ${saved.steps} or leave --steps out`);
  }
  const losses = decodeFloats(saved.losses, saved.stepsDone);
  if (!losses) throw new UsageError(`--resume-state: ${file} is corrupt (its loss curve does not hold ${saved.stepsDone} losses)`);
  const evaluations: Evaluation[] = (saved.evaluations ?? []).map((e) => ({ step: e.step, validLoss: decodeNumber(e.validLoss), testLoss: decodeNumber(e.testLoss) }));
  const modelState = saved.modelState ? decodeModelState(file, saved.modelState) : undefined;
  return { state: loaded.state, stepsDone: saved.stepsDone, losses, evaluations, steps: saved.steps, ...(modelState ? { modelState } : {}) };
}

function decodeModelState(file: string, saved: NonNullable<SavedRun['modelState']>): Params {
  const out: Params = {};
  for (const [name, t] of Object.entries(saved)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    const data = decodeFloats(t.data, count);
    if (!data) throw new UsageError(`--resume-state: ${file} is corrupt (model state ${name} does not hold ${count} values)`);
    out[name] = { shape: [...t.shape], data };
  }
  return out;
}
