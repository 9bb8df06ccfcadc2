// Fig. 2 and Fig. 3 points: each feature_mlp_lopt variant (a feature set, or a hidden width) is
// meta-trained with PES for a fixed wall-clock budget (--meta-budget-minutes), then evaluated on the
// evaluation seeds, timed against SGD and sized, and written as a `variants` row.
//
// A variant whose meta-training was interrupted is meta-trained again from the start (its budget is
// wall-clock time, which a partial run cannot be credited with exactly); a finished one leaves
// `study-variant.json` in its run folder, so an interrupted evaluation resumes without retraining.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { keyFromSeed } from '../engine/random.js';
import { countParams } from '../engine/tensor.js';
import { FEATURE_SET_NAMES } from '../learned/features.js';
import { metaTrain } from '../meta/run.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { ResultsDb, VariantSweep } from './db.js';
import { measureOverhead, type TimingSettings } from './overhead.js';
import { buildOptimizer, learnedSpec } from './optimizer-spec.js';
import type { RunPool } from './pool.js';
import { makeJob, runRow, type TaskCache } from './run-job.js';
import { evalSeeds } from './seeds.js';

export interface VariantSpec {
  sweep: VariantSweep;
  features: string;
  hidden: number;
}

/** Defaults of the swept-out axis: the feature sweep at width 4, the width sweep with small_fc_lopt's features. */
export const VARIANT_DEFAULTS = { hidden: 4, features: 'small_fc_lopt' } as const;

/**
 * Parses `features=adafact,m_0.9,...|hidden=2,4,8,...`: each `|`-separated part is one sweep, either
 * feature sets (at hidden 4) or hidden widths (with small_fc_lopt's features).
 */
export function parseVariants(text: string): VariantSpec[] {
  const out: VariantSpec[] = [];
  for (const part of text.split('|').map((p) => p.trim()).filter((p) => p !== '')) {
    const match = /^(features|hidden)=(.+)$/.exec(part);
    if (!match) throw new Error(`--variants part "${part}" must be features=NAME,NAME,... or hidden=N,N,...`);
    const values = match[2].split(',').map((v) => v.trim()).filter((v) => v !== '');
    if (values.length === 0) throw new Error(`--variants part "${part}" lists no values`);
    for (const value of values) {
      if (match[1] === 'features') {
        if (!(FEATURE_SET_NAMES as readonly string[]).includes(value)) {
          throw new Error(`unknown feature set "${value}" in --variants; valid: ${FEATURE_SET_NAMES.join(', ')}`);
        }
        out.push({ sweep: 'features', features: value, hidden: VARIANT_DEFAULTS.hidden });
      } else {
        const hidden = Number(value);
        if (!Number.isInteger(hidden) || hidden < 1) throw new Error(`--variants hidden width must be a positive integer, got "${value}"`);
        out.push({ sweep: 'width', features: VARIANT_DEFAULTS.features, hidden });
      }
    }
  }
  if (out.length === 0) throw new Error('--variants names no variant; e.g. --variants "features=adafact,m_0.9|hidden=2,4,8"');
  return out;
}

export function variantDirName(v: VariantSpec, task: string, minutes: number): string {
  return `${v.sweep}-${v.features}-h${v.hidden}-${task}-${minutes}min`;
}

export interface VariantRunOptions {
  task: string;
  metaBudgetMinutes: number;
  /** Inner steps of meta-training runs and of the evaluation runs. */
  steps: number;
  evalSeeds: number;
  /** Folder holding one meta-training run folder per variant. */
  runsDir: string;
  /** Worker threads of meta-training. */
  workers: number;
  metaLr: number;
  metaSeed: number;
  numTasks: number;
  truncLength: number;
  dataDir?: string;
  timing: TimingSettings;
  where: { backend: string; machine: string };
  shouldStop?: () => boolean;
  onStatus?: (line: string) => void;
}

interface Marker {
  outerSteps: number;
  weights: string;
  metaBudgetMinutes: number;
}

