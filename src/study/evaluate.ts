// The final evaluation: every optimizer of the study on the evaluation seeds, hand-designed ones at
// their best searched settings, learned ones with given (or shipped) weights or untrained; Adam and
// NAdamW also at 2x and 3x the steps (paper Fig. 1). Curves (loss and wall time per step) are stored.
import { canonicalJson, type ResultsDb, type RunRow } from './db.js';
import { handDesignedSpec, isHandDesigned, multipliedSpec, optimizerSpec, type OptimizerSpec } from './optimizer-spec.js';
import type { RunPool } from './pool.js';
import { makeJob, runRow, type RunJob } from './run-job.js';
import { isSearchable } from './search-space.js';
import type { PhaseOptions, PhaseResult } from './search.js';
import { evalSeeds } from './seeds.js';

/** Optimizers also evaluated at longer runs, and the multiples (labels `adam@2x`, …). */
export const MULTIPLIED_OPTIMIZERS = ['adam', 'nadamw'] as const;
export const STEP_MULTIPLIERS = [2, 3] as const;

export interface EvalPlanOptions {
  tasks: readonly string[];
  optimizers: readonly string[];
  steps: number;
  evalSeeds: number;
  /** Learned optimizer name → weights file (else shipped pretrained weights, else untrained). */
  weights?: Readonly<Record<string, string>>;
  /** Step multiples for Adam and NAdamW (default 2 and 3; [] for none). */
  multipliers?: readonly number[];
  taskOpts?: Record<string, unknown>;
}

export interface EvalEntry {
  task: string;
  spec: OptimizerSpec;
  stepMultiplier: number;
  steps: number;
}

export interface EvalPlan {
  entries: EvalEntry[];
  jobs: RunJob[];
  /** Hand-designed optimizers without a search result to evaluate at (one line each, why). */
  missing: string[];
}

/** The specs a task's evaluation runs: needs best_configs for the searched optimizers. */
export function evalSpecs(db: ResultsDb, task: string, options: EvalPlanOptions): { specs: OptimizerSpec[]; missing: string[] } {
  const specs: OptimizerSpec[] = [];
  const missing: string[] = [];
  for (const name of options.optimizers) {
    if (!isHandDesigned(name)) {
      specs.push(optimizerSpec(name, {}, options.weights?.[name]));
      continue;
    }
    if (!isSearchable(name)) {
      specs.push(handDesignedSpec(name));
      continue;
    }
    const best = db.bestConfig(task, name, options.steps);
    if (!best) {
      missing.push(`${task}/${name}: no best configuration for ${options.steps} steps (the search has not finished, or every configuration diverged)`);
      continue;
    }
    specs.push(handDesignedSpec(name, JSON.parse(best.hparams) as Record<string, unknown>));
  }
  return { specs, missing };
}

export function planEval(db: ResultsDb, options: EvalPlanOptions): EvalPlan {
  const seeds = evalSeeds(options.evalSeeds);
  const taskOpts = options.taskOpts ?? {};
  const multipliers = options.multipliers ?? STEP_MULTIPLIERS;
  const entries: EvalEntry[] = [];
  const missing: string[] = [];
  for (const task of options.tasks) {
    const found = evalSpecs(db, task, options);
    missing.push(...found.missing);
    for (const spec of found.specs) {
      entries.push({ task, spec, stepMultiplier: 1, steps: options.steps });
      if ((MULTIPLIED_OPTIMIZERS as readonly string[]).includes(spec.optimizer)) {
        for (const m of multipliers) entries.push({ task, spec: multipliedSpec(spec, m), stepMultiplier: m, steps: options.steps * m });
      }
    }
  }
  const jobs = entries.flatMap((entry) =>
    seeds.map((seed) =>
      makeJob({ purpose: 'eval', task: entry.task, taskOpts, spec: entry.spec, seed, steps: entry.steps, stepMultiplier: entry.stepMultiplier, curve: true }),
    ),
  );
  return { entries, jobs, missing };
}

/**
 * Evaluation runs the plan replaces: same task, options, label, steps and seed as a planned job, but
 * other settings (a search that found a better configuration with a larger budget, other weights).
 * Left in place they would be reported beside the current ones. feature_mlp_lopt runs are left alone:
 * variants of one label at different meta-training budgets coexist.
 */
export function supersededRuns(db: ResultsDb, jobs: readonly RunJob[]): RunRow[] {
  const planned = new Map<string, string>();
  const identity = (task: string, taskOpts: string, label: string, steps: number, seed: number) => JSON.stringify([task, taskOpts, label, steps, seed]);
  for (const job of jobs) {
    if (job.spec.optimizer === 'feature_mlp_lopt') continue;
    planned.set(identity(job.task, canonicalJson(job.taskOpts), job.spec.label, job.steps, job.seed), job.configKey);
  }
  return db.runs({ purpose: 'eval' }).filter((r) => {
    const key = planned.get(identity(r.task, r.task_opts, r.label, r.steps, r.seed));
    return key !== undefined && key !== r.config_key;
  });
}

/** Runs every pending evaluation job (resumable); each run and its curve in one transaction. */
export async function runEval(db: ResultsDb, pool: RunPool, jobs: readonly RunJob[], options: PhaseOptions): Promise<PhaseResult> {
  const finished = db.finishedKeys();
  // Longest runs first: the pool ends with short runs, so workers finish together.
  const pending = jobs.filter((job) => !finished.has(job.configKey)).sort((a, b) => b.steps - a.steps);
  let diverged = 0;
  const { completed, remaining } = await pool.runAll(pending, {
    shouldStop: options.shouldStop,
    onDone: (job, outcome) => {
      const { run, curve } = runRow(job, outcome, options.where);
      db.insertRun(run, curve);
      if (outcome.status === 'diverged') diverged++;
      options.onRun?.(job, outcome.status);
    },
  });
  return { ran: completed, diverged, remaining };
}
