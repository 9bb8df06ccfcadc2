// The truncated inner problem (LO outer_trainers/truncated_step.py, lopt_truncated_step.py): one
// task slot keeps persistent inner state across truncations — parameters, optimizer state, step —
// as one copy (truncated ES: the negative copy is forked from it each truncation) or, for PES, a
// positive and a negative copy that both persist. Both copies see the same task, initialisation,
// batches and keys (common random numbers). A slot's state is plain data (structured-clone safe), so
// it can be checkpointed and moved between threads.
import { foldIn, randint, split, type Key } from '../engine/random.js';
import type { Params } from '../engine/tensor.js';
import type { BatchStream } from '../data/image-data.js';
import type { LearnedOptimizer } from '../learned/learned-optimizer.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { Task } from '../tasks/task.js';
import type { TaskSource } from './problem.js';
import type { Estimator } from './estimator.js';
import { getEstimator, type EstimatorKind } from './estimators/index.js';
import { sampleLength, type TruncationSchedule } from './truncation.js';

export type { EstimatorKind } from './estimators/index.js';

export interface UnrollConfig {
  estimator: EstimatorKind;
  schedule: TruncationSchedule;
  /** Random initial step of a slot's first run, uniform in [0, offset) (0: none; ignored by full ES). */
  initialOffset: number;
  /** Record the loss after the update on a fresh batch instead of the training loss before it. */
  metaLossAfterUpdate: boolean;
}

/** Persistent state of one task slot: plain data only. */
export interface SlotState {
  /** Root key of the slot: every run, batch and key of it derives from this. */
  key: Key;
  /** Runs started so far (the current run is number run − 1). */
  run: number;
  /** Inner step of the current run and its length. */
  step: number;
  length: number;
  /** Optimizer states (null before the first run); `neg` is null except for PES. */
  pos: unknown;
  neg: unknown;
  /** Batches drawn from the training stream and from the meta-loss stream in the current run. */
  consumed: number;
  metaConsumed: number;
}

/** What one truncation of one slot produced, per step. */
export interface UnrollResult {
  /** Meta-losses (normalised) of the positive and negative copies; full ES/TES/PES all fill both. */
  pos: Float64Array;
  neg: Float64Array;
  /** 1 where the run finished at that step (the task was reset after it). */
  done: Uint8Array;
  /** 1 where the step counts (LO: the next step is not 0). */
  mask: Uint8Array;
  /** Inner optimizer updates applied (each copy counted). */
  innerSteps: number;
}

export function newSlotState(key: Key): SlotState {
  return { key, run: 0, step: 0, length: 0, pos: null, neg: null, consumed: 0, metaConsumed: 0 };
}

/** The key of slot `index` of estimator `member` for a run rooted at `root`. */
export function slotKey(root: Key, member: number, index: number): Key {
  return foldIn(foldIn(foldIn(root, 0x51075), member), index);
}

interface RunKeys { task: Key; init: Key; data: Key; opt: Key; length: Key; meta: Key }

function runKeys(slot: SlotState, run: number): RunKeys {
  const [task, init, data, opt, length, meta] = split(foldIn(slot.key, run), 6);
  return { task, init, data, opt, length, meta };
}

/**
 * Runs truncations of one slot. Live objects (task, batch streams) are rebuilt from the plain state
 * when needed, so a slot restored from a checkpoint continues exactly (streams are replayed).
 */
export class SlotRunner {
  private task: Task<any> | null = null;
  private stream: BatchStream<any> | null = null;
  private metaStream: BatchStream<any> | null = null;
  private liveRun = -1;
  private readonly estimator: Estimator;

  constructor(
    readonly state: SlotState,
    private readonly lopt: LearnedOptimizer,
    private readonly source: TaskSource,
    private readonly config: UnrollConfig,
  ) {
    this.estimator = getEstimator(config.estimator);
  }

  /** Rebuilds task and streams for the current run, skipping the batches already drawn. */
  private ensureLive(): void {
    const s = this.state;
    if (this.liveRun === s.run - 1 && this.task) return;
    const keys = runKeys(s, s.run - 1);
    this.task = this.source.taskFor(keys.task);
    this.stream = this.task.datasets.train.stream(keys.data);
    for (let i = 0; i < s.consumed; i++) this.stream.next();
    this.metaStream = null;
    if (this.config.metaLossAfterUpdate) {
      this.metaStream = this.task.datasets.train.stream(keys.meta);
      for (let i = 0; i < s.metaConsumed; i++) this.metaStream.next();
    }
    this.liveRun = s.run - 1;
  }

