// Reads meta-training run folders (`lopt meta-train --out DIR`): metrics.jsonl's training rows and
// evaluation rows (or, where only a run's committed compact state is there, metrics-thin.jsonl's),
// metagen.jsonl's meta-generalization rows (`lopt meta-eval --run DIR`), baselines.json's
// hand-designed baselines on the run's evaluation keys (scripts/baselines-on-keys.mjs), and what θ's
// provenance says about the run (optimizer, task, settings).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { loadWeights } from '../../learned/weights.js';
import { METAGEN_FILE } from '../../meta/meta-eval.js';
import { METRICS_FILE, THIN_METRICS_FILE } from '../../meta/run.js';

/** `DIR/baselines.json`: hand-designed optimizers' mean loss on the run's own evaluation runs. */
export const BASELINES_FILE = 'baselines.json';

const baselinesSchema = z.object({
  baselines: z.array(z.object({ name: z.string().min(1), evalLoss: z.number() }).passthrough()),
}).passthrough();

// JSON has no NaN or Infinity: JSON.stringify writes them as null. A null loss is read back as NaN
// (meta-loss) or Infinity (an evaluation whose inner run diverged, which the learner records as ∞).
const nullable = z.number().nullable();

const trainRowSchema = z.object({
  outerStep: z.number().int().nonnegative(),
  thetaVersion: z.number().int().nonnegative(),
  metaLoss: nullable,
  gradNorm: nullable,
  innerStepsPerSec: nullable,
  nanCount: z.number().int().nonnegative(),
}).passthrough();

const evalRowSchema = z.object({
  outerStep: z.number().int().nonnegative(),
  thetaVersion: z.number().int().nonnegative(),
  evalTask: z.string().min(1),
  evalSeed: z.number().int(),
  evalLoss: nullable,
}).passthrough();

const metaGenRowSchema = z.object({
  outerStep: z.number().int().nonnegative(),
  evalTask: z.string().min(1),
  evalSeed: z.number().int(),
  steps: z.number().int().positive(),
  evalLoss: nullable,
}).passthrough();

export interface MetaTrainPoint {
  outerStep: number;
  metaLoss: number;
  gradNorm: number;
  innerStepsPerSec: number;
  nanCount: number;
}

export interface MetaEvalPoint {
  outerStep: number;
  evalTask: string;
  evalSeed: number;
  evalLoss: number;
}

export interface Baseline {
  name: string;
  evalLoss: number;
}

export interface MetaGenPoint extends MetaEvalPoint {
  steps: number;
}

export interface MetaRun {
  dir: string;
  /** Short display name: the folder's name, made unique among the runs given. */
  name: string;
  train: MetaTrainPoint[];
  evals: MetaEvalPoint[];
  /** Meta-generalization rows (metagen.jsonl; empty when `lopt meta-eval` has not run). */
  metagen: MetaGenPoint[];
  /** Hand-designed baselines on the run's evaluation keys (baselines.json; empty when absent). */
  baselines: Baseline[];
  /** The log read: metrics.jsonl, else the thinned one (every evaluation, every 100th step). */
  metricsFile: string;
  /** The task θ is meta-trained on: θ's provenance, else the only (or first) evaluation task. */
  metaTrainTask: string | null;
  optimizer: string | null;
  /** Estimator settings and outer steps as θ's provenance records them. */
  provenance: Record<string, unknown> | null;
}

export class RunFolderError extends Error {
  override name = 'RunFolderError';
}

