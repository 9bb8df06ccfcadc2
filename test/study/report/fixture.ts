// A small results database and a meta-training run folder filled from real, short runs: the report
// tests render the report from them. Every number is measured here, none is typed in.
import { cpus } from 'node:os';
import { join } from 'node:path';
import { configKey, ResultsDb, type CurvePoint, type NewRun } from '../../../src/study/db.js';
import { getBackend } from '../../../src/engine/select.js';
import { countParams } from '../../../src/engine/tensor.js';
import { keyFromSeed } from '../../../src/engine/random.js';
import { getOptimizer } from '../../../src/optimizers/registry.js';
import type { Optimizer } from '../../../src/optimizers/optimizer.js';
import { learned } from '../../../src/learned/registry.js';
import { getTask } from '../../../src/tasks/registry.js';
import { train, type TrainResult } from '../../../src/training/train.js';
import { metaTrain } from '../../../src/meta/run.js';
import { metaEvaluate } from '../../../src/meta/meta-eval.js';

export const TASK = 'fmnist-mlp';
export const STEPS = 60;
export const EVAL_SEEDS = [1000, 1001];
const MACHINE = JSON.stringify({ cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length });

interface Config {
  label: string;
  optimizer: string;
  hparams: Record<string, unknown>;
  trained: boolean;
  multiplier: number;
  make: (seed: number) => Optimizer<any>;
  weights: (seed: number) => string | null;
}

const hand = (name: string, hparams: Record<string, unknown>, multiplier = 1, label = name): Config => ({
  label, optimizer: name, hparams, trained: true, multiplier, make: () => getOptimizer(name, hparams), weights: () => null,
});

/** An untrained learned optimizer: θ drawn from the run's seed, so it stays off the frontier. */
const untrained = (name: string, options: Record<string, unknown> = {}): Config => ({
  label: name, optimizer: name, hparams: options, trained: false, multiplier: 1,
  make: (seed) => { const lo = learned.get(name, options); return lo.optFn(lo.init(keyFromSeed(seed))); },
  weights: (seed) => `untrained:${seed}`,
});

export const EVAL_CONFIGS: Config[] = [
  hand('sgd', { learningRate: 0.1 }),
  hand('adam', { learningRate: 1e-3 }),
  hand('adam', { learningRate: 1e-3 }, 2, 'adam@2x'),
  untrained('small_fc_lopt'),
];

/** One real run with its per-step curve (wall time since the start of the run). */
function run(taskOpts: Record<string, unknown>, optimizer: Optimizer<any>, steps: number, seed: number): { result: TrainResult; curve: CurvePoint[]; seconds: number } {
  const task = getTask(TASK, taskOpts);
  task.datasets; // load the data outside the timed run
  const curve: CurvePoint[] = [];
  const started = performance.now();
  const result = train({ task, optimizer, steps, seed, onStep: (step, loss) => curve.push({ step, loss, wall_seconds: (performance.now() - started) / 1000 }) });
  return { result, curve, seconds: (performance.now() - started) / 1000 };
}

function runRow(purpose: 'search' | 'eval', c: Config, seed: number, steps: number, result: TrainResult, seconds: number): NewRun {
  const weights = c.weights(seed);
  const diverged = !Number.isFinite(result.meanLoss);
  return {
    purpose, config_key: configKey({ purpose, task: TASK, taskOpts: {}, optimizer: c.optimizer, hparams: c.hparams, weights, seed, steps }),
    task: TASK, task_opts: '{}', optimizer: c.optimizer, label: c.label, hparams: JSON.stringify(c.hparams), weights,
    trained: c.trained ? 1 : 0, step_multiplier: c.multiplier, seed, steps, status: diverged ? 'diverged' : 'done',
    mean_loss: diverged ? null : result.meanLoss, final_loss: diverged ? null : result.finalLoss, wall_seconds: seconds,
    ms_per_step: result.msPerStep, backend: getBackend().name, machine: MACHINE, finished_at: new Date().toISOString(),
  };
}

/** Median ms per step of an optimizer and of SGD, alternating short runs of each (as the study measures). */
function timing(taskOpts: Record<string, unknown>, make: () => Optimizer<any>, steps = 8): { ms: number; sgdMs: number } {
  const ms: number[] = [];
  const sgdMs: number[] = [];
  for (let r = 0; r < 2; r++) {
    ms.push(run(taskOpts, make(), steps, 0).result.msPerStep);
    sgdMs.push(run(taskOpts, getOptimizer('sgd', { learningRate: 0.1 }), steps, 0).result.msPerStep);
  }
  const med = (x: number[]) => x.sort((a, b) => a - b)[x.length >> 1];
  return { ms: med(ms), sgdMs: med(sgdMs) };
}

export interface Fixture {
  dbPath: string;
  runDir: string;
  /** Eval-run mean losses per label, as measured (to check the report's numbers against). */
  evalLosses: Map<string, number[]>;
}

