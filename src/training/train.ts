// One full inner training run: batches → task.lossAndGrad → optimizer.update, with timing and evaluation.
import { keyFromSeed, split, type Key } from '../engine/random.js';
import { assertSameStructure, cloneParams, type Params } from '../engine/tensor.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { DataSplit } from '../data/image-data.js';
import type { Task } from '../tasks/task.js';
import { DivergenceDetector, type Divergence, type DivergenceRule } from '../meta/divergence.js';

/** What evaluation needs of a batch to weight it: labels (one per example) or a batch size. */
export type BatchLike = { label?: Int32Array; batchSize?: number };

export interface TrainOptions<B> {
  task: Task<B>;
  optimizer: Optimizer<any>;
  steps: number;
  /** Seed of the run (initialisation, data order, optimizer randomness); ignored when `key` is given. */
  seed?: number;
  key?: Key;
  /** Evaluate validation and test loss every N steps and at the end (0 or undefined: never). */
  evalEvery?: number;
  /** Called after every step with the 1-based number of steps done and that step's training loss. */
  onStep?: (stepsDone: number, loss: number) => void;
  onEval?: (evaluation: Evaluation) => void;
  /**
   * The divergence rule's settings (src/meta/divergence.ts: NaN/±Inf loss, or the smoothed loss above
   * the initial loss for a window of steps); the rule is always applied, this only changes its settings.
   */
  divergence?: DivergenceRule;
  /**
   * What a diverged run does: `continue` (the default) runs every step and only reports it; `stop` ends
   * the run at the step where it diverged (then `losses`, `finalLoss`, `meanLoss`, `msPerStep` cover
   * the steps run, and evaluation, if any, happens at that step).
   */
  onDiverge?: 'stop' | 'continue';
  /** Called once, right after the step where the run diverged. */
  onDivergence?: (divergence: Divergence) => void;
  /**
   * End the run after this many steps (1 … steps; default `steps`) while schedules still span `steps`:
   * the first part of a run to continue later with `resume` (the result's `state`).
   */
  stopAt?: number;
  /**
   * Continue a run of the same task, optimizer, seed and `steps` that stopped after `stepsDone` steps:
   * the run is then bit for bit the uninterrupted one. The batch stream replays (skips) the consumed
   * batches, the divergence rule re-reads `losses`, and the result covers the whole run.
   */
  resume?: TrainResume;
}

/** Where a stopped run stands (the optimizer state holds the parameters and the step count). */
export interface TrainResume {
  /** The optimizer state after `stepsDone` steps (e.g. from loadState). */
  state: unknown;
  stepsDone: number;
  /** The training losses of the steps done (length stepsDone). */
  losses: Float32Array;
  /** The evaluations made so far. */
  evaluations?: Evaluation[];
  /** The task's model state after `stepsDone` steps (BatchNorm's moving averages), where it has one. */
  modelState?: Params;
}

export interface Evaluation {
  /** Number of training steps done when evaluated. */
  step: number;
  validLoss: number;
  testLoss: number;
}

export interface TrainResult {
  /** Training loss of each step run, measured before that step's update. */
  losses: Float32Array;
  initialLoss: number;
  /** Loss of the last step run. */
  finalLoss: number;
  /**
   * Mean raw training loss over all steps run (the paper's performance metric): every step, except for
   * a run stopped by `onDiverge: 'stop'`, where it covers steps 1 … divergedAt (NaN or ±Inf when the
   * last of them is).
   */
  meanLoss: number;
  /** Median wall time of one full step (batch, loss and gradient, update). */
  msPerStep: number;
  evaluations: Evaluation[];
  params: Params;
  /** Steps run: `steps`, or `divergedAt` for a run stopped by `onDiverge: 'stop'`. */
  stepsDone: number;
  /** Whether the run diverged by the divergence rule (src/meta/divergence.ts). */
  diverged: boolean;
  /** The 1-based step at which it diverged (undefined when it did not). */
  divergedAt?: number;
  /** Where and why it diverged (undefined when it did not). */
  divergence?: Divergence;
  /** The optimizer state at the end (to save with saveState and continue with `resume`). */
  state: unknown;
  /** A copy of the task's model state at the end (BatchNorm's moving averages), where it has one. */
  modelState?: Params;
}

/** Mean loss over every example of a split (batches weighted by their size). */
export function evaluateSplit<B extends BatchLike>(task: Task<B>, params: Params, data: DataSplit<B>): number {
  let total = 0;
  let count = 0;
  for (const batch of data.inOrder()) {
    const size = batch.label?.length ?? batch.batchSize ?? 1;
    total += task.loss(params, batch) * size;
    count += size;
  }
  return total / count;
}

