// `lopt train`: trains one task with one optimizer and reports the loss, timing and memory.
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { getBackend, parseBackendChoice } from '../engine/select.js';
import { countParams } from '../engine/tensor.js';
import { chooseOptimizer, offTaskWarning } from './optimizer-choice.js';
import { getTask, taskNames } from '../tasks/registry.js';
import { TASK_KNOB_KEYS } from '../tasks/options.js';
import { train, type TrainResult } from '../training/train.js';
import { DEFAULT_DIVERGENCE_RULE, describeDivergence, resolveDivergenceRule } from '../meta/divergence.js';
import { UsageError } from './errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { finiteNumber, keyValue, nonNegativeInt, positiveInt } from './parse.js';
import { createProgress } from './progress.js';
import { loadRunState, saveRunState } from './run-state.js';

interface TrainFlags {
  task: string;
  optimizer: string;
  lr?: number;
  hparam: Record<string, number | boolean | string>;
  taskOpt: Record<string, number | boolean | string>;
  steps: number;
  seed: number;
  batchSize?: number;
  evalEvery?: number;
  backend?: string;
  dataDir?: string;
  out?: string;
  json?: boolean;
  saveState?: string;
  resumeState?: string;
  stopAt?: number;
  weights?: string;
  onDiverge: 'stop' | 'continue';
  failOnDiverge?: boolean;
  divergeWindow?: number;
  divergeSmoothing?: number;
  divergeTolerance?: number;
  threads?: number;
}

/** The exit code of a run that diverged under --fail-on-diverge. */
export const DIVERGED_EXIT_CODE = 3;

export function trainCommand(): Command {
  return new Command('train')
    .description('train a task with an optimizer and report the training loss')
    .requiredOption('--task <name>', `task to train: ${taskNames().join(', ')}`)
    .requiredOption('--optimizer <name>', 'optimizer: sgd, sgdm, adam, nadamw, adafactor, or a learned one (small_fc_lopt, feature_mlp_lopt, fc_lopt, ...)')
    .option('--lr <x>', 'learning rate (same as --hparam learningRate=X)', finiteNumber)
    .option('--hparam <key=value>', 'set an optimizer hyperparameter (or a learned optimizer option) by name, or a composition key: clipGlobalNorm, schedule, warmupSteps, scheduleSteps, scheduleEnd, scheduleBoundaries, weightDecay, weightDecayMask, gradClip (repeatable)', keyValue, {})
    .option('--weights <file>', 'learned optimizers: θ from this weights file, or pretrained:NAME for a shipped one (default: the shipped weights meta-trained on the task, else the shipped general-purpose weights, else untrained)')
    .option('--task-opt <key=value>', `set a task knob (repeatable): ${TASK_KNOB_KEYS.join(', ')}`, keyValue, {})
    .option('--steps <n>', 'training steps: the planned total (schedules span it; a resumed run continues to it)', positiveInt, 2000)
    .option('--stop-at <n>', 'end the run after step N of the --steps planned (to continue later: with --save-state)', positiveInt)
    .option('--save-state <file>', 'at the end, write the optimizer state, parameters and run position to FILE (atomically)')
    .option('--resume-state <file>', 'continue the run saved in FILE (same --task, --task-opt, --seed, --optimizer and settings) to --steps')
    .option('--seed <s>', 'random seed', nonNegativeInt, 0)
    .option('--batch-size <b>', 'shorthand for --task-opt batchSize=B', positiveInt)
    .option('--eval-every <n>', 'also report validation and test loss every N steps', positiveInt)
    .option('--backend <name>', 'native, wasm, reference or auto (default: $LOPT_BACKEND or auto)')
    .option('--threads <n>', 'threads for the native kernels and BLAS (default: every core, os.availableParallelism())', positiveInt)
    .option('--data-dir <dir>', 'data root (default: $LOPT_DATA_DIR or ~/.cache/lopt/data)')
    .option('--out <file>', 'write the per-step loss curve as CSV')
    .option('--json', 'print one JSON summary object as the last stdout line')
    .addOption(new Option('--on-diverge <what>', 'when the run diverges: stop it there, or continue to the last step').choices(['stop', 'continue']).default('stop'))
    .option('--fail-on-diverge', `exit with code ${DIVERGED_EXIT_CODE} when the run diverged`)
    .option('--diverge-window <n>', `divergence: steps in a row the smoothed loss must stay above the threshold (0: NaN/Inf only; default ${DEFAULT_DIVERGENCE_RULE.window})`, nonNegativeInt)
    .option('--diverge-smoothing <b>', `divergence: factor of the loss's exponential moving average, in [0, 1) (default ${DEFAULT_DIVERGENCE_RULE.smoothing})`, finiteNumber)
    .option('--diverge-tolerance <t>', `divergence: threshold is the initial loss + t·|initial loss| (default ${DEFAULT_DIVERGENCE_RULE.tolerance})`, finiteNumber)
    .action((flags: TrainFlags, command: Command) => {
      // A resumed run's planned total is the saved one unless --steps is given (then it must agree).
      if (flags.resumeState !== undefined && command.getOptionValueSource('steps') === 'default') flags.steps = 0;
      runTrain(flags);
    });
}

