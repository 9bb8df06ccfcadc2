// A whole meta-training run into a folder: the learner loop with metrics.jsonl, periodic evaluation,
// theta-latest / theta-best, checkpoints every K outer steps and when asked to stop, and exact resume.
import { existsSync, mkdirSync, readFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { hasCheckpoint, loadCheckpointWithForm, saveCheckpoint } from './checkpoint.js';
import { MetaLearner, summarizeEval, type EvalRow, type MetaTrainOptions, type MetricsRow } from './learner.js';
import { buildLopt } from './problem.js';
import { localExecutor } from './slots.js';
import { saveTheta, type ThetaProvenance } from './theta-file.js';
import { searchInitialTheta } from './init-search.js';
import { workerExecutor } from './workers.js';

export interface MetaRunOptions extends MetaTrainOptions {
  out: string;
  /** Continue from `out/checkpoint/` (its settings win, except outerSteps). */
  resume?: boolean;
  /** Checkpoint every K outer steps (default 10; 0: only at the end and when stopped). */
  checkpointEvery?: number;
  /** Worker threads running the task slots (≤ 1: this thread). Results do not depend on it. */
  workers?: number;
  /** One-line notices for the user (e.g. a resume from the compact checkpoint). */
  onNotice?: (message: string) => void;
  /** Called after every outer step and every evaluation. */
  onStep?: (row: MetricsRow) => void;
  onEval?: (rows: EvalRow[]) => void;
  /** Polled between outer steps: true → checkpoint and return early. */
  shouldStop?: () => boolean;
  /** Recorded in the θ files' provenance. */
  command?: string;
  /** A fresh run starts from the best initial θ of seeds seed … seed+count−1 (see init-search.ts). */
  initSearch?: { count: number; steps: number };
}

export interface MetaRunResult {
  outerSteps: number;
  /** Meta-loss of the last outer step (NaN when none ran). */
  metaLoss: number;
  /** Inner updates per second over this invocation's estimates (each PES copy counted). */
  innerStepsPerSec: number;
  totalInnerSteps: number;
  initialEvalLoss: number | null;
  bestEvalLoss: number | null;
  lastEvalLoss: number | null;
  weights: { latest: string; best: string | null };
  stopped: boolean;
}

export const METRICS_FILE = 'metrics.jsonl';
/** Every evaluation row and every THIN_EVERY-th step row: a log small enough to commit with a compact checkpoint. */
export const THIN_METRICS_FILE = 'metrics-thin.jsonl';
export const THIN_EVERY = 100;
export const HISTORY_DIR = 'history';
/** The init search's candidates and choice, when the run used one. */
export const INIT_SEARCH_FILE = 'init-search.json';

/** Where the θ evaluated at an outer step is kept: `history/theta-0000100`. */
export function historyFile(out: string, outerStep: number): string {
  return join(out, HISTORY_DIR, `theta-${String(outerStep).padStart(7, '0')}`);
}

/** Keeps the metrics rows a checkpoint at outer step n covers (rows written after it are redone). */
function trimMetrics(file: string, n: number): void {
  if (!existsSync(file)) return;
  const kept = readFileSync(file, 'utf8').split('\n').filter((line) => {
    if (!line.trim()) return false;
    const row = JSON.parse(line) as { outerStep: number; evalTask?: string };
    return row.evalTask !== undefined ? row.outerStep <= n : row.outerStep < n;
  });
  writeFileAtomic(file, kept.map((l) => `${l}\n`).join(''));
}

/** A resumed run keeps its checkpoint's settings: refuse flags that would silently change them. */
export function checkResumable(saved: Record<string, unknown>, given: Record<string, unknown>): void {
  for (const key of ['problem', 'estimator', 'numTasks', 'truncLength', 'innerSteps', 'std', 'metaLr', 'seed', 'metaBatch', 'schedule']) {
    if (given[key] === undefined) continue;
    const a = JSON.stringify(saved[key] ?? null);
    const b = JSON.stringify(given[key]);
    if (a !== b) throw new Error(`cannot resume: ${key} is ${b} but the checkpoint was made with ${a}`);
  }
}

/** Mean evaluation loss of the initial θ (the eval rows at outer step 0), if recorded. */
function initialEvalFrom(file: string): number | null {
  if (!existsSync(file)) return null;
  const losses = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { outerStep: number; evalLoss?: number })
    .filter((r) => r.evalLoss !== undefined && r.outerStep === 0).map((r) => r.evalLoss!);
  return losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : null;
}

