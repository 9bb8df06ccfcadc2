// `lopt meta-train`: meta-trains a learned optimizer with PES, truncated ES or full ES on a task or a
// task family, on all local cores, with checkpoints and exact resume.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { parseBackendChoice } from '../engine/select.js';
import { metaTrain, type MetaRunResult } from '../meta/run.js';
import type { MetaLrSchedule, MetaTrainOptions } from '../meta/learner.js';
// The distributed roles (and BullMQ, ioredis) are loaded only for --redis runs.
import { DEFAULT_RETRY, formatDelay, RedisUnreachableError, retryBudgetMs } from '../distributed/retry.js';
import type { RoleOptions } from '../distributed/settings.js';
import type { EstimatorKind } from '../meta/unroll.js';
import { estimatorList, isEstimatorKind } from '../meta/estimators/index.js';
import { reportFatal, UsageError } from './errors.js';
import { learned } from '../learned/registry.js';
import type { Params } from '../engine/tensor.js';
import { finiteNumber, keyValue, nonNegativeInt, positiveInt } from './parse.js';
import { TASK_KNOB_KEYS } from '../tasks/options.js';

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
  initWeights?: string;
  maxMinutes?: number;
  hparam: Record<string, number | boolean | string>;
  taskOpt: Record<string, number | boolean | string>;
  backend?: string;
  dataDir?: string;
  json?: boolean;
  redis?: string;
  role?: string;
  runId: string;
  staleness?: number;
  redisCa?: string;
  redisRetries: number;
  reissueAfter: number;
  evalWait: number;
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
    .option('--init-weights <file>', 'start from the θ in this weights file (e.g. another run\'s theta-best) instead of an initialisation')
    .option('--max-minutes <m>', 'stop (checkpointed, exit 0) after M minutes of this invocation; continue with --resume', finiteNumber)
    .option('--workers <w>', 'worker threads (default: all cores; 1: this thread)', positiveInt)
    .option('--meta-batch <b>', 'estimates averaged per update', positiveInt, 1)
    .option('--eval-every <e>', 'evaluate θ by full inner runs every E outer steps (0: never)', nonNegativeInt, 50)
    .option('--eval-seeds <n>', 'evaluation runs (reserved seeds) per evaluation', positiveInt, 2)
    .option('--checkpoint-every <k>', 'checkpoint every K outer steps (0: only at the end)', nonNegativeInt, 10)
    .option('--loss-after-update', 'meta-loss: loss after the update on a fresh batch')
    .option('--hparam <key=value>', 'learned-optimizer option (repeatable)', keyValue, {})
    .option('--task-opt <key=value>', `task knob (repeatable): ${TASK_KNOB_KEYS.join(', ')}`, keyValue, {})
    .option('--backend <name>', 'native, wasm, reference or auto (default: $LOPT_BACKEND or auto)')
    .option('--data-dir <dir>', 'data root (default: $LOPT_DATA_DIR or ~/.cache/lopt/data)')
    .option('--json', 'print one JSON summary object as the last stdout line')
    .option('--redis <url>', 'distributed: redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss://… (TLS); see docs/distributed.md')
    .option('--role <role>', 'distributed: learner, worker or evaluator (default learner)')
    .option('--run-id <id>', 'distributed: the run\'s name in Redis (one Redis can hold several runs)', 'default')
    .option('--staleness <s>', 'distributed learner: drop estimates made at θ more than S updates old (default 2)', nonNegativeInt)
    .option('--redis-ca <file>', 'distributed: CA certificate (PEM) that signed the rediss:// server\'s certificate')
    .option('--redis-retries <n>', `distributed: connection attempts before giving up with exit code 1 (waits ${DEFAULT_RETRY.baseDelayMs} ms doubling to ${DEFAULT_RETRY.maxDelayMs / 1000} s: ${formatDelay(retryBudgetMs(DEFAULT_RETRY))} for the default)`, positiveInt, DEFAULT_RETRY.maxAttempts)
    .option('--reissue-after <ms>', 'distributed: a job whose process stops renewing its lock this long is re-issued', positiveInt, 30_000)
    .option('--eval-wait <s>', 'distributed learner: wait this long at the end for evaluations in flight', nonNegativeInt, 300)
    .action((flags: MetaTrainFlags & { verbose?: boolean }) => {
      // The program parses synchronously: report this command's asynchronous failures here.
      runMetaTrain(flags).catch((error: unknown) => reportFatal(error, flags.verbose ?? process.argv.includes('--verbose')));
    });
}

