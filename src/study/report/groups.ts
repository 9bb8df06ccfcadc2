// The evaluation runs grouped the way the report shows them: one "view" per (task, task options,
// base step budget), inside it one group per optimizer configuration (label) with its seeds.
import type { CurveRow, RunRow } from '../db.js';
import { mean, meanCurve, standardError, type CurvePoint } from './stats.js';

export interface TaskView {
  key: string;
  task: string;
  /** Canonical JSON of the task options ('{}' for the task's defaults). */
  taskOpts: string;
  /** Steps of a 1x run: a k-times run (adam@2x) belongs to the view of steps / k. */
  baseSteps: number;
  title: string;
}

export interface EvalGroup {
  view: TaskView;
  label: string;
  optimizer: string;
  trained: boolean;
  stepMultiplier: number;
  steps: number;
  hparams: string;
  runs: RunRow[];
  /** Runs that finished with a finite loss. */
  finished: RunRow[];
  diverged: number;
  seeds: number[];
  /** Mean over finished runs of the mean raw training loss (NaN when none finished). */
  meanLoss: number;
  stdErr: number;
}

/** A label without its step multiplier: `adam@2x` → `adam`. */
export function baseLabel(label: string): string {
  return label.replace(/@[\d.]+x$/, '');
}

export function viewOf(run: Pick<RunRow, 'task' | 'task_opts' | 'steps' | 'step_multiplier'>): TaskView {
  const baseSteps = Math.round(run.steps / (run.step_multiplier || 1));
  const opts = normaliseOpts(run.task_opts);
  const title = `${run.task}${opts === '{}' ? '' : ` ${opts}`}, ${baseSteps} steps`;
  return { key: `${run.task}|${opts}|${baseSteps}`, task: run.task, taskOpts: opts, baseSteps, title };
}

/** Task options as canonical text, so `{}` and `{ }` (or key order) never split a view. */
export function normaliseOpts(text: string): string {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    return JSON.stringify(Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]])));
  } catch {
    return text;
  }
}

/** Views in a stable order (task, options, steps) with their groups in label order (1x before 2x). */
export function groupEvalRuns(runs: readonly RunRow[]): { view: TaskView; groups: EvalGroup[] }[] {
  const views = new Map<string, { view: TaskView; byLabel: Map<string, RunRow[]> }>();
  for (const run of runs) {
    const view = viewOf(run);
    let entry = views.get(view.key);
    if (!entry) views.set(view.key, (entry = { view, byLabel: new Map() }));
    const list = entry.byLabel.get(run.label);
    if (list) list.push(run);
    else entry.byLabel.set(run.label, [run]);
  }
  // The task's defaults first: those are the paper's settings.
  const defaultsFirst = (v: TaskView) => (v.taskOpts === '{}' ? 0 : 1);
  const sorted = [...views.values()].sort((a, b) => a.view.task.localeCompare(b.view.task)
    || defaultsFirst(a.view) - defaultsFirst(b.view) || a.view.taskOpts.localeCompare(b.view.taskOpts) || a.view.baseSteps - b.view.baseSteps);
  return sorted.map(({ view, byLabel }) => ({
    view,
    groups: [...byLabel.entries()].map(([label, list]) => makeGroup(view, label, list))
      .sort((a, b) => a.stepMultiplier - b.stepMultiplier || a.label.localeCompare(b.label)),
  }));
}

function makeGroup(view: TaskView, label: string, runs: RunRow[]): EvalGroup {
  const ordered = [...runs].sort((a, b) => a.seed - b.seed);
  const finished = ordered.filter((r) => r.status === 'done' && r.mean_loss !== null && Number.isFinite(r.mean_loss));
  const losses = finished.map((r) => r.mean_loss as number);
  const first = ordered[0];
  return {
    view, label, optimizer: first.optimizer,
    // One untrained seed makes the whole configuration untrained: it must stay off the frontier.
    trained: ordered.every((r) => r.trained === 1),
    stepMultiplier: first.step_multiplier, steps: first.steps, hparams: first.hparams,
    runs: ordered, finished, diverged: ordered.length - finished.length, seeds: ordered.map((r) => r.seed),
    meanLoss: mean(losses), stdErr: standardError(losses),
  };
}

/** The mean curve of a group's finished runs that have curves (diverged runs are counted, not averaged). */
export function groupMeanCurve(group: EvalGroup, curves: Map<number, CurveRow[]>): { curve: CurvePoint[]; runs: number } {
  const per = group.finished.map((r) => curves.get(r.id)).filter((c): c is CurveRow[] => c !== undefined && c.length > 0)
    .map((c) => c.map((p) => ({ step: p.step, loss: p.loss ?? NaN, wallSeconds: p.wall_seconds })));
  return { curve: meanCurve(per), runs: per.length };
}

/** "1000–1004" for consecutive seeds, else a comma list. */
export function seedRange(seeds: readonly number[]): string {
  if (seeds.length === 0) return '–';
  const s = [...seeds].sort((a, b) => a - b);
  const consecutive = s.every((v, i) => i === 0 || v === s[i - 1] + 1);
  return consecutive && s.length > 2 ? `${s[0]}–${s.at(-1)}` : s.join(', ');
}
