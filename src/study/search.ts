// The baseline search: every configuration of each hand-designed optimizer's search space on every
// search seed (runs spread over the worker pool, each recorded as it finishes), then the best
// configuration per (task, optimizer, steps) by mean over search seeds of mean raw training loss.
import { canonicalJson, type BestConfigRow, type ResultsDb } from './db.js';
import { handDesignedSpec, type OptimizerSpec } from './optimizer-spec.js';
import type { RunPool } from './pool.js';
import { makeJob, runRow, type RunJob } from './run-job.js';
import { isSearchable, searchConfigs, type SearchSpaceOptions } from './search-space.js';
import { searchSeeds } from './seeds.js';

export interface SearchGroup {
  task: string;
  taskOpts: Record<string, unknown>;
  optimizer: string;
  steps: number;
  seeds: number[];
  configs: OptimizerSpec[];
  /** configs × seeds, config-major (all seeds of configuration 0 first). */
  jobs: RunJob[];
}

export interface SearchPlanOptions extends SearchSpaceOptions {
  tasks: readonly string[];
  /** Optimizers of the study; only the searchable ones (sgd, sgdm, adam, nadamw) get a group. */
  optimizers: readonly string[];
  steps: number;
  /** Configurations per (task, optimizer): the grid takes min(budget, its size). */
  budget: (task: string, optimizer: string) => number;
  searchSeeds: number;
  taskOpts?: Record<string, unknown>;
}

export function planSearch(options: SearchPlanOptions): SearchGroup[] {
  const seeds = searchSeeds(options.searchSeeds);
  const taskOpts = options.taskOpts ?? {};
  const groups: SearchGroup[] = [];
  for (const task of options.tasks) {
    for (const optimizer of options.optimizers) {
      if (!isSearchable(optimizer)) continue;
      const configs = searchConfigs(optimizer, options.budget(task, optimizer), options).map((h) => handDesignedSpec(optimizer, h));
      const jobs: RunJob[] = [];
      for (const spec of configs) {
        for (const seed of seeds) {
          jobs.push(makeJob({ purpose: 'search', task, taskOpts, spec, seed, steps: options.steps, stepMultiplier: 1, curve: false }));
        }
      }
      groups.push({ task, taskOpts, optimizer, steps: options.steps, seeds, configs, jobs });
    }
  }
  return groups;
}

/** One configuration's search results: mean loss per seed, null where the run diverged. */
export interface ConfigResult {
  hparams: Record<string, unknown>;
  losses: (number | null)[];
}

export interface Selection {
  best: { hparams: Record<string, unknown>; meanLoss: number } | null;
  tried: number;
  diverged: number;
}

/**
 * The best configuration: lowest mean over seeds of mean loss among configurations that diverged on
 * no seed (a diverged seed disqualifies the configuration and counts it as diverged). Ties keep the
 * earlier configuration (LO's list order, the grid's order).
 */
export function chooseBest(results: readonly ConfigResult[]): Selection {
  let best: Selection['best'] = null;
  let diverged = 0;
  for (const result of results) {
    if (result.losses.length === 0) throw new Error('a configuration without results cannot be compared');
    if (result.losses.some((loss) => loss === null || !Number.isFinite(loss))) {
      diverged++;
      continue;
    }
    const mean = (result.losses as number[]).reduce((a, b) => a + b, 0) / result.losses.length;
    if (best === null || mean < best.meanLoss) best = { hparams: result.hparams, meanLoss: mean };
  }
  return { best, tried: results.length, diverged };
}

export interface GroupStatus {
  complete: boolean;
  finishedRuns: number;
  selection: Selection;
}

/** How far a group got in the database; the selection covers configurations finished on every seed. */
export function groupStatus(db: ResultsDb, group: SearchGroup): GroupStatus {
  const results: ConfigResult[] = [];
  let finishedRuns = 0;
  let complete = true;
  const perConfig = group.seeds.length;
  for (let c = 0; c < group.configs.length; c++) {
    const losses: (number | null)[] = [];
    for (const job of group.jobs.slice(c * perConfig, (c + 1) * perConfig)) {
      const row = db.runByKey(job.configKey);
      if (!row) continue;
      finishedRuns++;
      losses.push(row.status === 'done' ? row.mean_loss : null);
    }
    if (losses.length === perConfig) results.push({ hparams: group.configs[c].hparams, losses });
    else complete = false;
  }
  return { complete, finishedRuns, selection: chooseBest(results) };
}

/**
 * Writes best_configs for a complete group. Returns the row, or null when every configuration
 * diverged (nothing to evaluate) or the group is incomplete.
 */
export function recordBest(db: ResultsDb, group: SearchGroup): BestConfigRow | null {
  const status = groupStatus(db, group);
  if (!status.complete || status.selection.best === null) return null;
  const row: BestConfigRow = {
    task: group.task,
    optimizer: group.optimizer,
    steps: group.steps,
    hparams: canonicalJson(status.selection.best.hparams),
    mean_loss: status.selection.best.meanLoss,
    configs_tried: status.selection.tried,
    configs_diverged: status.selection.diverged,
  };
  db.upsertBestConfig(row);
  return row;
}

/** The jobs of `groups` that the database does not hold yet. */
export function pendingJobs(db: ResultsDb, groups: readonly SearchGroup[]): RunJob[] {
  const finished = db.finishedKeys();
  return groups.flatMap((g) => g.jobs).filter((job) => !finished.has(job.configKey));
}

export interface PhaseOptions {
  where: { backend: string; machine: string };
  shouldStop?: () => boolean;
  /** Called after each recorded run. */
  onRun?: (job: RunJob, status: 'done' | 'diverged') => void;
}

export interface PhaseResult {
  ran: number;
  diverged: number;
  remaining: number;
}

/** Runs every pending search job (resumable), records each, then best_configs for complete groups. */
export async function runSearch(db: ResultsDb, pool: RunPool, groups: readonly SearchGroup[], options: PhaseOptions): Promise<PhaseResult & { best: BestConfigRow[] }> {
  const jobs = pendingJobs(db, groups);
  let diverged = 0;
  const { completed, remaining } = await pool.runAll(jobs, {
    shouldStop: options.shouldStop,
    onDone: (job, outcome) => {
      const { run } = runRow(job, outcome, options.where);
      db.insertRun(run);
      if (outcome.status === 'diverged') diverged++;
      options.onRun?.(job, outcome.status);
    },
  });
  const best: BestConfigRow[] = [];
  for (const group of groups) {
    const row = recordBest(db, group);
    if (row) best.push(row);
  }
  return { ran: completed, diverged, remaining, best };
}
