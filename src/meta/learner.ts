// The meta-learner: averages `metaBatch` gradient estimates (each over `numTasks` task slots), updates
// θ with Adam on a gradient clipped per element to ±3, evaluates θ by full inner runs on reserved
// seeds, and keeps the latest and the best θ. Its whole state is plain data (`snapshot`), so a run
// checkpoints and resumes exactly.
import { foldIn, keyFromSeed, type Key } from '../engine/random.js';
import { flattenParams, type Params } from '../engine/tensor.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { contribute, initialSlotStates } from './estimator.js';
import { perturbation, sanitize } from './estimators.js';
import { estimatorList, getEstimator, isEstimatorKind, type EstimatorKind } from './estimators/index.js';
import { buildLopt, buildTaskSource, type MetaProblemSpec } from './problem.js';
import { localExecutor, thetaFromFlat, type SlotContext, type SlotExecutor } from './slots.js';
import { train } from '../training/train.js';
import { initialThetaKey } from './init-search.js';
import { checkSchedule, maxLength, type TruncationSchedule } from './truncation.js';
import { newSlotState, slotKey, type SlotState } from './unroll.js';

export type MetaLrSchedule = 'constant' | 'cosine' | 'warmup-cosine';

export interface MetaTrainOptions {
  problem: MetaProblemSpec;
  estimator: EstimatorKind;
  /** Task slots per estimate (N). */
  numTasks: number;
  /** Inner steps per truncation (K); full ES unrolls whole runs instead. */
  truncLength: number;
  /** Length of one inner run (constant schedule) unless `schedule` is given. */
  innerSteps: number;
  schedule?: TruncationSchedule;
  /** Range of the random initial step of each slot (default: the longest run; 0: none). */
  initialOffset?: number;
  /** σ of the perturbations. */
  std: number;
  metaLr: number;
  metaLrSchedule?: MetaLrSchedule;
  /** Total outer steps planned (the meta-lr schedule is laid out over it). */
  outerSteps: number;
  seed: number;
  /** Estimates averaged per update (B). */
  metaBatch?: number;
  /** Per-element clip of the meta-gradient (default 3). */
  gradClip?: number;
  metaLossAfterUpdate?: boolean;
  /** Evaluate every E outer steps (0: never). */
  evalEvery?: number;
  /** Evaluation seeds (default 2) and inner steps of an evaluation run (default innerSteps). */
  evalSeeds?: number;
  evalSteps?: number;
  /** Initial θ (default: the learned optimizer's init from the seed). */
  theta?: Params;
}

export interface MetricsRow {
  outerStep: number;
  thetaVersion: number;
  metaLoss: number;
  gradNorm: number;
  innerStepsPerSec: number;
  nanCount: number;
  innerSteps: number;
  metaLr: number;
}

export interface EvalRow {
  outerStep: number;
  thetaVersion: number;
  evalTask: string;
  evalSeed: number;
  evalLoss: number;
  /**
   * The run's score: the task's normaliser applied to its mean loss, the quantity meta-training
   * minimises (for a mixture's variant, divided by the variant's loss scale). The best θ is the one
   * with the lowest mean score, so every variant of a mixture counts as much as it does in training.
   * Absent from rows written before it existed.
   */
  evalScore?: number;
}

/** The mean loss and mean score of one evaluation's rows (the score falls back to the loss where a row has none). */
export function summarizeEval(rows: readonly Pick<EvalRow, 'evalLoss' | 'evalScore'>[]): { loss: number; score: number } {
  const loss = rows.reduce((a, r) => a + r.evalLoss, 0) / rows.length;
  const score = rows.reduce((a, r) => a + (r.evalScore ?? r.evalLoss), 0) / rows.length;
  return { loss, score };
}

/** Whether an evaluation beats the best θ so far (a best recorded before scores existed compares by its loss). */
export function beatsBest(best: LearnerSnapshot['best'], evaluation: { score: number }): boolean {
  return !best || evaluation.score < (best.evalScore ?? best.evalLoss);
}