  /**
   * Starts a new run (new task draw, initialisation, length). A slot's first run may start at a random
   * inner step r in [0, offset), as LO's `random_initial_iteration_offset` does: only the run's step
   * counter moves, so the run is r steps shorter. The optimizer starts fresh (its own iteration 0), so
   * a new network is trained with the time features of a new network.
   */
  private startRun(optPos: Optimizer<unknown>, optNeg: Optimizer<unknown> | null, slotStart: boolean): void {
    const s = this.state;
    const keys = runKeys(s, s.run);
    s.run += 1;
    s.length = sampleLength(this.config.schedule, keys.length);
    s.step = 0;
    if (slotStart && this.config.initialOffset > 0) {
      s.step = Math.min(s.length - 1, randint(foldIn(foldIn(s.key, 0x0ff5e7), s.run), this.config.initialOffset));
    }
    s.consumed = 0;
    s.metaConsumed = 0;
    this.liveRun = -1;
    this.ensureLive();
    const params = this.task!.init(keys.init);
    s.pos = optPos.init(params, { numSteps: s.length, key: keys.opt });
    s.neg = optNeg ? optNeg.init(params, { numSteps: s.length, key: keys.opt }) : null;
  }

  /**
   * Unrolls `steps` inner steps of the positive copy with θ⁺ and the negative copy with θ⁻. The
   * estimator prepares the copies: PES continues both persistent copies; truncated ES forks the
   * negative copy from the positive one first and keeps only the positive copy afterwards; full ES
   * starts fresh runs (and `steps` should be the run length).
   */
  unroll(thetaPos: Params, thetaNeg: Params, steps: number): UnrollResult {
    const s = this.state;
    const optPos = this.lopt.optFn(thetaPos);
    const optNeg = this.lopt.optFn(thetaNeg);
    const est = this.estimator;
    est.beforeUnroll(s);
    // A slot with no inner state (new, or restored from a compact checkpoint) starts as LO's workers do.
    if (s.pos === null) this.startRun(optPos, optNeg, est.randomInitialStep);
    else if (s.step < s.length) this.ensureLive();
    est.prepareCopies(s);
    const out: UnrollResult = {
      pos: new Float64Array(steps), neg: new Float64Array(steps),
      done: new Uint8Array(steps), mask: new Uint8Array(steps), innerSteps: 0,
    };
    for (let k = 0; k < steps; k++) {
      // LO (lopt_truncated_step.py, progress_or_reset_inner_opt_state): the step after a run's last
      // trained step is a reset of its own, with loss 0, done 0 and mask 0.
      if (s.step >= s.length) {
        this.startRun(optPos, optNeg, false);
        continue;
      }
      const task = this.task!;
      const batch = this.stream!.next();
      s.consumed += 1;
      const lp = task.lossAndGrad(optPos.getParams(s.pos), batch);
      let lossPos = lp.loss;
      s.pos = optPos.update(s.pos, lp.grads, { loss: lossPos });
      const ln = task.lossAndGrad(optNeg.getParams(s.neg), batch);
      let lossNeg = ln.loss;
      s.neg = optNeg.update(s.neg, ln.grads, { loss: lossNeg });
      out.innerSteps += 2;
      if (this.config.metaLossAfterUpdate) {
        const metaBatch = this.metaStream!.next();
        s.metaConsumed += 1;
        lossPos = task.loss(optPos.getParams(s.pos), metaBatch);
        lossNeg = task.loss(optNeg.getParams(s.neg), metaBatch);
      }
      out.pos[k] = task.normalizer(lossPos);
      out.neg[k] = task.normalizer(lossNeg);
      s.step += 1;
      // The run's last trained step counts (mask 1) and is marked done.
      out.mask[k] = 1;
      if (s.step >= s.length) {
        out.done[k] = 1;
        if (est.stopAtDone) break; // e.g. a full-ES run is over; nothing after it belongs to the estimate
      }
    }
    est.afterUnroll(s);
    return out;
  }
}
