// The learner's update and checkpoint: averages a judged batch into one gradient, applies it to the
// local MetaLearner (θ and its clipped-Adam state), writes the update's metrics row, records the
// evaluations that come back (best θ, last and initial eval loss), and saves the checkpoint and the
// θ files. Where the files go and how θ is published are the composer's: they come in as callbacks.
import type { MetaLearner, MetricsRow } from '../meta/learner.js';
import { beatsBest, summarizeEval } from '../meta/learner.js';
import type { DistributedCheckpoint } from './checkpoint.js';
import type { DropCounts, DroppedJob, JudgedBatch } from './batch-judge.js';
import type { EvalMessage } from './messages.js';
import type { PendingEval } from './theta-publisher.js';

/** One estimate of an update, as the learner's metrics row lists it (per-worker metrics). */
export interface EstimateSummary {
  jobId: string;
  workerId: string;
  thetaVersion: number;
  staleness: number;
  fresh: boolean;
  reissued: boolean;
  attempt: number;
  innerSteps: number;
  seconds: number;
  innerStepsPerSec: number;
  metaLoss: number;
}

export interface UpdateRow extends MetricsRow {
  /** Seconds since the previous update (innerStepsPerSec = innerSteps / seconds: the whole cluster). */
  seconds: number;
  /** The B job ids averaged into this update: each appears in one row only. */
  jobIds: string[];
  estimates: EstimateSummary[];
  maxStaleness: number;
  /** Estimates from fresh estimators (zero PES accumulators: truncated-ES estimates). */
  freshCount: number;
  /** Unroll jobs waiting in the queue when the last one of this batch arrived. */
  queueDepth: number;
  liveWorkers: number;
  /** Results received since the previous update and not applied, by reason. */
  dropped: DropCounts;
  droppedJobs: DroppedJob[];
}

/** What the update needs of the local learner (MetaLearner has it). */
export type UpdateLearner = Pick<MetaLearner, 'snap' | 'taskName' | 'applyGradient' | 'snapshot'>;

/** The θ published for evaluation (the ThetaPublisher keeps them). */
export interface PendingEvals {
  pendingEval(version: number): PendingEval | undefined;
  forgetEval(version: number): Promise<void>;
  pendingEvals(): DistributedCheckpoint['evalThetas'];
}

export interface LearnerUpdateDeps {
  learner: UpdateLearner;
  metrics: { append(...rows: object[]): void; bytes(): number };
  /** Job ids applied so far (the batch judge's). */
  appliedIds: () => string[];
  evals: PendingEvals;
  /** Writes the checkpoint. */
  saveCheckpoint: (ck: DistributedCheckpoint) => void;
  /** Writes theta-latest (the current θ) with the last eval loss known. */
  saveLatest: (evalLoss: number | null) => void;
  /** Writes theta-best. */
  saveBest: (theta: Float32Array, evalLoss: number, outerStep: number) => void;
  log: (line: string) => void;
  outerSteps: number;
  evalEvery: number;
  evalSeeds: number;
  checkpointEvery: number;
  onUpdate?: (row: UpdateRow) => void;
  /** What the checkpoint restored (a resumed run). */
  restored?: Pick<DistributedCheckpoint, 'evaluated' | 'initialEvalLoss' | 'lastEvalLoss'> | null;
  clock?: () => bigint;
}

export type EvalVerdict = 'recorded' | 'ignored' | 'rejected';

export class LearnerUpdate {
  private readonly evaluated: Set<number>;
  private initialEval: number | null;
  private lastEval: { version: number; loss: number } | null;
  private readonly clock: () => bigint;
  private lastUpdateAt: bigint;
  private invocationSteps = 0;
  private invocationSeconds = 0;
  private lastMetaLoss = NaN;

  constructor(private readonly d: LearnerUpdateDeps) {
    this.evaluated = new Set(d.restored?.evaluated ?? []);
    this.initialEval = d.restored?.initialEvalLoss ?? null;
    this.lastEval = d.restored?.lastEvalLoss ?? null;
    this.clock = d.clock ?? (() => process.hrtime.bigint());
    this.lastUpdateAt = this.clock();
  }

  get initialEvalLoss(): number | null { return this.initialEval; }
  get lastEvalLoss(): number | null { return this.lastEval?.loss ?? null; }
  /** The meta-loss of the last update (NaN before the first). */
  get metaLoss(): number { return this.lastMetaLoss; }
  /** Inner steps per second of the estimates applied by this learner start, all workers together. */
  get innerStepsPerSec(): number { return this.invocationSeconds > 0 ? this.invocationSteps / this.invocationSeconds : 0; }
  get finished(): boolean { return this.d.learner.snap.outerStep >= this.d.outerSteps; }
  /** θ after this update is to be evaluated. */
  get evalDue(): boolean {
    return this.d.evalEvery > 0 && (this.d.learner.snap.outerStep % this.d.evalEvery === 0 || this.finished);
  }
  get checkpointDue(): boolean {
    return this.d.checkpointEvery > 0 && this.d.learner.snap.outerStep % this.d.checkpointEvery === 0;
  }

