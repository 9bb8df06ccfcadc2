// Table 1 of the paper on this machine: for each model, its parameter count and the median step time
// of SGD and of small_fc_lopt (blocks of steps of each alternating in one process, from the same
// parameters and batches: measureOverhead), and their ratio, beside the paper's numbers (TPUv2).
// Generic over tasks and task options: the paper's four models by default, any others by name.
import type { Backend } from '../engine/backend.js';
import { getTask } from '../tasks/registry.js';
import { canonicalJson, type ResultsDb } from './db.js';
import { buildOptimizer, type OptimizerSpec } from './optimizer-spec.js';
import { measureOverhead, type TimingSettings } from './overhead.js';

/** One row of the table: a task at some options, and the paper's numbers for it when it has them. */
export interface Table1Model {
  /** The row's name (the paper's model, or the spec it was given as). */
  model: string;
  task: string;
  taskOpts: Record<string, number | string | boolean>;
  paper?: { params: number; ratio: number };
}

/** Table 1's transformer: byte-level, hidden 768, 6 layers, 12 heads. */
const TRANSFORMER = { layers: 6, width: 768, heads: 12 };

/** The paper's Table 1 (measured on TPUv2): small_fc_lopt's step time over SGD's. */
export const PAPER_TABLE1: readonly Table1Model[] = [
  { model: 'ResNet18, batch 128', task: 'resnet18-v2', taskOpts: { batchSize: 128 }, paper: { params: 11.7e6, ratio: 1.13 } },
  { model: 'ResNet50, batch 32', task: 'resnet50-v2', taskOpts: { batchSize: 32 }, paper: { params: 25.6e6, ratio: 1.39 } },
  { model: 'Transformer L=256, batch 16', task: 'transformer-byte', taskOpts: { seqLen: 256, batchSize: 16, ...TRANSFORMER }, paper: { params: 43.1e6, ratio: 1.45 } },
  { model: 'Transformer L=512, batch 2', task: 'transformer-byte', taskOpts: { seqLen: 512, batchSize: 2, ...TRANSFORMER }, paper: { params: 43.1e6, ratio: 2.39 } },
];

/** Medians over 10 timed steps of each optimizer, single steps alternating, after one untimed step each. */
export const TABLE1_TIMING: TimingSettings = { warmup: 1, rounds: 10, block: 1 };

/**
 * A model given on the command line: `task` or `task:key=value,key=value` (task options, numbers where
 * they parse as one). The paper's numbers come along when the spec names one of its rows exactly.
 */
export function parseTable1Model(spec: string): Table1Model {
  const [task, opts = ''] = spec.split(':', 2);
  if (!task) throw new Error(`bad Table 1 model "${spec}": expected TASK or TASK:key=value,key=value`);
  const taskOpts: Table1Model['taskOpts'] = {};
  for (const pair of opts.split(',').filter((p) => p !== '')) {
    const match = /^([A-Za-z_]\w*)=(.+)$/.exec(pair);
    if (!match) throw new Error(`bad Table 1 model "${spec}": "${pair}" is not key=value`);
    const [, key, raw] = match;
    taskOpts[key] = raw === 'true' || raw === 'false' ? raw === 'true' : Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  const paper = PAPER_TABLE1.find((m) => m.task === task && canonicalJson(m.taskOpts) === canonicalJson(taskOpts));
  return paper ?? { model: spec, task, taskOpts };
}

export interface Table1Result {
  model: string;
  task: string;
  taskOpts: Table1Model['taskOpts'];
  params: number;
  sgdMsPerStep: number;
  loptMsPerStep: number;
  /** small_fc_lopt's step time over SGD's. */
  ratio: number;
  /** Timed steps of each optimizer. */
  timings: number;
  /** Threads of the backend's kernels and BLAS during the measurement. */
  threads: number;
  paper?: Table1Model['paper'];
}

/** Where and how a row is timed. */
export interface Table1Setup {
  backend: Backend;
  dataDir?: string;
  /** Default TABLE1_TIMING. */
  settings?: TimingSettings;
}

/** Times one row on a task built for it alone (dropped after: a paper-size model holds gigabytes). */
export function measureTable1Row(model: Table1Model, lopt: OptimizerSpec, setup: Table1Setup): Table1Result {
  const { backend } = setup;
  const task = getTask(model.task, { ...model.taskOpts, backend, dataDir: setup.dataDir });
  const m = measureOverhead(task, buildOptimizer(lopt, backend), backend, setup.settings ?? TABLE1_TIMING);
  return {
    model: model.model, task: model.task, taskOpts: model.taskOpts, params: task.paramCount,
    sgdMsPerStep: m.sgdMsPerStep, loptMsPerStep: m.msPerStep, ratio: m.overhead, timings: m.repeats,
    threads: backend.threads?.() ?? 1, ...(model.paper ? { paper: model.paper } : {}),
  };
}

export interface Table1RunOptions extends Table1Setup {
  where: { backend: string; machine: string };
  shouldStop?: () => boolean;
  onMeasure?: (result: Table1Result) => void;
}

/** Times every model not yet in the table1 table, one at a time in this thread, and records each. */
export function runTable1(db: ResultsDb, models: readonly Table1Model[], lopt: OptimizerSpec, options: Table1RunOptions): { measured: number; remaining: number } {
  const todo = models.filter((m) => !db.hasTable1(m.task, canonicalJson(m.taskOpts), lopt.label));
  let measured = 0;
  for (const model of todo) {
    if (options.shouldStop?.()) break;
    const r = measureTable1Row(model, lopt, options);
    db.upsertTable1({
      model: r.model, task: r.task, task_opts: canonicalJson(r.taskOpts), label: lopt.label, params: r.params,
      sgd_ms_per_step: r.sgdMsPerStep, lopt_ms_per_step: r.loptMsPerStep, ratio: r.ratio, timings: r.timings,
      threads: r.threads, paper_params: r.paper?.params ?? null, paper_ratio: r.paper?.ratio ?? null,
      backend: options.where.backend, machine: options.where.machine, measured_at: new Date().toISOString(),
    });
    measured++;
    options.onMeasure?.(r);
  }
  return { measured, remaining: todo.length - measured };
}