function runTrain(flags: TrainFlags): void {
  let rule;
  try {
    rule = resolveDivergenceRule({ window: flags.divergeWindow, smoothing: flags.divergeSmoothing, tolerance: flags.divergeTolerance });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.replace(/^divergence (\w+)/, (_, key: string) => `--diverge-${key}`)}`);
  }
  const backend = getBackend(parseBackendChoice(flags.backend ?? process.env.LOPT_BACKEND));
  // One run has the machine to itself: every core, unless --threads says otherwise.
  backend.setThreads?.(flags.threads ?? availableParallelism());
  const knobs: Record<string, unknown> = { ...flags.taskOpt };
  if (flags.batchSize !== undefined) knobs.batchSize = flags.batchSize;
  const task = getTask(flags.task, { ...knobs, backend, dataDir: flags.dataDir });
  const choice = chooseOptimizer({
    name: flags.optimizer, hparams: { ...flags.hparam }, lr: flags.lr, weights: flags.weights, seed: flags.seed, backend, task: flags.task,
  });
  const { optimizer } = choice;
  const hparams = choice.settings;
  const offTask = offTaskWarning(flags.optimizer, choice.theta, task.name);
  if (offTask) process.stderr.write(`${offTask}\n`);
  task.datasets; // load the data before the progress bar starts, so a data error is the only output
  const run = { task: task.name, taskOptions: knobs, seed: flags.seed };
  const resume = flags.resumeState === undefined ? undefined
    : loadRunState(flags.resumeState, optimizer, { ...run, steps: flags.steps === 0 ? undefined : flags.steps });
  if (resume) flags.steps = resume.steps;
  if (flags.stopAt !== undefined && flags.stopAt > flags.steps) throw new UsageError(`--stop-at ${flags.stopAt} is past --steps ${flags.steps}`);

  const progress = createProgress(flags.steps, `${task.name}/${optimizer.name}`);
  let result: TrainResult;
  try {
    result = train({
      task, optimizer, steps: flags.steps, seed: flags.seed, evalEvery: flags.evalEvery,
      divergence: rule, onDiverge: flags.onDiverge, stopAt: flags.stopAt, resume,
      onStep: (done, loss) => progress.update(done, loss),
    });
  } finally {
    progress.stop();
  }
  if (flags.out) writeFileAtomic(flags.out, curveCsv(result));
  if (flags.saveState) saveRunState(flags.saveState, optimizer, result, { ...run, steps: flags.steps });
  if (result.divergence) {
    const what = flags.onDiverge === 'stop' ? 'stopped there (--on-diverge continue runs every step)' : `continued to step ${result.stepsDone}`;
    process.stderr.write(`lopt: diverged at step ${result.divergence.step}: ${describeDivergence(result.divergence)}; ${what}\n`);
  }

  const last = result.evaluations.at(-1);
  const summary = {
    task: task.name,
    optimizer: optimizer.name,
    backend: backend.name,
    steps: flags.steps,
    stepsDone: result.stepsDone,
    seed: flags.seed,
    initialLoss: result.initialLoss,
    finalLoss: result.finalLoss,
    meanLoss: result.meanLoss,
    diverged: result.diverged,
    ...(result.divergedAt !== undefined ? { divergedAt: result.divergedAt } : {}),
    msPerStep: result.msPerStep,
    stateBytes: optimizer.stateBytes(result.params),
    ...(last ? { validLoss: last.validLoss, testLoss: last.testLoss } : {}),
    paramCount: countParams(result.params),
    batchSize: task.batchSize,
    flopsPerStep: task.flopsPerStep,
    hparams,
    ...(choice.theta ? { theta: choice.theta.source, metaParams: choice.theta.metaParams, metaTrainedOn: choice.theta.metaTrainedOn } : {}),
    taskOptions: knobs,
    simd: backend.info().simd,
    threads: backend.threads?.() ?? 1,
    ...(backend.info().blas ? { blas: backend.info().blas } : {}),
  };
  const lines = [
    `task ${summary.task} (${summary.paramCount} parameters, batch ${summary.batchSize}), optimizer ${summary.optimizer}, backend ${summary.backend} (${summary.simd}, ${summary.threads} thread${summary.threads === 1 ? '' : 's'})`,
    ...(choice.theta ? [`θ: ${choice.theta.source}${choice.theta.metaTrainedOn.length ? `, meta-trained on ${choice.theta.metaTrainedOn.join(', ')}` : ''}`] : []),
    `loss: initial ${fmt(summary.initialLoss)}, final ${fmt(summary.finalLoss)}, mean over ${summary.stepsDone} steps ${fmt(summary.meanLoss)}`,
    ...(result.divergedAt !== undefined ? [`diverged at step ${result.divergedAt}${summary.stepsDone < summary.steps ? ` (stopped; ${summary.steps} steps asked)` : ''}`] : []),
    ...(last ? [`after ${last.step} steps: valid loss ${fmt(last.validLoss)}, test loss ${fmt(last.testLoss)}`] : []),
    `time: ${summary.msPerStep.toFixed(3)} ms per step (median); optimizer state ${summary.stateBytes} bytes`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  if (result.diverged && flags.failOnDiverge) process.exitCode = DIVERGED_EXIT_CODE;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

function curveCsv(result: TrainResult): string {
  const evalAt = new Map(result.evaluations.map((e) => [e.step, e]));
  const rows = ['step,loss,valid_loss,test_loss'];
  result.losses.forEach((loss, i) => {
    const e = evalAt.get(i + 1);
    rows.push(`${i + 1},${loss},${e ? e.validLoss : ''},${e ? e.testLoss : ''}`);
  });
  return `${rows.join('\n')}\n`;
}