/** Reads one run folder; a folder that is not a meta-training run is one clear error. */
export function readMetaRun(dir: string): MetaRun {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new RunFolderError(`--runs ${dir}: no such folder; pass a folder written by \`lopt meta-train --out DIR\``);
  }
  const metricsName = existsSync(join(dir, METRICS_FILE)) ? METRICS_FILE : THIN_METRICS_FILE;
  const metricsFile = join(dir, metricsName);
  if (!existsSync(metricsFile)) {
    throw new RunFolderError(`--runs ${dir}: no ${METRICS_FILE} (or ${THIN_METRICS_FILE}) in it; pass a folder written by \`lopt meta-train --out DIR\``);
  }
  const train: MetaTrainPoint[] = [];
  const evals: MetaEvalPoint[] = [];
  for (const { line, value } of readJsonLines(dir, metricsFile)) {
    const isEval = typeof value === 'object' && value !== null && 'evalTask' in value;
    const row = parseRow(dir, metricsName, line, isEval ? evalRowSchema : trainRowSchema, value);
    if (isEval) {
      const e = row as z.infer<typeof evalRowSchema>;
      evals.push({ outerStep: e.outerStep, evalTask: e.evalTask, evalSeed: e.evalSeed, evalLoss: e.evalLoss ?? Infinity });
    } else {
      const t = row as z.infer<typeof trainRowSchema>;
      train.push({
        outerStep: t.outerStep, metaLoss: t.metaLoss ?? NaN, gradNorm: t.gradNorm ?? NaN,
        innerStepsPerSec: t.innerStepsPerSec ?? NaN, nanCount: t.nanCount,
      });
    }
  }
  const metagenFile = join(dir, METAGEN_FILE);
  const metagen: MetaGenPoint[] = existsSync(metagenFile)
    ? readJsonLines(dir, metagenFile).map(({ line, value }) => {
      const r = parseRow(dir, METAGEN_FILE, line, metaGenRowSchema, value);
      return { outerStep: r.outerStep, evalTask: r.evalTask, evalSeed: r.evalSeed, steps: r.steps, evalLoss: r.evalLoss ?? Infinity };
    })
    : [];
  const baselinesFile = join(dir, BASELINES_FILE);
  let baselines: Baseline[] = [];
  if (existsSync(baselinesFile)) {
    const parsed = baselinesSchema.safeParse(readJsonFile(dir, baselinesFile));
    if (!parsed.success) throw new RunFolderError(`--runs ${dir}: ${BASELINES_FILE}: ${parsed.error.issues[0].path.join('.') || 'file'}: ${parsed.error.issues[0].message}; write it with scripts/baselines-on-keys.mjs`);
    baselines = parsed.data.baselines.map((b) => ({ name: b.name, evalLoss: b.evalLoss }));
  }
  const theta = thetaInfo(dir);
  const evalTasks = [...new Set(evals.map((e) => e.evalTask))];
  const fromProvenance = typeof theta?.provenance.task === 'string' ? theta.provenance.task : null;
  const metaTrainTask = fromProvenance && (evalTasks.length === 0 || evalTasks.includes(fromProvenance)) ? fromProvenance : evalTasks[0] ?? fromProvenance;
  return {
    dir: resolve(dir), name: basename(resolve(dir)), train, evals, metagen, baselines, metricsFile: metricsName, metaTrainTask,
    optimizer: theta?.optimizer ?? null, provenance: theta?.provenance ?? null,
  };
}

/** A whole JSON file; an unreadable or malformed one is one clear error. */
function readJsonFile(dir: string, file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new RunFolderError(`--runs ${dir}: cannot read ${basename(file)} as JSON (${(error as Error).message}); write it with scripts/baselines-on-keys.mjs`);
  }
}

/** The parsed lines of a JSON-lines file, with their 1-based line numbers. */
function readJsonLines(dir: string, file: string): { line: number; value: unknown }[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RunFolderError(`--runs ${dir}: cannot read ${basename(file)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check its permissions`);
  }
  const lines = text.split('\n');
  const out: { line: number; value: unknown }[] = [];
  lines.forEach((text, i) => {
    if (!text.trim()) return;
    try {
      out.push({ line: i + 1, value: JSON.parse(text) });
    } catch {
      // A run still being written may end in a partial line: only the last line may be cut short.
      if (i === lines.length - 1) return;
      throw new RunFolderError(`--runs ${dir}: ${basename(file)} line ${i + 1} is not JSON; pass a folder written by \`lopt meta-train --out DIR\``);
    }
  });
  return out;
}

function parseRow<S extends z.ZodTypeAny>(dir: string, file: string, line: number, schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RunFolderError(`--runs ${dir}: ${file} line ${line}: ${issue.path.join('.') || 'row'}: ${issue.message}; pass a folder written by \`lopt meta-train --out DIR\``);
  }
  return parsed.data;
}

/** θ's manifest (latest, else best); a run that has not checkpointed yet has neither. */
function thetaInfo(dir: string): { optimizer: string; provenance: Record<string, unknown> } | null {
  for (const file of ['theta-latest', 'theta-best']) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    try {
      const weights = loadWeights(path);
      return { optimizer: weights.optimizer, provenance: weights.provenance };
    } catch {
      // A damaged θ file does not hide the metrics: the report just lacks the provenance line.
    }
  }
  return null;
}

/** Reads every folder, giving runs with the same folder name distinct display names. */
export function readMetaRuns(dirs: readonly string[]): MetaRun[] {
  const runs = dirs.map(readMetaRun);
  const seen = new Map<string, number>();
  for (const run of runs) {
    const n = (seen.get(run.name) ?? 0) + 1;
    seen.set(run.name, n);
    if (n > 1) run.name = `${run.name} (${n})`;
  }
  return runs;
}
