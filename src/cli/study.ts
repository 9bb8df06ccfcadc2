// `lopt study`: the tradeoff study (search → evaluation → overhead → memory → variants) into the
// results database, resumably, with progress and an ETA, then the HTML report.
import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
// The study itself (and its optional packages) is loaded when the command runs, not for every `lopt`.
import { STUDY_PHASES, type StudyPhase } from '../study/phases.js';
import type { StudyConfigInput, StudyEvents, StudyResult } from '../study/study.js';
import { reportFatal, UsageError } from './errors.js';
import { finiteNumber, positiveInt } from './parse.js';
import { parseBackendChoice } from '../engine/select.js';

interface StudyFlags {
  tasks?: string[];
  optimizers?: string[];
  budget?: number;
  seeds?: number;
  searchSeeds?: number;
  db?: string;
  steps?: number;
  maxHours?: number;
  preset?: string;
  out?: string;
  json?: boolean;
  workers?: number;
  weights?: Record<string, string>;
  backend?: string;
  dataDir?: string;
  phases?: string[];
  variants?: string;
  metaBudgetMinutes?: number;
  variantTask?: string;
  metaLr?: number;
  runs?: string[];
  sweeps: boolean;
  verbose?: boolean;
  table1?: string[];
  table1Timings?: number;
}

const list = (value: string): string[] => {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new InvalidArgumentError(`expected a comma-separated list, got "${value}"`);
  return items;
};

function weightsArg(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const match = /^([A-Za-z_][\w]*)=(.+)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`expected NAME=FILE (e.g. small_fc_lopt=runs/x/theta-best), got "${value}"`);
  return { ...previous, [match[1]]: match[2] };
}