  /** Averages the batch into one gradient, applies it, and writes (and returns) the metrics row. */
  apply(judged: JudgedBatch, queueDepth: number, liveWorkers: number): UpdateRow {
    const { batch } = judged;
    const count = this.d.learner.snap.theta.length;
    const grad = new Float64Array(count);
    let lossSum = 0;
    let nanCount = 0;
    let innerSteps = 0;
    for (const e of batch) {
      for (let j = 0; j < count; j++) grad[j] += e.grad[j] / batch.length;
      lossSum += e.metaLoss;
      nanCount += e.nanCount;
      innerSteps += e.innerSteps;
    }
    const now = this.clock();
    const seconds = Number(now - this.lastUpdateAt) / 1e9;
    this.lastUpdateAt = now;
    const base = this.d.learner.applyGradient({ grad, metaLoss: lossSum / batch.length, nanCount, innerSteps, seconds });
    const estimates: EstimateSummary[] = batch.map((e) => ({
      jobId: e.jobId, workerId: e.workerId, thetaVersion: e.thetaVersion, staleness: base.thetaVersion - e.thetaVersion,
      fresh: e.fresh, reissued: e.reissued, attempt: e.attempt, innerSteps: e.innerSteps, seconds: e.seconds,
      innerStepsPerSec: e.seconds > 0 ? e.innerSteps / e.seconds : 0, metaLoss: e.metaLoss,
    }));
    const row: UpdateRow = {
      ...base, seconds, jobIds: batch.map((e) => e.jobId), estimates,
      maxStaleness: Math.max(...estimates.map((e) => e.staleness)), freshCount: batch.filter((e) => e.fresh).length,
      queueDepth, liveWorkers, dropped: judged.dropped, droppedJobs: judged.droppedJobs,
    };
    this.d.metrics.append(row);
    this.d.onUpdate?.(row);
    this.invocationSteps += innerSteps;
    this.invocationSeconds += seconds;
    this.lastMetaLoss = row.metaLoss;
    return row;
  }

  /** Records an evaluation: only of a θ published for evaluation, on the run's task and seeds, once. */
  async recordEval(m: EvalMessage): Promise<EvalVerdict> {
    const { learner, log } = this.d;
    const pending = this.d.evals.pendingEval(m.thetaVersion);
    if (this.evaluated.has(m.thetaVersion)) { log(`ignored a second evaluation of θ version ${m.thetaVersion} (from ${m.evaluatorId})`); return 'ignored'; }
    if (!pending || pending.tag !== m.thetaTag || pending.outerStep !== m.outerStep) {
      log(`rejected an evaluation of θ version ${m.thetaVersion} from ${m.evaluatorId}: not a θ this learner published for evaluation`);
      return 'rejected';
    }
    const seeds = m.rows.map((r) => r.evalSeed).sort((a, b) => a - b);
    const expected = Array.from({ length: this.d.evalSeeds }, (_, i) => i);
    if (m.evalTask !== learner.taskName || JSON.stringify(seeds) !== JSON.stringify(expected)) {
      log(`rejected an evaluation of θ version ${m.thetaVersion} from ${m.evaluatorId}: task or seeds differ from the run's`);
      return 'rejected';
    }
    this.d.metrics.append(...m.rows.map((r) => ({
      outerStep: m.outerStep, thetaVersion: m.thetaVersion, evalTask: m.evalTask, evalSeed: r.evalSeed, evalLoss: r.evalLoss,
      ...(r.evalScore === undefined ? {} : { evalScore: r.evalScore }), evaluator: m.evaluatorId,
    })));
    const evaluation = summarizeEval(m.rows);
    const mean = evaluation.loss;
    this.evaluated.add(m.thetaVersion);
    await this.d.evals.forgetEval(m.thetaVersion);
    if (m.thetaVersion === 0) this.initialEval = mean;
    if (!this.lastEval || m.thetaVersion >= this.lastEval.version) this.lastEval = { version: m.thetaVersion, loss: mean };
    const best = learner.snap.best;
    if (beatsBest(best, evaluation)) {
      learner.snap.best = { theta: pending.theta.slice(), evalLoss: mean, evalScore: evaluation.score, outerStep: m.outerStep };
      this.d.saveBest(pending.theta.slice(), mean, m.outerStep);
    }
    await this.checkpoint();
    return 'recorded';
  }

  /** Writes the checkpoint (no θ files). */
  async saveState(): Promise<void> {
    this.d.saveCheckpoint({
      snap: await this.d.learner.snapshot(), applied: this.d.appliedIds(), metricsBytes: this.d.metrics.bytes(),
      evalThetas: this.d.evals.pendingEvals(), evaluated: [...this.evaluated], initialEvalLoss: this.initialEval, lastEvalLoss: this.lastEval,
    });
  }

  /** Writes the checkpoint and theta-latest. */
  async checkpoint(): Promise<void> {
    await this.saveState();
    this.d.saveLatest(this.lastEval?.loss ?? null);
  }
}