/** Everything that determines the rest of a run (structured-clone safe). */
export interface LearnerSnapshot {
  version: 1;
  options: Omit<MetaTrainOptions, 'theta'>;
  outerStep: number;
  thetaVersion: number;
  /** Estimates made so far: the perturbations of estimate e are drawn from key e. */
  estimates: number;
  theta: Float32Array;
  adam: { t: number; m: Float64Array; v: Float64Array };
  /**
   * The estimator's per-slot state per global slot (PES: its accumulators); empty for an estimator
   * that keeps none.
   */
  accumulators: Float32Array[];
  slots: SlotState[];
  best: { theta: Float32Array; evalLoss: number; evalScore?: number; outerStep: number } | null;
  totalInnerSteps: number;
}

export type ExecutorFactory = (ctx: SlotContext, states: SlotState[]) => Promise<SlotExecutor> | SlotExecutor;

/** LO's meta-optimizer Adam: ε outside and eps_root inside the square root. */
export const ADAM_EPS = 1e-8;
export const ADAM_EPS_ROOT = 1e-8;

const DEFAULTS = { metaBatch: 1, gradClip: 3, evalEvery: 0, evalSeeds: 2, metaLrSchedule: 'constant' as MetaLrSchedule };

function validate(o: MetaTrainOptions): void {
  const posInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  };
  posInt('numTasks', o.numTasks);
  posInt('truncLength', o.truncLength);
  posInt('innerSteps', o.innerSteps);
  posInt('outerSteps', o.outerSteps);
  posInt('metaBatch', o.metaBatch ?? 1);
  if (!isEstimatorKind(o.estimator)) throw new Error(`estimator must be ${estimatorList()}, got ${o.estimator}`);
  if (!(o.std > 0)) throw new Error(`std must be positive, got ${o.std}`);
  if (!(o.metaLr >= 0)) throw new Error(`meta learning rate must be ≥ 0, got ${o.metaLr}`);
  if (o.schedule) checkSchedule(o.schedule);
}

/** The meta learning rate at outer step t (0-based) of T: constant, cosine to 0, or 5% warmup then cosine. */
export function metaLrAt(schedule: MetaLrSchedule, lr: number, t: number, total: number): number {
  if (schedule === 'constant') return lr;
  const warmup = schedule === 'warmup-cosine' ? Math.max(1, Math.round(0.05 * total)) : 0;
  if (t < warmup) return (lr * (t + 1)) / warmup;
  const frac = Math.min(1, (t - warmup) / Math.max(1, total - warmup));
  return lr * 0.5 * (1 + Math.cos(Math.PI * frac));
}

/**
 * Full inner runs of θ on the evaluation seeds reserved by the run's seed (a key branch no training
 * slot uses): the learner's periodic evaluation, and what remote evaluators run on published θ.
 */
export function evaluateTheta(
  o: Omit<MetaTrainOptions, 'theta'>, theta: Params, at: { outerStep: number; thetaVersion: number },
  /** Changes the optimizer θ gives before it trains (probes such as scripts/probe-step-schedule.mjs). */
  wrapOptimizer: (optimizer: Optimizer<any>) => Optimizer<any> = (optimizer) => optimizer,
): EvalRow[] {
  return evaluateOptimizer(o, wrapOptimizer(buildLopt(o.problem).optFn(theta)), at);
}

/**
 * Any optimizer on the same inner runs as `evaluateTheta` (same tasks, initialisations and batches):
 * a hand-designed baseline measured on a meta-training run's own evaluation keys.
 */
export function evaluateOptimizer(
  o: Omit<MetaTrainOptions, 'theta'>, optimizer: Optimizer<any>, at: { outerStep: number; thetaVersion: number },
): EvalRow[] {
  const source = buildTaskSource(o.problem);
  const root = keyFromSeed(o.seed);
  const rows: EvalRow[] = [];
  for (let seed = 0; seed < (o.evalSeeds ?? 2); seed++) {
    const key = foldIn(foldIn(root, 0xe7a1), seed);
    const task = source.taskFor(foldIn(key, 1));
    const result = train({ task, optimizer, steps: o.evalSteps ?? o.innerSteps, key: foldIn(key, 2) });
    const evalLoss = Number.isNaN(result.meanLoss) ? Infinity : result.meanLoss;
    const evalScore = task.normalizer(result.meanLoss);
    rows.push({ outerStep: at.outerStep, thetaVersion: at.thetaVersion, evalTask: source.name, evalSeed: seed, evalLoss, evalScore });
  }
  return rows;
}

