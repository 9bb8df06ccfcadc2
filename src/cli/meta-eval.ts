// `lopt meta-eval`: meta-generalization of a meta-training run — the θ it kept at each evaluation,
// trained on other tasks (one full inner run per θ, task and seed), into the run's metagen.jsonl.
import { Command } from 'commander';
import { getBackend, parseBackendChoice } from '../engine/select.js';
import { metaEvaluate, type MetaGenRow } from '../meta/meta-eval.js';
import { taskNames } from '../tasks/registry.js';
import { createProgress } from './progress.js';
import { UsageError } from './errors.js';
import { positiveInt } from './parse.js';

interface MetaEvalFlags {
  run: string;
  tasks: string;
  every: number;
  seeds: number;
  steps: number;
  backend?: string;
  dataDir?: string;
  json?: boolean;
}

export const PAPER_TASKS = ['fmnist-mlp', 'imagenet16-mlp', 'cifar10-16-conv', 'cifar10-ae', 'text-lstm-lm'];

export function metaEvalCommand(): Command {
  return new Command('meta-eval')
    .description("evaluate a meta-training run's kept θ on other tasks (meta-generalization); appends to DIR/metagen.jsonl and resumes")
    .requiredOption('--run <dir>', 'meta-training run folder (lopt meta-train --out DIR)')
    .option('--tasks <names>', 'comma-separated tasks', PAPER_TASKS.join(','))
    .option('--every <k>', 'only the θ kept at outer steps that are multiples of K', positiveInt, 1)
    .option('--seeds <n>', 'evaluation seeds per θ and task', positiveInt, 1)
    .option('--steps <n>', 'inner steps per evaluation run', positiveInt, 2000)
    .option('--backend <name>', 'native, wasm, reference or auto (default: $LOPT_BACKEND or auto)')
    .option('--data-dir <dir>', 'data root (default: $LOPT_DATA_DIR or ~/.cache/lopt/data)')
    .option('--json', 'print one JSON summary object as the last stdout line')
    .action((flags: MetaEvalFlags) => runMetaEval(flags));
}

function runMetaEval(flags: MetaEvalFlags): void {
  const tasks = flags.tasks.split(',').map((t) => t.trim()).filter(Boolean);
  const known = taskNames();
  for (const t of tasks) if (!known.includes(t)) throw new UsageError(`unknown task "${t}" in --tasks: choose from ${known.join(', ')}`);
  const backend = getBackend(parseBackendChoice(flags.backend ?? process.env.LOPT_BACKEND));
  let progress: ReturnType<typeof createProgress> | null = null;
  let rows: MetaGenRow[];
  try {
    rows = metaEvaluate({
      runDir: flags.run, tasks, every: flags.every, seeds: flags.seeds, steps: flags.steps, backend, dataDir: flags.dataDir,
      onRow: (row, done, total) => {
        progress ??= createProgress(total, 'meta-eval');
        progress.update(done, row.evalLoss ?? NaN);
      },
    });
  } finally {
    (progress as ReturnType<typeof createProgress> | null)?.stop();
  }
  const mine = rows.filter((r) => tasks.includes(r.evalTask) && r.steps === flags.steps);
  const lines = tasks.map((t) => {
    const own = mine.filter((r) => r.evalTask === t);
    const best = own.reduce<MetaGenRow | null>((b, r) => (r.evalLoss !== null && (b === null || r.evalLoss < b.evalLoss!) ? r : b), null);
    return `${t}: ${own.length} evaluations${best ? `, best ${best.evalLoss!.toFixed(4)} at outer step ${best.outerStep}` : ''}`;
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  if (flags.json) process.stdout.write(`${JSON.stringify({ run: flags.run, rows: mine })}\n`);
}
