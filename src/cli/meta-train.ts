// `lopt meta-train`: meta-trains a learned optimizer with PES, truncated ES or full ES on a task or a
// task family, on all local cores, with checkpoints and exact resume.
import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { parseBackendChoice } from '../engine/select.js';
import { metaTrain, type MetaRunResult } from '../meta/run.js';
import type { MetaLrSchedule } from '../meta/learner.js';
import type { EstimatorKind } from '../meta/unroll.js';
import { reportFatal, UsageError } from './errors.js';
import { finiteNumber, keyValue, nonNegativeInt, positiveInt } from './parse.js';

interface MetaTrainFlags {
  lopt: string;
  task?: string;
  family?: string;
  estimator: string;
  numTasks: number;
  truncLength: number;
  innerSteps: number;
  minInnerSteps?: number;
  std: number;
  metaLr: number;
  metaLrSchedule: string;
  outerSteps: number;
  seed: number;
  out: string;
  resume?: boolean;
  workers?: number;
  metaBatch: number;
  evalEvery: number;
  evalSeeds: number;
  checkpointEvery: number;
  lossAfterUpdate?: boolean;
  initSearch?: number;
  initSearchSteps: number;
  maxMinutes?: number;
  hparam: Record<string, number | boolean | string>;
  taskOpt: Record<string, number | boolean | string>;
  backend?: string;
  dataDir?: string;
  json?: boolean;
}

export function metaTrainCommand(): Command {
  return new Command('meta-train')
    .description('meta-train a learned optimizer (PES, truncated ES or full ES) on a task or task family')
    .requiredOption('--lopt <name>', 'learned optimizer (small_fc_lopt, fc_lopt, …, learnable_lr_sgd)')
    .option('--task <name>', 'task to meta-train on')
    .option('--family <name>', 'task family to meta-train on (a new draw for every inner run)')
    .option('--estimator <kind>', 'pes, tes (truncated ES) or fes (full ES)', 'pes')
    .option('--num-tasks <n>', 'task slots per estimate', positiveInt, 8)
    .option('--trunc-length <k>', 'inner steps per truncation', positiveInt, 20)
    .option('--inner-steps <t>', 'length of one inner run', positiveInt, 2000)
    .option('--min-inner-steps <n>', 'log-uniform run lengths in [n, --inner-steps] instead of a constant length', positiveInt)
    .option('--std <sigma>', 'standard deviation of the perturbations', finiteNumber, 0.01)
    .option('--meta-lr <eta>', 'Adam learning rate on θ', finiteNumber, 1e-4)
    .option('--meta-lr-schedule <name>', 'constant, cosine or warmup-cosine', 'constant')
    .option('--outer-steps <m>', 'outer (θ) updates', positiveInt, 1000)
    .option('--seed <s>', 'random seed', nonNegativeInt, 0)
    .requiredOption('--out <dir>', 'run folder: theta-latest, theta-best, metrics.jsonl, checkpoint/')
    .option('--resume', 'continue the run in --out from its checkpoint')
    .option('--init-search <n>', 'start from the best initial θ of seeds S … S+N−1 (judged by a short inner run); written to DIR/init-search.json', positiveInt)
    .option('--init-search-steps <n>', 'inner steps of each init-search run', positiveInt, 300)
    .option('--max-minutes <m>', 'stop (checkpointed, exit 0) after M minutes of this invocation; continue with --resume', finiteNumber)
    .option('--workers <w>', 'worker threads (default: all cores; 1: this thread)', positiveInt)
    .option('--meta-batch <b>', 'estimates averaged per update', positiveInt, 1)
    .option('--eval-every <e>', 'evaluate θ by full inner runs every E outer steps (0: never)', nonNegativeInt, 50)
    .option('--eval-seeds <n>', 'evaluation runs (reserved seeds) per evaluation', positiveInt, 2)
    .option('--checkpoint-every <k>', 'checkpoint every K outer steps (0: only at the end)', nonNegativeInt, 10)
    .option('--loss-after-update', 'meta-loss: loss after the update on a fresh batch')
    .option('--hparam <key=value>', 'learned-optimizer option (repeatable)', keyValue, {})
    .option('--task-opt <key=value>', 'task knob (repeatable)', keyValue, {})
    .option('--backend <name>', 'native, reference or auto (default: $LOPT_BACKEND or auto)')
    .option('--data-dir <dir>', 'data root (default: $LOPT_DATA_DIR or ~/.cache/lopt/data)')
    .option('--json', 'print one JSON summary object as the last stdout line')
    .action((flags: MetaTrainFlags & { verbose?: boolean }) => {
      // The program parses synchronously: report this command's asynchronous failures here.
      runMetaTrain(flags).catch((error: unknown) => reportFatal(error, flags.verbose ?? process.argv.includes('--verbose')));
    });
}