export function median(values: ArrayLike<number>): number {
  const sorted = Array.from(values).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function train<B extends BatchLike>(options: TrainOptions<B>): TrainResult {
  const { task, optimizer, steps } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`);
  const onDiverge = options.onDiverge ?? 'continue';
  if (onDiverge !== 'stop' && onDiverge !== 'continue') throw new Error(`onDiverge must be "stop" or "continue", got ${String(onDiverge)}`);
  const detector = new DivergenceDetector(options.divergence);
  const stopAt = options.stopAt ?? steps;
  if (!Number.isInteger(stopAt) || stopAt < 1 || stopAt > steps) throw new Error(`stopAt must be an integer in [1, ${steps}], got ${stopAt}`);
  const resume = options.resume;
  const start = resume?.stepsDone ?? 0;
  if (resume && (!Number.isInteger(start) || start < 0 || start > steps || resume.losses.length !== start)) {
    throw new Error(`resume: stepsDone must be an integer in [0, ${steps}] with one loss per step done, got ${start} steps and ${resume.losses.length} losses`);
  }
  const [initKey, dataKey, optimizerKey] = split(options.key ?? keyFromSeed(options.seed ?? 0), 3);
  const batches = task.datasets.train.stream(dataKey);
  const initial = task.init(initKey);
  let state = resume ? resume.state : optimizer.init(initial, { numSteps: steps, key: optimizerKey });
  if (resume) assertSameStructure(optimizer.getParams(state), initial, `the resumed state's parameters and ${task.name}'s`);
  if (resume) restoreModelState(task, resume.modelState);
  const losses = new Float32Array(steps);
  const stepMs = new Float64Array(steps);
  const evaluations: Evaluation[] = resume?.evaluations ? [...resume.evaluations] : [];
  let done = 0;
  let stopped = false;
  if (resume) {
    // The batches consumed so far, and the divergence rule over the losses so far.
    for (let i = 0; i < start; i++) batches.next();
    losses.set(resume.losses);
    for (let i = 0; i < start; i++) {
      if (detector.push(losses[i]) && onDiverge === 'stop') stopped = true;
    }
    done = start;
  }
  const end = Math.max(stopAt, start);
  const evaluate = (step: number) => {
    const params = optimizer.getParams(state);
    const evaluation = {
      step,
      validLoss: evaluateSplit(task, params, task.datasets.valid),
      testLoss: evaluateSplit(task, params, task.datasets.test),
    };
    evaluations.push(evaluation);
    options.onEval?.(evaluation);
  };
  while (done < end && !stopped) {
    const step = done;
    const started = process.hrtime.bigint();
    const batch = batches.next();
    const { loss, grads } = task.lossAndGrad(optimizer.getParams(state), batch);
    state = optimizer.update(state, grads, { loss });
    stepMs[step] = Number(process.hrtime.bigint() - started) / 1e6;
    losses[step] = loss;
    done = step + 1;
    options.onStep?.(done, loss);
    // The rule sees the loss as stored (float32), as every reader of `losses` does.
    const divergence = detector.push(losses[step]);
    if (divergence) options.onDivergence?.(divergence);
    const stop = divergence !== undefined && onDiverge === 'stop';
    if (options.evalEvery && (done % options.evalEvery === 0 || done === steps || stop)) evaluate(done);
    if (stop) break;
  }
  const ran = done === steps ? losses : losses.slice(0, done);
  const timed = stepMs.subarray(start, done);
  let sum = 0;
  for (const loss of ran) sum += loss;
  const divergence = detector.divergence;
  return {
    losses: ran,
    initialLoss: ran[0],
    finalLoss: ran[done - 1],
    meanLoss: sum / done,
    msPerStep: median(timed),
    evaluations,
    params: optimizer.getParams(state),
    stepsDone: done,
    diverged: divergence !== undefined,
    ...(divergence ? { divergedAt: divergence.step, divergence } : {}),
    state,
    ...(task.modelState ? { modelState: cloneParams(task.modelState) } : {}),
  };
}

/** Puts a resumed run's model state into the task (task.init reset it); a task with one needs it. */
function restoreModelState(task: Task<unknown>, saved: Params | undefined): void {
  if (!task.modelState) {
    if (saved && Object.keys(saved).length > 0) throw new Error(`resume: the resumed run has a model state but ${task.name} has none`);
    return;
  }
  if (!saved) throw new Error(`resume: ${task.name} has a model state (BatchNorm's moving averages) but the resumed run holds none`);
  assertSameStructure(saved, task.modelState, `the resumed model state and ${task.name}'s`);
  for (const name of Object.keys(saved)) task.modelState[name].data.set(saved[name].data);
}