function positiveNumber(value: string): number {
  const n = finiteNumber(value);
  if (!(n > 0)) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

export function studyCommand(): Command {
  return new Command('study')
    .description('run the tradeoff study resumably (baseline search, evaluation, overhead, memory, variants) and write the report')
    .option('--tasks <list>', 'tasks, comma-separated (default fmnist-mlp,cifar10-conv)', list)
    .option('--optimizers <list>', 'optimizers, comma-separated (default sgd,sgdm,adam,nadamw,small_fc_lopt,nn_adam,fc_lopt,rnn_fc_lopt)', list)
    .option('--budget <n>', 'search configurations per (task, optimizer) (default: per task, see docs/study.md)', positiveInt)
    .option('--seeds <s>', 'final-evaluation seeds, 1000… (default 5)', positiveInt)
    .option('--search-seeds <s>', 'search seeds, 2000… (default 1)', positiveInt)
    .option('--db <file>', 'results database (default results/lopt.db)')
    .option('--steps <n>', 'inner training steps of search and evaluation runs (default 2000)', positiveInt)
    .option('--max-hours <h>', 'stop cleanly between runs after H hours (rerun to continue)', positiveNumber)
    .option('--preset <name>', 'smoke: fmnist-mlp, 200 steps, a grid subset, 2 seeds, few timings (a few minutes)')
    .option('--out <dir>', 'report folder (default: report/ beside the database)')
    .option('--workers <w>', 'worker threads (default: all cores)', positiveInt)
    .option('--weights <name=file>', 'meta-trained weights of a learned optimizer (repeatable)', weightsArg)
    .option('--backend <name>', 'native, reference or auto (default: $LOPT_BACKEND or auto)')
    .option('--data-dir <dir>', 'data root (default: $LOPT_DATA_DIR or ~/.cache/lopt/data)')
    .option('--phases <list>', `phases to run, comma-separated (default: all but table1): ${STUDY_PHASES.join(', ')}`, list)
    .option('--table1 <model>', 'table1 phase: a model to time, TASK or TASK:key=value,... (repeatable; default the paper\'s four: resnet18-v2, resnet50-v2, transformer-byte at L=256 and 512)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--table1-timings <n>', 'table1 phase: timed steps of SGD and of small_fc_lopt per model, alternating (default 10)', positiveInt)
    .option('--variants <spec>', 'feature_mlp_lopt variants to meta-train and evaluate: "features=adafact,m_0.9|hidden=2,4,8"')
    .option('--meta-budget-minutes <m>', 'meta-training budget of each variant, minutes of wall-clock', positiveNumber)
    .option('--variant-task <name>', 'task the variants are meta-trained and evaluated on (default: the first task)')
    .option('--meta-lr <eta>', 'meta-learning rate of the variants (default 1e-4)', positiveNumber)
    .option('--runs <dirs...>', 'meta-training run folders to show in the report')
    .option('--no-sweeps', 'time only the tasks\' default settings (no batch-size and width sweeps)')
    .option('--json', 'print one JSON summary object as the last stdout line')
    .action((flags: StudyFlags) => {
      runStudyCommand(flags).catch((error: unknown) => reportFatal(error, flags.verbose ?? process.argv.includes('--verbose')));
    });
}

/** The study configuration: the preset, then every flag given on top of it. */
export async function studyInput(flags: StudyFlags): Promise<StudyConfigInput> {
  let input: StudyConfigInput = {};
  if (flags.preset !== undefined) {
    if (flags.preset !== 'smoke') throw new UsageError(`unknown --preset "${flags.preset}"; valid: smoke`);
    const { SMOKE_PRESET } = await import('../study/study.js');
    input = { ...SMOKE_PRESET };
  }
  const phases = flags.phases?.map((p) => {
    if (!(STUDY_PHASES as readonly string[]).includes(p)) throw new UsageError(`unknown phase "${p}" in --phases; valid: ${STUDY_PHASES.join(', ')}`);
    return p as StudyPhase;
  });
  let variants;
  if (flags.variants !== undefined) {
    const { parseVariants } = await import('../study/variants.js');
    try {
      variants = parseVariants(flags.variants);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  const given: StudyConfigInput = {
    tasks: flags.tasks, optimizers: flags.optimizers, budget: flags.budget, evalSeeds: flags.seeds,
    searchSeeds: flags.searchSeeds, db: flags.db, steps: flags.steps, maxHours: flags.maxHours, out: flags.out,
    workers: flags.workers, backend: flags.backend as StudyConfigInput['backend'], dataDir: flags.dataDir, phases,
    variants, metaBudgetMinutes: flags.metaBudgetMinutes, variantTask: flags.variantTask, metaLr: flags.metaLr,
    runDirs: flags.runs, ...(flags.sweeps === false ? { sweeps: false } : {}),
    table1Models: flags.table1,
    ...(flags.table1Timings ? { table1Timing: { warmup: 1, rounds: flags.table1Timings, block: 1 } } : {}),
    ...(flags.weights ? { weights: flags.weights } : {}),
  };
  for (const [key, value] of Object.entries(given)) if (value !== undefined) (input as Record<string, unknown>)[key] = value;
  if (input.backend === undefined && process.env.LOPT_BACKEND) input.backend = process.env.LOPT_BACKEND as StudyConfigInput['backend'];
  if (input.backend !== undefined) {
    try {
      parseBackendChoice(input.backend);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  return input;
}

/** Status lines on stderr; on a terminal, one progress bar per phase. */
function studyEvents(): StudyEvents {
  const tty = process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | null = null;
  let done = 0;
  return {
    log(line) {
      process.stderr.write(`lopt study: ${line}\n`);
    },
    phaseStart(phase, total) {
      done = 0;
      if (!tty || total === 0) return;
      bar = new cliProgress.SingleBar({
        stream: process.stderr, hideCursor: true, fps: 5,
        format: `${phase.padEnd(8)} [{bar}] {value}/{total} | {detail} | eta {eta_formatted}`,
      }, cliProgress.Presets.shades_classic);
      bar.start(total, 0, { detail: '' });
    },
    phaseTick(_phase, detail) {
      done++;
      bar?.update(done, { detail: detail.length > 60 ? `${detail.slice(0, 57)}...` : detail });
    },
    phaseEnd() {
      bar?.stop();
      bar = null;
    },
  };
}

async function runStudyCommand(flags: StudyFlags): Promise<void> {
  const input = await studyInput(flags);
  const { runStudy } = await import('../study/study.js');
  let stopSignal: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) process.exit(signal === 'SIGINT' ? 130 : 143); // a second signal: leave now
    stopSignal = signal;
    process.stderr.write(`\nlopt study: ${signal}: finishing the runs in flight, then stopping (again to quit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: StudyResult;
  try {
    result = await runStudy(input, studyEvents(), () => stopSignal !== null);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const lines = [
    `search: ${result.search.ran} runs (${result.search.diverged} diverged)${result.search.remaining ? `, ${result.search.remaining} left` : ''}; ` +
      `evaluation: ${result.eval.ran} runs (${result.eval.diverged} diverged)${result.eval.remaining ? `, ${result.eval.remaining} left` : ''}; ` +
      `timings: ${result.overhead.measured}; memory: ${result.memory.measured}${result.variants.planned ? `; variants: ${result.variants.done}` : ''}` +
      `${result.table1.measured + result.table1.remaining ? `; Table 1 rows: ${result.table1.measured}${result.table1.remaining ? `, ${result.table1.remaining} left` : ''}` : ''}`,
    ...result.best.map((b) => `best ${b.task}/${b.optimizer}: mean loss ${b.mean_loss.toFixed(4)} (${b.configs_tried} tried, ${b.configs_diverged} diverged)`),
    `${result.stopped ? 'stopped' : 'done'} in ${result.elapsedSeconds.toFixed(0)} s; database ${result.db}${result.report ? `; report ${result.report.indexPath}` : ''}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({
      db: result.db, stopped: result.stopped, stopReason: result.stopReason, etaSeconds: result.etaSeconds,
      elapsedSeconds: result.elapsedSeconds, search: result.search, eval: result.eval, overhead: result.overhead,
      memory: result.memory, variants: result.variants, table1: result.table1, best: result.best, missing: result.missing,
      report: result.report ? { indexPath: result.report.indexPath, plots: result.report.plots.length, missing: result.report.missing } : null,
    })}\n`);
  }
  if (result.stopReason === 'signal') process.exitCode = stopSignal === 'SIGTERM' ? 143 : 130;
}
