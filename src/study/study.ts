// The whole tradeoff study, resumably: search → evaluation → overhead → memory (→ variants), every
// finished run or measurement in the results database at once, then the report. Rerunning the same
// configuration continues where it stopped (finished runs are skipped by config_key).
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { getBackend, parseBackendChoice } from '../engine/select.js';
import { learned } from '../learned/registry.js';
import { getTask, taskNames } from '../tasks/registry.js';
import { budgetFor, deadlineFrom, formatDuration, measureStepTimes, memorySeconds, runSeconds, timingSeconds } from './budget.js';
import { canonicalJson, DEFAULT_DB_PATH, openResultsDb, type BestConfigRow, type ResultsDb } from './db.js';
import { planEval, runEval, STEP_MULTIPLIERS, supersededRuns } from './evaluate.js';
import { machineJson } from './machine.js';
import { runMemory } from './memory.js';
import { handDesignedSpec, isHandDesigned, isKnownOptimizer, multipliedSpec, optimizerSpec, type OptimizerSpec } from './optimizer-spec.js';
import { STUDY_PHASES, type StudyPhase } from './phases.js';
import { DEFAULT_TIMING, runOverhead, timingPoints, type TimingPoint } from './overhead.js';
import { RunPool } from './pool.js';
import { writeReport, type ReportResult } from './report/index.js';
import { loadRenderer } from './report/render.js';
import { TaskCache } from './run-job.js';
import { isSearchable, LR_GRID } from './search-space.js';
import { pendingJobs, planSearch, runSearch, type PhaseResult } from './search.js';
import { DEFAULT_EVAL_SEEDS, DEFAULT_SEARCH_SEEDS, evalSeeds } from './seeds.js';
import { runVariants, type VariantSpec } from './variants.js';
import { PAPER_TABLE1, parseTable1Model, runTable1, TABLE1_TIMING } from './table1.js';

export { STUDY_PHASES, type StudyPhase } from './phases.js';

export const DEFAULT_STUDY_TASKS = ['fmnist-mlp', 'cifar10-conv'];
export const DEFAULT_STUDY_OPTIMIZERS = ['sgd', 'sgdm', 'adam', 'nadamw', 'small_fc_lopt', 'nn_adam', 'fc_lopt', 'rnn_fc_lopt'];

const timingSchema = z.object({
  warmup: z.number().int().min(0),
  rounds: z.number().int().positive(),
  block: z.number().int().positive(),
});

