// `lopt train --save-state F` / `--resume-state F`: a training run's state in an optimizer state file
// (src/optimizers/state-file.ts). The file holds the optimizer state (the model parameters included,
// and the step count), and in its manifest's `meta.run` what the run needs to go on bit for bit: the
// task and its options, the seed (the batch stream is seeded: resuming replays the batches consumed),
// the planned total steps (--steps; schedules span them), the steps done, every training loss so far
// (float32, base64) and the evaluations made. A resumed run ends where the uninterrupted one would and
// reports the same curve, losses and evaluations.
import type { Evaluation, TrainResult, TrainResume } from '../training/train.js';
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
}

const encodeNumber = (x: number): number | string => (Number.isFinite(x) ? x : String(x));
const decodeNumber = (x: number | string): number => (typeof x === 'number' ? x : Number(x));

function canonical(value: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]])));
}

/** Writes the run's optimizer state and position to `file` (atomically). */
export function saveRunState(file: string, optimizer: Optimizer<unknown>, result: TrainResult, run: RunIdentity & { steps: number }): void {
  const bytes = Buffer.alloc(4 * result.losses.length);
  result.losses.forEach((loss, i) => bytes.writeFloatLE(loss, 4 * i));
  const losses = bytes.toString('base64');
  const saved: SavedRun = {
    task: run.task,
    taskOptions: run.taskOptions,
    seed: run.seed,
    steps: run.steps,
    stepsDone: result.stepsDone,
    losses,
    evaluations: result.evaluations.map((e) => ({ step: e.step, validLoss: encodeNumber(e.validLoss), testLoss: encodeNumber(e.testLoss) })),
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
  const bytes = Buffer.from(saved.losses, 'base64');
  if (bytes.length !== 4 * saved.stepsDone) throw new UsageError(`--resume-state: ${file} is corrupt (its loss curve does not hold ${saved.stepsDone} losses)`);
  const losses = new Float32Array(saved.stepsDone);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < losses.length; i++) losses[i] = view.getFloat32(4 * i, true);
  const evaluations: Evaluation[] = (saved.evaluations ?? []).map((e) => ({ step: e.step, validLoss: decodeNumber(e.validLoss), testLoss: decodeNumber(e.testLoss) }));
  return { state: loaded.state, stepsDone: saved.stepsDone, losses, evaluations, steps: saved.steps };
}