/** θ to start from, read from a weights file of the same learned optimizer and options. */
function initialWeights(flags: MetaTrainFlags): Params {
  if (flags.resume) throw new UsageError('--init-weights starts a new run; a resumed run continues from its checkpoint (drop one of them)');
  if (flags.initSearch !== undefined) throw new UsageError('give at most one of --init-weights and --init-search');
  const loaded = learned.load(flags.initWeights!, { options: { ...flags.hparam } });
  if (loaded.optimizer.name !== flags.lopt) throw new UsageError(`${flags.initWeights} holds weights for ${loaded.optimizer.name}, not ${flags.lopt}`);
  const dropped = droppedFileOptions(loaded.optimizer.options, learned.get(flags.lopt, { ...flags.hparam }).options);
  if (dropped.length > 0) {
    process.stderr.write(`lopt: --init-weights takes θ only: the run does not use ${flags.initWeights}'s ${dropped.join(', ')} (pass ${dropped.map((d) => `--hparam ${d}`).join(' ')} to keep them)\n`);
  }
  return loaded.theta;
}

/**
 * The options saved with a weights file that a run started from it leaves behind ("key=value"): its
 * behaviours such as a built-in warmup or step boost, which only `--hparam` carries into the run.
 * Options that shape θ must agree anyway, and `path` only picks an implementation.
 */