export const studyConfigSchema = z.object({
  tasks: z.array(z.string().min(1)).min(1).default(DEFAULT_STUDY_TASKS),
  optimizers: z.array(z.string().min(1)).min(1).default(DEFAULT_STUDY_OPTIMIZERS),
  /** Configurations per (task, optimizer); default: per task (src/study/budget.ts). */
  budget: z.number().int().positive().optional(),
  /** Final-evaluation seeds (1000, 1001, …). */
  evalSeeds: z.number().int().min(1).max(1000).default(DEFAULT_EVAL_SEEDS),
  /** Search seeds (2000, 2001, …). */
  searchSeeds: z.number().int().min(1).max(1000).default(DEFAULT_SEARCH_SEEDS),
  steps: z.number().int().positive().default(2000),
  db: z.string().min(1).default(DEFAULT_DB_PATH),
  /** Report folder (default: `report/` beside the database). */
  out: z.string().min(1).optional(),
  maxHours: z.number().positive().optional(),
  workers: z.number().int().positive().default(() => availableParallelism()),
  /** Learned optimizer name → weights file. */
  weights: z.record(z.string(), z.string()).default({}),
  backend: z.enum(['native', 'wasm', 'reference', 'auto']).default('auto'),
  dataDir: z.string().optional(),
  phases: z.array(z.enum(STUDY_PHASES)).optional(),
  /** Learning rates replacing the 15-value grid. */
  lrGrid: z.array(z.number().positive()).min(1).optional(),
  /** Step multiples of Adam and NAdamW in the evaluation. */
  multipliers: z.array(z.number().int().min(2)).default([...STEP_MULTIPLIERS]),
  timing: timingSchema.default(DEFAULT_TIMING),
  /** Also the Fig. 4 sweeps over batch size and width. */
  sweeps: z.boolean().default(true),
  batchSizes: z.array(z.number().int().positive()).optional(),
  widthValues: z.array(z.number().positive()).optional(),
  /** Short sweeps: only the values next to the task's default batch size and width. */
  sweepNear: z.number().int().positive().optional(),
  /** Steps of each memory child's training run. */
  memorySteps: z.number().int().positive().default(20),
  /** Child runs per memory measurement (the smallest peak is kept). */
  memoryRepeats: z.number().int().positive().default(5),
  variants: z.array(z.object({ sweep: z.enum(['features', 'width']), features: z.string(), hidden: z.number().int().positive() })).optional(),
  metaBudgetMinutes: z.number().positive().optional(),
  /** Task the variants are meta-trained and evaluated on (default: the first task). */
  variantTask: z.string().optional(),
  metaLr: z.number().positive().default(1e-4),
  metaSeed: z.number().int().min(0).default(0),
  metaNumTasks: z.number().int().positive().default(8),
  metaTruncLength: z.number().int().positive().default(20),
  /** Folder of the variants' meta-training runs (default: `variants/` beside the database). */
  variantsDir: z.string().optional(),
  /** Meta-training run folders shown in the report. */
  runDirs: z.array(z.string()).default([]),
  /** Table 1's models (`task` or `task:key=value,…`); default the paper's four. */
  table1Models: z.array(z.string().min(1)).min(1).optional(),
  table1Timing: timingSchema.default(TABLE1_TIMING),
}).strict();

export type StudyConfigInput = z.input<typeof studyConfigSchema>;
export type StudyConfig = z.output<typeof studyConfigSchema>;

/** `--preset smoke`: one small task, short runs, a grid subset, 2 seeds, few timings; a few minutes. */
export const SMOKE_PRESET: StudyConfigInput = {
  tasks: ['fmnist-mlp'],
  steps: 200,
  budget: 7,
  lrGrid: LR_GRID.slice(6, 13), // 1e-4 … 1e-1
  evalSeeds: 2,
  searchSeeds: 1,
  timing: { warmup: 1, rounds: 3, block: 2 },
  sweepNear: 1,
  memorySteps: 5,
  memoryRepeats: 3,
};

/** What the study reports while it runs (the CLI draws progress bars and prints lines). */
export interface StudyEvents {
  log?(line: string): void;
  phaseStart?(phase: StudyPhase, total: number): void;
  phaseTick?(phase: StudyPhase, detail: string): void;
  phaseEnd?(phase: StudyPhase): void;
}

export interface PhaseSummary extends PhaseResult {
  planned: number;
}

export interface StudyResult {
  db: string;
  stopped: boolean;
  stopReason: 'max-hours' | 'signal' | null;
  etaSeconds: number;
  elapsedSeconds: number;
  search: PhaseSummary;
  eval: PhaseSummary;
  overhead: { measured: number; remaining: number; planned: number };
  memory: { measured: number; remaining: number; planned: number };
  variants: { done: number; remaining: number; planned: number };
  table1: { measured: number; remaining: number };
  best: BestConfigRow[];
  /** Why some optimizer could not be evaluated (one line each). */
  missing: string[];
  report: ReportResult | null;
}