function makeProgress(total: number, start: number, label: string) {
  if (!process.stderr.isTTY) return { update(_done: number, _loss: number, _rate: number) {}, stop() {} };
  const bar = new cliProgress.SingleBar({
    stream: process.stderr, hideCursor: true, fps: 5,
    format: `${label} [{bar}] {value}/{total} outer steps | meta-loss {loss} | {rate} inner steps/s | eta {eta_formatted}`,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, start, { loss: '-', rate: '-' });
  return {
    update(done: number, loss: number, rate: number) { bar.update(done, { loss: loss.toFixed(4), rate: rate.toFixed(0) }); },
    stop() { bar.stop(); },
  };
}

async function runMetaTrain(flags: MetaTrainFlags): Promise<void> {
  if ((flags.task === undefined) === (flags.family === undefined)) throw new UsageError('give exactly one of --task NAME and --family NAME');
  if (!['pes', 'tes', 'fes'].includes(flags.estimator)) throw new UsageError(`--estimator must be pes, tes or fes, got "${flags.estimator}"`);
  if (!['constant', 'cosine', 'warmup-cosine'].includes(flags.metaLrSchedule)) {
    throw new UsageError(`--meta-lr-schedule must be constant, cosine or warmup-cosine, got "${flags.metaLrSchedule}"`);
  }
  if (flags.minInnerSteps !== undefined && flags.minInnerSteps > flags.innerSteps) throw new UsageError('--min-inner-steps must not exceed --inner-steps');
  // Worker threads pick their backend from the environment they inherit.
  if (flags.backend) process.env.LOPT_BACKEND = parseBackendChoice(flags.backend);
  const workers = flags.workers ?? availableParallelism();

  let stopSignal: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) process.exit(signal === 'SIGINT' ? 130 : 143); // a second signal: leave now
    stopSignal = signal;
    process.stderr.write(`\nlopt: ${signal}: checkpointing after the current outer step (again to quit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (flags.maxMinutes !== undefined && !(flags.maxMinutes > 0)) throw new UsageError(`--max-minutes must be positive, got ${flags.maxMinutes}`);
  const deadline = flags.maxMinutes !== undefined ? Date.now() + flags.maxMinutes * 60_000 : null;
  const label = `${flags.lopt}/${flags.task ?? flags.family}/${flags.estimator}`;
  let progress: ReturnType<typeof makeProgress> | null = null;
  let result: MetaRunResult;
  try {
    result = await metaTrain({
      out: flags.out, resume: flags.resume, workers, checkpointEvery: flags.checkpointEvery,
      problem: {
        lopt: flags.lopt, loptOptions: { ...flags.hparam },
        ...(flags.task !== undefined ? { task: flags.task } : { family: flags.family }),
        taskOptions: { ...flags.taskOpt, ...(flags.dataDir ? { dataDir: flags.dataDir } : {}) },
      },
      estimator: flags.estimator as EstimatorKind, numTasks: flags.numTasks, truncLength: flags.truncLength,
      innerSteps: flags.innerSteps,
      ...(flags.minInnerSteps !== undefined ? { schedule: { kind: 'log-uniform' as const, min: flags.minInnerSteps, max: flags.innerSteps } } : {}),
      std: flags.std, metaLr: flags.metaLr, metaLrSchedule: flags.metaLrSchedule as MetaLrSchedule,
      outerSteps: flags.outerSteps, seed: flags.seed, metaBatch: flags.metaBatch,
      evalEvery: flags.evalEvery, evalSeeds: flags.evalSeeds, metaLossAfterUpdate: flags.lossAfterUpdate ?? false,
      command: `lopt ${process.argv.slice(2).join(' ')}`,
      ...(flags.initSearch !== undefined ? { initSearch: { count: flags.initSearch, steps: flags.initSearchSteps } } : {}),
      onStep: (row) => {
        progress ??= makeProgress(flags.outerSteps, row.outerStep, label);
        progress.update(row.outerStep + 1, row.metaLoss, row.innerStepsPerSec);
      },
      shouldStop: () => stopSignal !== null || (deadline !== null && Date.now() >= deadline),
    });
  } finally {
    (progress as ReturnType<typeof makeProgress> | null)?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const fmt = (x: number | null) => (x === null ? '-' : Number.isFinite(x) ? x.toFixed(4) : String(x));
  const lines = [
    `${label}: ${result.outerSteps}/${flags.outerSteps} outer steps${result.stopped ? ` (stopped by ${stopSignal ?? `--max-minutes ${flags.maxMinutes}`}; continue with --resume)` : ''}, ${workers} worker${workers === 1 ? '' : 's'}`,
    `meta-loss ${fmt(result.metaLoss)}, ${result.innerStepsPerSec.toFixed(0)} inner steps/s`,
    `evaluation loss: initial θ ${fmt(result.initialEvalLoss)}, best ${fmt(result.bestEvalLoss)}, latest ${fmt(result.lastEvalLoss)}`,
    `weights: ${result.weights.latest}${result.weights.best ? `, ${result.weights.best}` : ''}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({
      outerSteps: result.outerSteps, metaLoss: result.metaLoss, innerStepsPerSec: result.innerStepsPerSec,
      weights: result.weights, initialEvalLoss: result.initialEvalLoss, bestEvalLoss: result.bestEvalLoss,
      lastEvalLoss: result.lastEvalLoss, totalInnerSteps: result.totalInnerSteps, stopped: result.stopped, workers,
    })}\n`);
  }
  if (result.stopped && stopSignal !== null) process.exitCode = stopSignal === 'SIGTERM' ? 143 : 130;
}