export class MetaLearner {
  private executor: SlotExecutor | null = null;
  private readonly root: Key;
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  readonly optimizerName: string;
  readonly taskName: string;

  private constructor(readonly snap: LearnerSnapshot, private readonly makeExecutor: ExecutorFactory) {
    const lopt = buildLopt(snap.options.problem);
    this.shapes = lopt.thetaShapes;
    this.optimizerName = lopt.name;
    this.taskName = buildTaskSource(snap.options.problem).name;
    this.root = keyFromSeed(snap.options.seed);
  }

  /** A fresh learner at outer step 0. */
  static async create(options: MetaTrainOptions, makeExecutor: ExecutorFactory = localExecutor): Promise<MetaLearner> {
    validate(options);
    const { theta: given, ...rest } = options;
    const o = { ...DEFAULTS, ...rest };
    const lopt = buildLopt(o.problem);
    const root = keyFromSeed(o.seed);
    const theta = flattenParams(given ?? lopt.init(initialThetaKey(o.seed)));
    const slotCount = o.numTasks * o.metaBatch;
    const slots: SlotState[] = [];
    for (let b = 0; b < o.metaBatch; b++) for (let i = 0; i < o.numTasks; i++) slots.push(newSlotState(slotKey(root, b, i)));
    const snap: LearnerSnapshot = {
      version: 1, options: o, outerStep: 0, thetaVersion: 0, estimates: 0, theta,
      adam: { t: 0, m: new Float64Array(theta.length), v: new Float64Array(theta.length) },
      accumulators: initialSlotStates(getEstimator(o.estimator), slotCount, theta.length),
      slots, best: null, totalInnerSteps: 0,
    };
    const learner = new MetaLearner(snap, makeExecutor);
    return learner;
  }

  /** A learner continuing from a snapshot (a checkpoint). */
  static async fromSnapshot(snap: LearnerSnapshot, makeExecutor: ExecutorFactory = localExecutor): Promise<MetaLearner> {
    if (snap.version !== 1) throw new Error(`unsupported checkpoint version ${String(snap.version)}`);
    return new MetaLearner(snap, makeExecutor);
  }

  get outerStep(): number { return this.snap.outerStep; }
  get options(): Omit<MetaTrainOptions, 'theta'> { return this.snap.options; }

  /** The current θ as a tree (a copy). */
  theta(): Params { return thetaFromFlat(this.snap.theta.slice(), this.shapes); }
  bestTheta(): Params | null { return this.snap.best ? thetaFromFlat(this.snap.best.theta.slice(), this.shapes) : null; }
  bestEvalLoss(): number | null { return this.snap.best?.evalLoss ?? null; }

  private unrollSteps(): number {
    return getEstimator(this.snap.options.estimator).unrollSteps(this.snap.options);
  }

  private async ensureExecutor(): Promise<SlotExecutor> {
    if (!this.executor) {
      const o = this.snap.options;
      const ctx: SlotContext = {
        problem: o.problem, root: this.root, std: o.std,
        unroll: {
          estimator: o.estimator,
          schedule: o.schedule ?? { kind: 'constant', length: o.innerSteps },
          initialOffset: o.initialOffset ?? maxLength(o.schedule ?? { kind: 'constant', length: o.innerSteps }),
          metaLossAfterUpdate: o.metaLossAfterUpdate ?? false,
        },
      };
      // The executor owns copies: the snapshot's slot states are refreshed from it when saving.
      this.executor = await this.makeExecutor(ctx, structuredClone(this.snap.slots));
    }
    return this.executor;
  }

