// Meta-generalization: evaluates the θ a meta-training run kept in `history/` on other tasks (one
// full inner run per θ, task and seed), appending rows to the run's `metagen.jsonl`; resumable.
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../engine/backend.js';
import { foldIn, keyFromSeed } from '../engine/random.js';
import { learned } from '../learned/registry.js';
import { loadWeights, thetaFor } from '../learned/weights.js';
import { getTask } from '../tasks/registry.js';
import { HISTORY_DIR } from './run.js';
import { train } from '../training/train.js';

export const METAGEN_FILE = 'metagen.jsonl';

/** One meta-generalization measurement: θ of `outerStep` trained `evalTask` for `steps` steps. */
export interface MetaGenRow {
  outerStep: number;
  evalTask: string;
  evalSeed: number;
  steps: number;
  /** Mean raw training loss over the run (null when it diverged). */
  evalLoss: number | null;
  seconds: number;
}

export interface MetaEvalOptions {
  runDir: string;
  tasks: string[];
  /** Evaluate the kept θ of outer steps that are multiples of this (default: every kept θ). */
  every?: number;
  /** Evaluation seeds per θ and task (default 1). */
  seeds?: number;
  /** Inner steps per evaluation run (default 2,000). */
  steps?: number;
  backend?: Backend;
  dataDir?: string;
  /** Called after each new row (for progress). */
  onRow?: (row: MetaGenRow, done: number, total: number) => void;
}

/** The kept θ files of a run, by outer step. */
export function historyEntries(runDir: string): { outerStep: number; file: string }[] {
  const dir = join(runDir, HISTORY_DIR);
  if (!existsSync(dir)) throw new Error(`${runDir} has no ${HISTORY_DIR}/ folder: it is not a meta-training run folder (lopt meta-train --out DIR keeps θ there at every evaluation)`);
  return readdirSync(dir)
    .map((name) => /^theta-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ outerStep: Number(m[1]), file: join(dir, m[0]) }))
    .sort((a, b) => a.outerStep - b.outerStep);
}

export function readMetaGenRows(runDir: string): MetaGenRow[] {
  const file = join(runDir, METAGEN_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as MetaGenRow);
}

/**
 * Evaluation seeds here form their own namespace (fold 0x3e7a of the seed), apart from the search,
 * final-evaluation and meta-training seeds.
 */
export function metaGenKey(seed: number) {
  return foldIn(keyFromSeed(seed), 0x3e7a);
}

/** Runs every missing (θ, task, seed) evaluation and returns all rows of the run folder. */
export function metaEvaluate(options: MetaEvalOptions): MetaGenRow[] {
  const { runDir, tasks, every = 1, seeds = 1, steps = 2000, backend, dataDir, onRow } = options;
  const done = new Set(readMetaGenRows(runDir).map((r) => `${r.outerStep}/${r.evalTask}/${r.evalSeed}/${r.steps}`));
  const entries = historyEntries(runDir).filter((e) => e.outerStep % every === 0);
  const todo: { outerStep: number; file: string; task: string; seed: number }[] = [];
  for (const e of entries) {
    for (const task of tasks) {
      for (let seed = 0; seed < seeds; seed++) {
        if (!done.has(`${e.outerStep}/${task}/${seed}/${steps}`)) todo.push({ ...e, task, seed });
      }
    }
  }
  let count = 0;
  for (const job of todo) {
    const weights = loadWeights(job.file);
    const lo = learned.get(weights.optimizer, weights.options, { backend });
    const theta = thetaFor(lo, weights, job.file);
    const started = performance.now();
    const result = train({ task: getTask(job.task, { backend, dataDir }), optimizer: lo.optFn(theta), steps, key: metaGenKey(job.seed) });
    const evalLoss = Number.isFinite(result.meanLoss) ? result.meanLoss : null;
    const row: MetaGenRow = { outerStep: job.outerStep, evalTask: job.task, evalSeed: job.seed, steps, evalLoss, seconds: (performance.now() - started) / 1000 };
    // One whole line per append: an interrupted evaluation loses at most the run in progress.
    appendFileSync(join(runDir, METAGEN_FILE), `${JSON.stringify(row)}\n`);
    onRow?.(row, ++count, todo.length);
  }
  return readMetaGenRows(runDir);
}