function droppedFileOptions(fromFile: Readonly<Record<string, unknown>>, forRun: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(fromFile).filter((key) => key !== 'path' && fromFile[key] !== forRun[key]).map((key) => `${key}=${String(fromFile[key])}`);
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
  if (!isEstimatorKind(flags.estimator)) throw new UsageError(`--estimator must be ${estimatorList()}, got "${flags.estimator}"`);
  if (!['constant', 'cosine', 'warmup-cosine'].includes(flags.metaLrSchedule)) {
    throw new UsageError(`--meta-lr-schedule must be constant, cosine or warmup-cosine, got "${flags.metaLrSchedule}"`);
  }
  if (flags.minInnerSteps !== undefined && flags.minInnerSteps > flags.innerSteps) throw new UsageError('--min-inner-steps must not exceed --inner-steps');
  if (!flags.redis && (flags.role !== undefined || flags.staleness !== undefined || flags.redisCa !== undefined)) {
    throw new UsageError('--role, --staleness and --redis-ca belong to distributed runs: add --redis redis://HOST:PORT');
  }
  if (flags.role !== undefined && !['learner', 'worker', 'evaluator'].includes(flags.role)) {
    throw new UsageError(`--role must be learner, worker or evaluator, got "${flags.role}"`);
  }
  if (flags.redis) {
    const localOnly = [['--init-search', flags.initSearch], ['--init-weights', flags.initWeights], ['--max-minutes', flags.maxMinutes]].filter(([, v]) => v !== undefined).map(([f]) => f);
    if (localOnly.length) throw new UsageError(`${localOnly.join(', ')} ${localOnly.length === 1 ? 'is' : 'are'} for local runs, not with --redis (see docs/distributed.md)`);
    if (flags.resume && (flags.role ?? 'learner') !== 'learner') throw new UsageError('--resume is for the learner: workers and evaluators just start again');
  }
  // Worker threads pick their backend from the environment they inherit.
  if (flags.backend) process.env.LOPT_BACKEND = parseBackendChoice(flags.backend);
  const workers = flags.workers ?? availableParallelism();
  const train: Omit<MetaTrainOptions, 'theta'> = {
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
  };
  if (flags.redis) {
    await runDistributed(flags, train, workers);
    return;
  }

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
      out: flags.out, resume: flags.resume, workers, checkpointEvery: flags.checkpointEvery, ...train,
      command: `lopt ${process.argv.slice(2).join(' ')}`,
      ...(flags.initSearch !== undefined ? { initSearch: { count: flags.initSearch, steps: flags.initSearchSteps } } : {}),
      ...(flags.initWeights !== undefined ? { theta: initialWeights(flags) } : {}),
      onNotice: (message) => process.stderr.write(`lopt: ${message}\n`),
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

/**
 * `--redis`: one role of a distributed run (src/distributed). Redis unreachable after the stated
 * attempts is exit code 1 with one line naming the URL; settings that differ from the learner's
 * are a usage error (2).
 */
async function runDistributed(flags: MetaTrainFlags, train: Omit<MetaTrainOptions, 'theta'>, threads: number): Promise<void> {
  const { runDistributedEvaluator, runDistributedLearner, runDistributedWorker, SettingsMismatch } = await import('../distributed/index.js');
  const role = flags.role ?? 'learner';
  let redisTls: RoleOptions['redisTls'];
  if (flags.redisCa !== undefined) {
    try {
      redisTls = { ca: readFileSync(flags.redisCa) };
    } catch (error) {
      throw new UsageError(`--redis-ca ${flags.redisCa}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  let stopSignal: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) process.exit(signal === 'SIGINT' ? 130 : 143);
    stopSignal = signal;
    process.stderr.write(`\nlopt: ${signal}: ${role === 'learner' ? 'checkpointing after the current update' : 'leaving after the current job'} (again to quit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const retry = { ...DEFAULT_RETRY, maxAttempts: flags.redisRetries };
  const common: RoleOptions = {
    redis: flags.redis!, redisTls, runId: flags.runId, out: flags.out, train, retry,
    reissueAfterMs: flags.reissueAfter, shouldStop: () => stopSignal !== null,
  };
  const label = `${flags.lopt}/${flags.task ?? flags.family}/${flags.estimator} ${role} of run "${flags.runId}"`;
  const fmt = (x: number | null) => (x === null ? '-' : Number.isFinite(x) ? x.toFixed(4) : String(x));
  let summary: Record<string, unknown>;
  let lines: string[];
  try {
    if (role === 'learner') {
      let progress: ReturnType<typeof makeProgress> | null = null;
      try {
        const r = await runDistributedLearner({
          ...common, staleness: flags.staleness ?? 2, resume: flags.resume, checkpointEvery: flags.checkpointEvery,
          evalWaitMs: flags.evalWait * 1000, command: `lopt ${process.argv.slice(2).join(' ')}`,
          onUpdate: (row) => {
            progress ??= makeProgress(flags.outerSteps, row.outerStep, label);
            progress.update(row.outerStep + 1, row.metaLoss, row.innerStepsPerSec);
          },
        });
        lines = [
          `${label}: ${r.outerSteps}/${flags.outerSteps} outer steps${r.stopped ? ` (stopped by ${stopSignal}; continue with --resume)` : ''}`,
          `meta-loss ${fmt(r.metaLoss)}, ${r.innerStepsPerSec.toFixed(0)} inner steps/s (all workers), dropped ${JSON.stringify(r.dropped)}`,
          `evaluation loss: initial θ ${fmt(r.initialEvalLoss)}, best ${fmt(r.bestEvalLoss)}, latest ${fmt(r.lastEvalLoss)}`,
          `weights: ${r.weights.latest}${r.weights.best ? `, ${r.weights.best}` : ''}`,
        ];
        summary = { role, ...r };
        if (r.stopped) process.exitCode = stopSignal === 'SIGTERM' ? 143 : 130;
      } finally {
        (progress as ReturnType<typeof makeProgress> | null)?.stop();
      }
    } else if (role === 'worker') {
      const r = await runDistributedWorker({ ...common, threads });
      lines = [`${label}: worker ${r.workerId} sent ${r.estimates} estimates, ${r.seconds > 0 ? (r.innerSteps / r.seconds).toFixed(0) : 0} inner steps/s${r.stopped ? ' (stopped)' : ''}`];
      summary = { role, ...r, innerStepsPerSec: r.seconds > 0 ? r.innerSteps / r.seconds : 0 };
    } else {
      const r = await runDistributedEvaluator(common);
      lines = [`${label}: evaluator ${r.evaluatorId} evaluated ${r.evaluations} θ${r.stopped ? ' (stopped)' : ''}`];
      summary = { role, ...r };
    }
  } catch (error) {
    if (error instanceof RedisUnreachableError) {
      const spent = error.retriesSpent ? ` (${flags.redisRetries} attempts over ${formatDelay(retryBudgetMs(retry))})` : '';
      process.stderr.write(`lopt: error: ${error.message}${spent}\n`);
      process.exit(1);
    }
    if (error instanceof SettingsMismatch) throw new UsageError(error.message);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  // BullMQ may leave timers behind; the work is done and written.
  process.exit(process.exitCode ?? 0);
}