  /** The averaged, sanitised gradient estimate at the current θ (advances slots and accumulators). */
  /** Estimates are independent draws; θ is not changed. */
  async estimate(): Promise<{ grad: Float64Array; metaLoss: number; nanCount: number; innerSteps: number; seconds: number }> {
    const o = this.snap.options;
    const executor = await this.ensureExecutor();
    const theta = this.snap.theta;
    const started = process.hrtime.bigint();
    const draw = this.snap.estimates;
    const estimator = getEstimator(o.estimator);
    const results = await executor.run(theta, draw, this.unrollSteps());
    this.snap.estimates += 1;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const grad = new Float64Array(theta.length);
    let lossSum = 0;
    let innerSteps = 0;
    for (let s = 0; s < results.length; s++) {
      const eps = perturbation(this.root, draw, s, theta.length, o.std);
      const red = contribute(estimator, results[s], eps, this.snap.accumulators[s] ?? null, grad);
      lossSum += red.loss;
      innerSteps += results[s].innerSteps;
    }
    const scale = 1 / (results.length * 2 * o.std * o.std);
    for (let j = 0; j < grad.length; j++) grad[j] *= scale;
    const { loss, nanCount } = sanitize(lossSum / results.length, grad);
    return { grad, metaLoss: loss, nanCount, innerSteps, seconds };
  }

  /** One outer step: estimate, clip, Adam; returns the metrics row. */
  async step(): Promise<MetricsRow> {
    return this.applyGradient(await this.estimate());
  }

  /**
   * The update of one outer step from an averaged gradient estimate (local, or gathered from remote
   * workers by src/distributed): clip per element, Adam, advance the outer step and θ version.
   */
  applyGradient(est: { grad: Float64Array; metaLoss: number; nanCount: number; innerSteps: number; seconds: number }): MetricsRow {
    const o = this.snap.options;
    const clip = o.gradClip ?? 3;
    let sq = 0;
    for (const g of est.grad) sq += g * g;
    const lr = metaLrAt(o.metaLrSchedule ?? 'constant', o.metaLr, this.snap.outerStep, o.outerSteps);
    // Adam as LO's meta-optimizer has it (optimizers/optax_opts.py Adam: β1 0.9, β2 0.999, ε 1e-8 and
    // eps_root 1e-8 inside the square root) on the clipped gradient.
    const a = this.snap.adam;
    a.t += 1;
    const bc1 = 1 - Math.pow(0.9, a.t);
    const bc2 = 1 - Math.pow(0.999, a.t);
    const theta = this.snap.theta;
    for (let j = 0; j < theta.length; j++) {
      const g = Math.min(clip, Math.max(-clip, est.grad[j]));
      a.m[j] = 0.9 * a.m[j] + 0.1 * g;
      a.v[j] = 0.999 * a.v[j] + 0.001 * g * g;
      theta[j] = theta[j] - (lr * (a.m[j] / bc1)) / (Math.sqrt(a.v[j] / bc2 + ADAM_EPS_ROOT) + ADAM_EPS);
    }
    const row: MetricsRow = {
      outerStep: this.snap.outerStep, thetaVersion: this.snap.thetaVersion, metaLoss: est.metaLoss,
      gradNorm: Math.sqrt(sq), innerStepsPerSec: est.seconds > 0 ? est.innerSteps / est.seconds : 0,
      nanCount: est.nanCount, innerSteps: est.innerSteps, metaLr: lr,
    };
    this.snap.outerStep += 1;
    this.snap.thetaVersion += 1;
    this.snap.totalInnerSteps += est.innerSteps;
    return row;
  }

  /** Full inner runs of the current θ on the reserved evaluation seeds; updates the best θ. */
  evaluate(): EvalRow[] {
    const rows = evaluateTheta(this.snap.options, this.theta(), { outerStep: this.snap.outerStep, thetaVersion: this.snap.thetaVersion });
    const evaluation = summarizeEval(rows);
    if (beatsBest(this.snap.best, evaluation)) {
      this.snap.best = { theta: this.snap.theta.slice(), evalLoss: evaluation.loss, evalScore: evaluation.score, outerStep: this.snap.outerStep };
    }
    return rows;
  }

  /** Whether an evaluation is due after the step just taken (and at outer step 0). */
  evalDue(): boolean {
    const e = this.snap.options.evalEvery ?? 0;
    return e > 0 && this.snap.outerStep % e === 0;
  }

  /** A complete copy of the learner's state, slots included (for checkpoints). */
  async snapshot(): Promise<LearnerSnapshot> {
    if (this.executor) this.snap.slots = await this.executor.states();
    return structuredClone(this.snap);
  }

  async close(): Promise<void> {
    await this.executor?.close();
    this.executor = null;
  }
}