export async function runVariants(db: ResultsDb, pool: RunPool, tasks: TaskCache, variants: readonly VariantSpec[], options: VariantRunOptions): Promise<{ done: number; remaining: number }> {
  let done = 0;
  const stop = () => options.shouldStop?.() ?? false;
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i];
    const minutes = options.metaBudgetMinutes;
    if (db.hasVariant(v.sweep, v.features, v.hidden, options.task, minutes)) continue;
    if (stop()) return { done, remaining: variants.length - i };
    const runDir = resolvePath(options.runsDir, variantDirName(v, options.task, minutes));
    const markerFile = join(runDir, 'study-variant.json');
    let marker: Marker;
    if (existsSync(markerFile)) {
      marker = JSON.parse(readFileSync(markerFile, 'utf8')) as Marker;
    } else {
      if (existsSync(runDir)) rmSync(runDir, { recursive: true, force: true });
      options.onStatus?.(`meta-training feature_mlp_lopt[features=${v.features},hidden=${v.hidden}] on ${options.task} for ${minutes} min`);
      const deadline = Date.now() + minutes * 60_000;
      const result = await metaTrain({
        out: runDir, workers: options.workers, checkpointEvery: 0,
        problem: { lopt: 'feature_mlp_lopt', loptOptions: { features: v.features, hidden: v.hidden }, task: options.task, taskOptions: options.dataDir ? { dataDir: options.dataDir } : {} },
        estimator: 'pes', numTasks: options.numTasks, truncLength: options.truncLength, innerSteps: options.steps,
        std: 0.01, metaLr: options.metaLr, outerSteps: 1_000_000, seed: options.metaSeed, evalEvery: 0,
        command: `lopt study --variants (${v.sweep}: features=${v.features}, hidden=${v.hidden}) --meta-budget-minutes ${minutes}`,
        shouldStop: () => Date.now() >= deadline || stop(),
      });
      if (Date.now() < deadline) return { done, remaining: variants.length - i }; // stopped by the study, not the budget
      marker = { outerSteps: result.outerSteps, weights: result.weights.latest, metaBudgetMinutes: minutes };
      writeFileAtomic(markerFile, `${JSON.stringify(marker)}\n`);
    }

    const spec = learnedSpec('feature_mlp_lopt', { features: v.features, hidden: v.hidden }, marker.weights);
    const jobs = evalSeeds(options.evalSeeds).map((seed) =>
      makeJob({ purpose: 'eval', task: options.task, taskOpts: {}, spec, seed, steps: options.steps, stepMultiplier: 1, curve: true }),
    );
    const finished = db.finishedKeys();
    const { remaining } = await pool.runAll(jobs.filter((j) => !finished.has(j.configKey)), {
      shouldStop: stop,
      onDone: (job, outcome) => {
        const { run, curve } = runRow(job, outcome, options.where);
        db.insertRun(run, curve);
      },
    });
    if (remaining > 0) return { done, remaining: variants.length - i };

    const runs = jobs.map((j) => db.runByKey(j.configKey)!);
    const meanLoss = runs.some((r) => r.status !== 'done')
      ? null
      : runs.reduce((a, r) => a + (r.mean_loss as number), 0) / runs.length;
    const task = tasks.get(options.task, {});
    const optimizer = buildOptimizer(spec, tasks.backend);
    const timing = measureOverhead(task, optimizer, tasks.backend, options.timing);
    const params = task.init(keyFromSeed(0));
    db.upsertVariant({
      sweep: v.sweep, features: v.features, hidden: v.hidden, task: options.task, meta_budget_minutes: minutes,
      outer_steps: marker.outerSteps, run_dir: runDir, weights: marker.weights, mean_loss: meanLoss, seeds: runs.length,
      ms_per_step: timing.msPerStep, overhead: timing.overhead,
      state_bytes_per_param: optimizer.stateBytes(params) / countParams(params), finished_at: new Date().toISOString(),
    });
    done++;
    options.onStatus?.(`variant ${spec.label}: ${marker.outerSteps} outer steps, mean loss ${meanLoss === null ? 'diverged' : meanLoss.toFixed(4)}`);
  }
  return { done, remaining: 0 };
}