/** Validates a configuration (names of tasks, optimizers, weights) into its complete form. */
export function resolveStudyConfig(input: StudyConfigInput): StudyConfig {
  const parsed = studyConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`bad study setting ${issue.path.join('.') || ''}: ${issue.message}`);
  }
  const config = parsed.data;
  const known = taskNames();
  for (const task of config.tasks) if (!known.includes(task)) throw new Error(`unknown task "${task}" in --tasks; valid: ${known.join(', ')}`);
  for (const name of config.optimizers) {
    if (!isKnownOptimizer(name)) throw new Error(`unknown optimizer "${name}" in --optimizers; valid: sgd, sgdm, adam, nadamw, adafactor, ${learned.names.join(', ')}`);
  }
  for (const name of Object.keys(config.weights)) {
    if (!config.optimizers.includes(name)) throw new Error(`--weights names ${name}, which is not in --optimizers`);
    if (isHandDesigned(name)) throw new Error(`--weights applies to learned optimizers only (${name} is hand-designed)`);
  }
  for (const model of table1Models(config)) {
    if (!known.includes(model.task)) throw new Error(`unknown task "${model.task}" in --table1 ${model.model}; valid: ${known.join(', ')}`);
  }
  if (config.variants?.length) {
    if (config.metaBudgetMinutes === undefined) throw new Error('--variants needs --meta-budget-minutes M (the meta-training budget of each variant)');
    const task = config.variantTask ?? config.tasks[0];
    if (!known.includes(task)) throw new Error(`unknown task "${task}" for the variants; valid: ${known.join(', ')}`);
  }
  return config;
}

/** Table 1's rows: the models given, else the paper's; checked only when the phase runs. */
function table1Models(config: StudyConfig) {
  if (!config.phases?.includes('table1')) return [];
  return config.table1Models ? config.table1Models.map(parseTable1Model) : [...PAPER_TABLE1];
}

function phasesOf(config: StudyConfig): Set<StudyPhase> {
  if (config.phases) return new Set(config.phases);
  const phases = new Set<StudyPhase>(['search', 'eval', 'overhead', 'memory', 'report']);
  if (config.variants?.length) phases.add('variants');
  return phases;
}

/** The optimizers of a task as measured for overhead and memory: searched ones at their best settings. */
function measuredSpecs(db: ResultsDb, config: StudyConfig, task: string): OptimizerSpec[] {
  return config.optimizers.map((name) => {
    if (!isHandDesigned(name)) return optimizerSpec(name, {}, config.weights[name]);
    const best = isSearchable(name) ? db.bestConfig(task, name, config.steps) : undefined;
    return handDesignedSpec(name, best ? (JSON.parse(best.hparams) as Record<string, unknown>) : {});
  });
}