export async function metaTrain(options: MetaRunOptions): Promise<MetaRunResult> {
  const { out, resume, checkpointEvery = 10, workers = 1, onStep, onEval, onNotice, shouldStop, command, initSearch, ...trainOptions } = options;
  mkdirSync(join(out, HISTORY_DIR), { recursive: true });
  const checkpointDir = join(out, 'checkpoint');
  const metricsFile = join(out, METRICS_FILE);
  const thinFile = join(out, THIN_METRICS_FILE);
  const factory = workers > 1 ? workerExecutor(workers) : localExecutor;
  let learner: MetaLearner;
  let initialLoaded: number | null = null;
  if (resume) {
    const { snap, compact } = loadCheckpointWithForm(checkpointDir);
    checkResumable(snap.options, trainOptions);
    snap.options.outerSteps = trainOptions.outerSteps;
    learner = await MetaLearner.fromSnapshot(snap, factory);
    if (compact) onNotice?.(`resuming ${out} at outer step ${snap.outerStep} from its compact checkpoint: the task slots start fresh inner runs`);
    trimMetrics(metricsFile, snap.outerStep);
    trimMetrics(thinFile, snap.outerStep);
    initialLoaded = initialEvalFrom(existsSync(metricsFile) ? metricsFile : thinFile);
  } else {
    if (hasCheckpoint(checkpointDir)) throw new Error(`${out} already holds a run: add --resume to continue it, or choose another --out`);
    if (initSearch && trainOptions.theta === undefined) {
      const found = searchInitialTheta(trainOptions.problem, trainOptions.seed, initSearch.count, initSearch.steps);
      writeFileAtomic(join(out, INIT_SEARCH_FILE), `${JSON.stringify({ ...initSearch, firstSeed: trainOptions.seed, chosenSeed: found.seed, losses: found.losses })}\n`);
      trainOptions.theta = found.theta;
    }
    learner = await MetaLearner.create(trainOptions, factory);
    writeFileAtomic(metricsFile, '');
    writeFileAtomic(thinFile, '');
  }
  const o = learner.options;
  const lopt = buildLopt(o.problem);
  const latestFile = join(out, 'theta-latest');
  const bestFile = join(out, 'theta-best');
  const provenance = (evalLoss: number | null): ThetaProvenance => ({
    task: learner.taskName, estimator: o.estimator,
    settings: { numTasks: o.numTasks, truncLength: o.truncLength, innerSteps: o.innerSteps, std: o.std, metaLr: o.metaLr, metaBatch: o.metaBatch, seed: o.seed },
    outerSteps: learner.outerStep, evalLoss, date: new Date().toISOString(), command,
  });
  const append = (rows: Array<{ outerStep: number; evalTask?: string }>) => {
    appendFileSync(metricsFile, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const thin = rows.filter((r) => r.evalTask !== undefined || r.outerStep % THIN_EVERY === 0);
    if (thin.length) appendFileSync(thinFile, thin.map((r) => `${JSON.stringify(r)}\n`).join(''));
  };
  let initialEvalLoss: number | null = initialLoaded;
  let lastEvalLoss: number | null = null;
  const evaluate = () => {
    const before = learner.snap.best;
    const rows = learner.evaluate();
    append(rows);
    onEval?.(rows);
    lastEvalLoss = summarizeEval(rows).loss;
    if (learner.outerStep === 0) initialEvalLoss = lastEvalLoss;
    if (learner.snap.best !== before) saveTheta(bestFile, lopt, learner.bestTheta()!, provenance(learner.bestEvalLoss()));
    // Every evaluated θ is kept (a few KB each) so checkpoints can be evaluated later on other tasks.
    saveTheta(historyFile(out, learner.outerStep), lopt, learner.theta(), provenance(lastEvalLoss));
  };
  const checkpoint = async () => {
    saveCheckpoint(checkpointDir, await learner.snapshot());
    saveTheta(latestFile, lopt, learner.theta(), provenance(lastEvalLoss));
  };

  let metaLoss = NaN;
  let innerSteps = 0;
  let seconds = 0;
  let stopped = false;
  try {
    if ((o.evalEvery ?? 0) > 0 && learner.outerStep === 0 && learner.bestEvalLoss() === null) evaluate();
    while (learner.outerStep < o.outerSteps) {
      // Let signal handlers run between outer steps.
      await new Promise((resolve) => setImmediate(resolve));
      if (shouldStop?.()) { stopped = true; break; }
      const row = await learner.step();
      seconds += row.innerSteps / Math.max(row.innerStepsPerSec, 1e-12);
      innerSteps += row.innerSteps;
      metaLoss = row.metaLoss;
      append([row]);
      onStep?.(row);
      if (learner.evalDue()) evaluate();
      if (checkpointEvery > 0 && learner.outerStep % checkpointEvery === 0) await checkpoint();
    }
    await checkpoint();
  } finally {
    await learner.close();
  }
  return {
    outerSteps: learner.outerStep, metaLoss,
    innerStepsPerSec: seconds > 0 ? innerSteps / seconds : 0, totalInnerSteps: learner.snap.totalInnerSteps,
    initialEvalLoss, bestEvalLoss: learner.bestEvalLoss(), lastEvalLoss,
    weights: { latest: latestFile, best: existsSync(bestFile) ? bestFile : null }, stopped,
  };
}