/** Fills `dir/results.db` and `dir/meta-run/` from real runs (a few seconds). */
export async function buildFixture(dir: string): Promise<Fixture> {
  const dbPath = join(dir, 'results.db');
  const db = new ResultsDb(dbPath);
  const evalLosses = new Map<string, number[]>();
  const backend = getBackend().name;
  const now = () => new Date().toISOString();
  try {
    // Evaluation runs with curves.
    for (const c of EVAL_CONFIGS) {
      for (const seed of EVAL_SEEDS) {
        const steps = STEPS * c.multiplier;
        const { result, curve, seconds } = run({}, c.make(seed), steps, seed);
        db.insertRun(runRow('eval', c, seed, steps, result, seconds), curve);
        if (Number.isFinite(result.meanLoss)) evalLosses.set(c.label, [...(evalLosses.get(c.label) ?? []), result.meanLoss]);
      }
    }
    // A two-point learning-rate search for SGD on a search seed; lr 1e3 diverges (a failure, shown as such).
    const tried = [0.1, 1e3].map((lr) => {
      const c = hand('sgd', { learningRate: lr });
      const { result, seconds } = run({}, c.make(2000), 20, 2000);
      db.insertRun(runRow('search', c, 2000, 20, result, seconds));
      return { lr, loss: result.meanLoss };
    });
    const ok = tried.filter((t) => Number.isFinite(t.loss)).sort((a, b) => a.loss - b.loss);
    db.upsertBestConfig({
      task: TASK, optimizer: 'sgd', steps: 20, hparams: JSON.stringify({ learningRate: ok[0].lr }), mean_loss: ok[0].loss,
      configs_tried: tried.length, configs_diverged: tried.length - ok.length,
    });
    // Timings at the default options (Fig. 1) and sweeps over batch size and width (Fig. 4).
    const timed: { label: string; optimizer: string; make: () => Optimizer<any> }[] = [
      { label: 'sgd', optimizer: 'sgd', make: () => getOptimizer('sgd', { learningRate: 0.1 }) },
      { label: 'adam', optimizer: 'adam', make: () => getOptimizer('adam', { learningRate: 1e-3 }) },
      { label: 'small_fc_lopt', optimizer: 'small_fc_lopt', make: () => EVAL_CONFIGS[3].make(0) },
    ];
    const sweeps: { opts: Record<string, unknown>; batch: number; width: number }[] = [
      { opts: {}, batch: 128, width: 128 },
      { opts: { batchSize: 32 }, batch: 32, width: 128 },
      { opts: { batchSize: 512 }, batch: 512, width: 128 },
      { opts: { width: 32 }, batch: 128, width: 32 },
    ];
    for (const s of sweeps) {
      for (const t of timed) {
        if (t.label === 'sgd' && Object.keys(s.opts).length > 0) continue;
        const { ms, sgdMs } = timing(s.opts, t.make);
        db.upsertTiming({
          task: TASK, task_opts: JSON.stringify(s.opts), optimizer: t.optimizer, label: t.label, batch_size: s.batch, width: s.width,
          ms_per_step: ms, sgd_ms_per_step: sgdMs, overhead: ms / sgdMs, repeats: 2, backend, machine: MACHINE, measured_at: now(),
        });
      }
    }
    // Memory: exact optimizer-state bytes; the RSS figures are this process's (the study measures each run in its own process).
    const params = getTask(TASK).init(keyFromSeed(0));
    const paramCount = countParams(params);
    const rss = process.memoryUsage().rss;
    for (const t of timed) {
      const stateBytes = t.make().stateBytes(params);
      db.upsertMemory({
        task: TASK, optimizer: t.optimizer, label: t.label, param_count: paramCount, state_bytes: stateBytes,
        state_bytes_per_param: stateBytes / paramCount, peak_rss_bytes: rss, sgd_peak_rss_bytes: rss, peak_rss_ratio: 1,
        engine_bytes: 4 * 2 * paramCount + stateBytes, backend, machine: MACHINE, measured_at: now(),
      });
    }
    // Variants (Figs. 2 and 3), here with a zero meta-training budget: untrained θ, evaluated for real.
    const variants: { sweep: 'features' | 'width'; features: string; hidden: number }[] = [
      { sweep: 'features', features: 'm_0.9', hidden: 4 },
      { sweep: 'features', features: 'adafact', hidden: 4 },
      { sweep: 'width', features: 'small_fc_lopt', hidden: 2 },
      { sweep: 'width', features: 'small_fc_lopt', hidden: 8 },
    ];
    for (const v of variants) {
      const lo = learned.get('feature_mlp_lopt', { features: v.features, hidden: v.hidden });
      const make = () => lo.optFn(lo.init(keyFromSeed(1000)));
      const { result } = run({}, make(), 30, 1000);
      const { ms, sgdMs } = timing({}, make);
      db.upsertVariant({
        sweep: v.sweep, features: v.features, hidden: v.hidden, task: TASK, meta_budget_minutes: 0, outer_steps: 0,
        run_dir: join(dir, 'variants', `${v.features}-${v.hidden}`), weights: 'untrained:1000',
        mean_loss: Number.isFinite(result.meanLoss) ? result.meanLoss : null, seeds: 1, ms_per_step: ms, overhead: ms / sgdMs,
        state_bytes_per_param: make().stateBytes(params) / paramCount, finished_at: now(),
      });
    }
  } finally {
    db.close();
  }
  // A real meta-training run on a quadratic, its θ then evaluated on other tasks (meta-generalization).
  const runDir = join(dir, 'meta-run');
  await metaTrain({
    out: runDir, problem: { lopt: 'small_fc_lopt', task: 'quadratic', taskOptions: {} },
    estimator: 'pes', numTasks: 4, truncLength: 5, innerSteps: 12, std: 0.01, metaLr: 3e-3,
    outerSteps: 12, seed: 5, metaBatch: 1, evalEvery: 3, evalSeeds: 1, checkpointEvery: 6, metaLossAfterUpdate: false,
  });
  metaEvaluate({ runDir, tasks: ['quadratic', 'log-quadratic', 'sum-quadratic'], steps: 12 });
  return { dbPath, runDir, evalLosses };
}