export async function runStudy(input: StudyConfigInput, events: StudyEvents = {}, externalStop: () => boolean = () => false): Promise<StudyResult> {
  const config = resolveStudyConfig(input);
  const phases = phasesOf(config);
  const started = Date.now();
  const log = (line: string) => events.log?.(line);
  const backendChoice = parseBackendChoice(config.backend);
  const backend = getBackend(backendChoice);
  const where = { backend: backend.name, machine: machineJson(backend) };
  // The optional packages the phases need (vega for the report, better-sqlite3 opening the
  // database): one missing is one line now, not after hours of runs.
  if (phases.has('report')) await loadRenderer();
  const db = openResultsDb(config.db);
  const tasks = new TaskCache(backend, config.dataDir);
  // Workers and memory children use the backend resolved here by name: one that cannot load it fails
  // loudly instead of quietly falling back, so a study never mixes backends under one label.
  const pool = new RunPool({ workers: config.workers, backend: backend.name, dataDir: config.dataDir });
  const deadline = deadlineFrom(config.maxHours, started);
  let stopReason: StudyResult['stopReason'] = null;
  const shouldStop = () => {
    if (stopReason) return true;
    if (externalStop()) stopReason = 'signal';
    else if (deadline !== null && Date.now() >= deadline) stopReason = 'max-hours';
    return stopReason !== null;
  };

  try {
    // ---- the plan and its ETA ----
    const groups = planSearch({
      tasks: config.tasks, optimizers: config.optimizers, steps: config.steps, searchSeeds: config.searchSeeds,
      budget: (task, optimizer) => budgetFor(task, optimizer, config.budget), lrGrid: config.lrGrid,
    });
    log(`study of ${config.tasks.join(', ')} × ${config.optimizers.join(', ')} at ${config.steps} steps, ${config.workers} worker${config.workers === 1 ? '' : 's'}, database ${config.db}`);
    const searchPending = phases.has('search') ? pendingJobs(db, groups) : [];
    const specsByTask = new Map(config.tasks.map((task) => [task, measuredSpecs(db, config, task)]));
    // Evaluation jobs as planned now (best settings unknown before the search: estimated at defaults).
    const evalEstimate = phases.has('eval') ? estimateEvalJobs(db, config, specsByTask) : [];
    const points = new Map(config.tasks.map((task) => [task, timingPoints(task, getTask(task, { backend, dataDir: config.dataDir }).batchSize, {
      sweeps: config.sweeps, batchSizes: config.batchSizes, widthValues: config.widthValues, near: config.sweepNear,
    })]));
    const timingTodo: [TimingPoint, OptimizerSpec][] = [];
    const memoryTodo: { task: string; label: string }[] = [];
    for (const task of config.tasks) {
      const specs = specsByTask.get(task)!;
      if (phases.has('overhead')) {
        for (const p of points.get(task)!) for (const s of specs) if (!db.hasTiming(task, canonicalJson(p.taskOpts), s.label)) timingTodo.push([p, s]);
      }
      if (phases.has('memory')) {
        const labels = new Set(['sgd', ...specs.map((s) => s.label)]);
        for (const label of labels) if (!db.hasMemory(task, label)) memoryTodo.push({ task, label });
      }
    }
    const variants: VariantSpec[] = phases.has('variants') ? config.variants ?? [] : [];
    const variantTask = config.variantTask ?? config.tasks[0];
    const variantsTodo = variants.filter((v) => !db.hasVariant(v.sweep, v.features, v.hidden, variantTask, config.metaBudgetMinutes ?? 0));
    const anyWork = searchPending.length + evalEstimate.length + timingTodo.length + memoryTodo.length + variantsTodo.length > 0;
    const times = anyWork ? measureStepTimes(db, tasks, config.tasks, [...specsByTask.values()].flat()) : new Map<string, number>();
    const eta = {
      search: runSeconds(searchPending, times, config.workers),
      eval: runSeconds(evalEstimate, times, config.workers),
      overhead: timingSeconds(timingTodo, times, config.timing),
      memory: memorySeconds(memoryTodo, config.memorySteps, times, config.workers) * config.memoryRepeats,
      variants: variantsTodo.length * ((config.metaBudgetMinutes ?? 0) * 60 + runSeconds(evalSeeds(config.evalSeeds).map(() => ({ task: variantTask, steps: config.steps, spec: { label: 'small_fc_lopt' } })), times, config.workers)),
    };
    const etaSeconds = eta.search + eta.eval + eta.overhead + eta.memory + eta.variants;
    const searchTotal = groups.reduce((n, g) => n + g.jobs.length, 0);
    log(`to do: search ${searchPending.length} of ${searchTotal} runs (~${formatDuration(eta.search)}), evaluation ~${evalEstimate.length} runs (~${formatDuration(eta.eval)}), ` +
      `${timingTodo.length} timings (~${formatDuration(eta.overhead)}), ${memoryTodo.length} memory runs (~${formatDuration(eta.memory)})` +
      (variants.length ? `, ${variantsTodo.length} variants (~${formatDuration(eta.variants)})` : ''));
    log(`ETA: ~${formatDuration(etaSeconds)}${deadline !== null ? ` (stopping cleanly after ${config.maxHours} h; rerun the same command to continue)` : ''}`);

    const phaseRun = (phase: StudyPhase) => ({
      where,
      shouldStop,
      onRun: (job: { task: string; spec: { label: string }; seed: number }, status: string) =>
        events.phaseTick?.(phase, `${job.task}/${job.spec.label} seed ${job.seed}${status === 'diverged' ? ' diverged' : ''}`),
    });

    // ---- search ----
    const search: PhaseSummary = { planned: searchPending.length, ran: 0, diverged: 0, remaining: searchPending.length };
    let best: BestConfigRow[] = db.bestConfigs();
    if (phases.has('search') && !shouldStop()) {
      events.phaseStart?.('search', searchPending.length);
      const result = await runSearch(db, pool, groups, phaseRun('search'));
      events.phaseEnd?.('search');
      Object.assign(search, { ran: result.ran, diverged: result.diverged, remaining: result.remaining });
      best = db.bestConfigs();
      for (const row of result.best) {
        log(`best ${row.task}/${row.optimizer} (${row.steps} steps): mean loss ${row.mean_loss.toFixed(4)} over ${row.configs_tried} configurations (${row.configs_diverged} diverged) at ${row.hparams}`);
      }
    }

    // ---- evaluation ----
    const evaluation: PhaseSummary = { planned: 0, ran: 0, diverged: 0, remaining: 0 };
    const missing: string[] = [];
    if (phases.has('eval') && !shouldStop()) {
      const plan = planEval(db, {
        tasks: config.tasks, optimizers: config.optimizers, steps: config.steps, evalSeeds: config.evalSeeds,
        weights: config.weights, multipliers: config.multipliers,
      });
      missing.push(...plan.missing);
      for (const line of plan.missing) log(`not evaluated: ${line}`);
      for (const entry of plan.entries) {
        if (!entry.spec.trained && entry.stepMultiplier === 1) log(`${entry.task}/${entry.spec.label}: no meta-trained weights (pass --weights ${entry.spec.optimizer}=FILE); evaluated untrained, kept off the Pareto frontier`);
      }
      const superseded = supersededRuns(db, plan.jobs);
      if (superseded.length > 0) {
        db.deleteRuns(superseded.map((r) => r.id));
        log(`replaced ${superseded.length} evaluation run${superseded.length === 1 ? '' : 's'} made at earlier settings (${[...new Set(superseded.map((r) => `${r.task}/${r.label}`))].join(', ')})`);
      }
      const finished = db.finishedKeys();
      const pending = plan.jobs.filter((j) => !finished.has(j.configKey));
      evaluation.planned = pending.length;
      events.phaseStart?.('eval', pending.length);
      const result = await runEval(db, pool, plan.jobs, phaseRun('eval'));
      events.phaseEnd?.('eval');
      Object.assign(evaluation, result);
    }

    // ---- overhead ----
    const overhead = { measured: 0, remaining: 0, planned: timingTodo.length };
    if (phases.has('overhead') && !shouldStop()) {
      events.phaseStart?.('overhead', timingTodo.length);
      for (const task of config.tasks) {
        const result = runOverhead(db, tasks, points.get(task)!, measuredSpecs(db, config, task), {
          where, settings: config.timing, shouldStop,
          onMeasure: (point, spec, m) => events.phaseTick?.('overhead', `${task} ${JSON.stringify(point.taskOpts)} ${spec.label}: ${m.overhead.toFixed(2)}x SGD`),
        });
        overhead.measured += result.measured;
        overhead.remaining += result.remaining;
      }
      events.phaseEnd?.('overhead');
    }

    // ---- memory ----
    const memory = { measured: 0, remaining: 0, planned: memoryTodo.length };
    if (phases.has('memory') && !shouldStop()) {
      events.phaseStart?.('memory', memoryTodo.length);
      for (const task of config.tasks) {
        const result = await runMemory(db, [task], measuredSpecs(db, config, task), {
          steps: config.memorySteps, repeats: config.memoryRepeats, backend: backend.name, dataDir: config.dataDir, concurrency: config.workers, where, shouldStop,
          onMeasure: (t, spec, report) => events.phaseTick?.('memory', `${t}/${spec.label}: state ${report.stateBytes} bytes, peak RSS ${(report.peakRssBytes / 2 ** 20).toFixed(0)} MiB`),
        });
        memory.measured += result.measured;
        memory.remaining += result.remaining;
      }
      events.phaseEnd?.('memory');
    }

    // ---- variants ----
    const variantSummary = { done: 0, remaining: 0, planned: variantsTodo.length };
    if (variants.length && !shouldStop()) {
      events.phaseStart?.('variants', variantsTodo.length);
      const result = await runVariants(db, pool, tasks, variants, {
        task: variantTask, metaBudgetMinutes: config.metaBudgetMinutes!, steps: config.steps, evalSeeds: config.evalSeeds,
        runsDir: config.variantsDir ?? join(dirname(config.db), 'variants'), workers: config.workers, metaLr: config.metaLr,
        metaSeed: config.metaSeed, numTasks: config.metaNumTasks, truncLength: config.metaTruncLength, dataDir: config.dataDir,
        timing: config.timing, where, shouldStop,
        onStatus: (line) => {
          log(line);
          if (line.startsWith('variant ')) events.phaseTick?.('variants', line);
        },
      });
      events.phaseEnd?.('variants');
      Object.assign(variantSummary, result);
    }
    if (variants.length === 0 && phases.has('variants')) log('no --variants given: nothing to meta-train');

    // ---- Table 1 ----
    const table1 = { measured: 0, remaining: 0 };
    if (phases.has('table1') && !shouldStop()) {
      const models = table1Models(config);
      events.phaseStart?.('table1', models.length);
      // small_fc_lopt's step time does not depend on θ: meta-trained weights if given, else untrained.
      const lopt = optimizerSpec('small_fc_lopt', {}, config.weights.small_fc_lopt);
      Object.assign(table1, runTable1(db, models, lopt, {
        backend, dataDir: config.dataDir, where, settings: config.table1Timing, shouldStop,
        // A row of a paper-size model takes minutes: a line each, not only a tick.
        onMeasure: (r) => {
          const line = `Table 1 ${r.model}: ${r.params} parameters, SGD ${r.sgdMsPerStep.toFixed(1)} ms, small_fc_lopt ${r.loptMsPerStep.toFixed(1)} ms, ${r.ratio.toFixed(2)}x`;
          log(line);
          events.phaseTick?.('table1', line);
        },
      }));
      events.phaseEnd?.('table1');
    }

    const stopped = shouldStop();
    if (stopped) {
      log(stopReason === 'max-hours'
        ? `stopped after --max-hours ${config.maxHours}; every finished run is saved: rerun the same command to continue`
        : 'stopped; every finished run is saved: rerun the same command to continue');
    }

    // ---- report ----
    let report: ReportResult | null = null;
    if (phases.has('report')) {
      const outDir = config.out ?? join(dirname(config.db), 'report');
      report = await writeReport({ dbPath: config.db, outDir, runDirs: config.runDirs });
      log(`report: ${report.indexPath}`);
    }

    return {
      db: config.db, stopped, stopReason, etaSeconds, elapsedSeconds: (Date.now() - started) / 1000,
      search, eval: evaluation, overhead, memory, variants: variantSummary, table1, best, missing, report,
    };
  } finally {
    await pool.close();
    db.close();
  }
}

/** Evaluation jobs for the ETA: the plan if the search is done, else the same jobs at default settings. */
function estimateEvalJobs(db: ResultsDb, config: StudyConfig, specsByTask: Map<string, OptimizerSpec[]>): { task: string; steps: number; spec: { label: string } }[] {
  const seeds = evalSeeds(config.evalSeeds);
  const jobs: { task: string; steps: number; spec: { label: string } }[] = [];
  for (const [task, specs] of specsByTask) {
    const done = new Set(db.runs({ purpose: 'eval', task }).map((r) => `${r.label} ${r.steps} ${r.seed}`));
    for (const spec of specs) {
      const entries: [OptimizerSpec, number][] = [[spec, config.steps]];
      if (spec.optimizer === 'adam' || spec.optimizer === 'nadamw') for (const m of config.multipliers) entries.push([multipliedSpec(spec, m), config.steps * m]);
      for (const [s, steps] of entries) for (const seed of seeds) if (!done.has(`${s.label} ${steps} ${seed}`)) jobs.push({ task, steps, spec: s });
    }
  }
  return jobs;
}
