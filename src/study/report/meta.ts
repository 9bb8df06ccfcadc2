// Meta-training sections: meta-loss and evaluation loss against outer step for each run folder, and
// meta-generalization (issue 8): meta-train vs meta-test loss per checkpoint (the paper's "C"
// curves) and the transfer table, for runs whose evaluations cover several tasks.
import type { TopLevelSpec } from 'vega-lite';
import type { FillCommands } from './commands.js';
import type { EvalGroup, TaskView } from './groups.js';
import { escapeHtml, figure, folded, missingNote, table, type Section } from './html.js';
import type { MetaEvalPoint, MetaRun } from './meta-runs.js';
import { renderSvg } from './render.js';
import { groupBy, mean } from './stats.js';

/** Points per plotted meta-loss curve (consecutive outer steps averaged). */
export const META_POINTS = 300;

export interface Checkpoint {
  outerStep: number;
  /** Mean evaluation loss over seeds per task (Infinity when an evaluation diverged). */
  loss: Map<string, number>;
}

/** Evaluation rows gathered per outer step, in order (a run's metrics.jsonl evaluations by default). */
export function checkpoints(run: MetaRun, rows: readonly MetaEvalPoint[] = run.evals): Checkpoint[] {
  const byStep = groupBy(rows, (e) => String(e.outerStep));
  return [...byStep.values()].map((rows) => ({
    outerStep: rows[0].outerStep,
    loss: new Map([...groupBy(rows, (r) => r.evalTask)].map(([task, list]) => [task, mean(list.map((r) => r.evalLoss))])),
  })).sort((a, b) => a.outerStep - b.outerStep);
}

/** Meta-loss binned to at most `points` points (each the mean over consecutive outer steps). */
export function binnedMetaLoss(run: MetaRun, points = META_POINTS): { outerStep: number; metaLoss: number }[] {
  const rows = run.train.filter((r) => Number.isFinite(r.metaLoss));
  if (rows.length <= points) return rows.map((r) => ({ outerStep: r.outerStep, metaLoss: r.metaLoss }));
  const out: { outerStep: number; metaLoss: number }[] = [];
  for (let b = 0; b < points; b++) {
    const bin = rows.slice(Math.floor((b * rows.length) / points), Math.floor(((b + 1) * rows.length) / points));
    out.push({ outerStep: mean(bin.map((r) => r.outerStep)), metaLoss: mean(bin.map((r) => r.metaLoss)) });
  }
  return out;
}

function describe(run: MetaRun): string {
  const p = run.provenance ?? {};
  const estimator = p.estimator && typeof p.estimator === 'object'
    ? Object.entries(p.estimator as Record<string, unknown>).map(([k, v]) => `${k} ${String(v)}`).join(', ') : '';
  return [run.optimizer ?? 'unknown optimizer', run.metaTrainTask ? `on ${run.metaTrainTask}` : '', estimator ? `(${estimator})` : ''].filter(Boolean).join(' ');
}

export async function metaTrainingSection(runs: MetaRun[], commands: FillCommands): Promise<{ section: Section; plots: string[] }> {
  const base = {
    id: 'meta', title: 'Meta-training curves',
    intro: `For each meta-training run folder given with --runs: the meta-loss of every outer step (the mean normalised inner training loss of the truncations, binned to at most ${META_POINTS} points) and the evaluation loss of θ on the meta-training task (full inner runs on the run's reserved evaluation seeds, mean over seeds) against the outer step.`,
  };
  if (runs.length === 0) {
    return { section: { ...base, body: missingNote('no meta-training run folders were given.', commands.metaRuns), missing: 'meta-training: run folders (--runs)' }, plots: [] };
  }
  const metaValues = runs.flatMap((r) => binnedMetaLoss(r).map((p) => ({ run: r.name, ...p })));
  const evalValues = runs.flatMap((r) => checkpoints(r).flatMap((c) => {
    const loss = r.metaTrainTask ? c.loss.get(r.metaTrainTask) : undefined;
    return loss !== undefined && Number.isFinite(loss) ? [{ run: r.name, outerStep: c.outerStep, evalLoss: loss }] : [];
  }));
  const parts: string[] = [];
  const plots: string[] = [];
  const color = { field: 'run', type: 'nominal', title: 'run' };
  const panels: unknown[] = [];
  if (metaValues.length) {
    panels.push({ title: 'meta-loss vs outer step', width: 380, height: 280, data: { values: metaValues }, mark: { type: 'line', strokeWidth: 1.2 },
      encoding: { x: { field: 'outerStep', type: 'quantitative', title: 'outer step' }, y: { field: 'metaLoss', type: 'quantitative', title: 'meta-loss', scale: { zero: false } }, color } });
  }
  // Hand-designed baselines on the same evaluation runs (baselines.json), drawn as dashed lines.
  const baselineValues = runs.flatMap((r) => r.baselines.filter((b) => Number.isFinite(b.evalLoss)).map((b) => ({ baseline: runs.length > 1 ? `${b.name} (${r.name})` : b.name, evalLoss: b.evalLoss })));
  if (evalValues.length) {
    const curve = { data: { values: evalValues }, mark: { type: 'line', point: true },
      encoding: { x: { field: 'outerStep', type: 'quantitative', title: 'outer step' }, y: { field: 'evalLoss', type: 'quantitative', title: 'mean training loss (eval seeds)', scale: { zero: false } }, color } };
    const rules = { data: { values: baselineValues }, mark: { type: 'rule', strokeDash: [6, 4], color: '#555' },
      encoding: { y: { field: 'evalLoss', type: 'quantitative' }, strokeDash: { field: 'baseline', type: 'nominal', title: 'baseline (same evaluation runs)' } } };
    panels.push({ title: 'evaluation loss on the meta-training task', width: 380, height: 280, layer: baselineValues.length ? [curve, rules] : [curve] });
  }
  if (panels.length) {
    const svg = await renderSvg({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', hconcat: panels } as unknown as TopLevelSpec);
    plots.push('meta: training curves');
    parts.push(figure(svg, 'Meta-training: meta-loss and evaluation loss against outer step.'));
  }
  const missing = runs.filter((r) => r.train.length === 0).map((r) => r.name);
  if (missing.length) {
    parts.push(missingNote(`no outer steps recorded yet in ${missing.join(', ')}.`, commands.metaRuns));
  }
  parts.push(table(
    ['run', 'what', 'folder', 'outer steps', 'meta-loss (last 10 steps)', 'NaN entries', 'initial eval loss', 'best eval loss', 'at outer step', 'last eval loss'],
    runs.map((r) => {
      const cps = checkpoints(r).map((c) => ({ step: c.outerStep, loss: r.metaTrainTask ? c.loss.get(r.metaTrainTask) : undefined }))
        .filter((c): c is { step: number; loss: number } => c.loss !== undefined);
      const best = cps.reduce<{ step: number; loss: number } | null>((b, c) => (b === null || c.loss < b.loss ? c : b), null);
      const last10 = r.train.slice(-10).map((t) => t.metaLoss);
      return [r.name, describe(r), r.dir, r.train.length ? Math.max(...r.train.map((t) => t.outerStep)) + 1 : 0, last10.length ? mean(last10) : null,
        r.train.reduce((a, t) => a + t.nanCount, 0), cps[0]?.loss ?? null, best?.loss ?? null, best?.step ?? null, cps.at(-1)?.loss ?? null];
    }),
    'Meta-training runs',
  ));
  parts.push(folded('every plotted point', table(
    ['run', 'series', 'outer step', 'loss'],
    [...metaValues.map((v) => [v.run, 'meta-loss', v.outerStep, v.metaLoss]), ...evalValues.map((v) => [v.run, 'evaluation loss', v.outerStep, v.evalLoss]),
      ...baselineValues.map((v) => [v.baseline, 'baseline (dashed)', null, v.evalLoss])],
  )));
  return { section: { ...base, body: parts.join('\n') }, plots };
}

export interface Transfer {
  /** The meta-training task first, then the meta-test tasks. */
  tasks: string[];
  checkpoints: Checkpoint[];
  /** The checkpoint with the lowest meta-train-task loss among those evaluated on every task. */
  best: Checkpoint | null;
  /** Where the numbers come from. */
  source: string;
}

/**
 * The meta-generalization view of a run: its kept θ evaluated on the meta-training task and on
 * others. `lopt meta-eval` rows (metagen.jsonl) come first, at the run length most of them use so
 * that every checkpoint is compared at one length; the meta-training task's loss comes from them
 * too when meta-eval covered it, else from the run's own evaluations (metrics.jsonl). Without
 * metagen.jsonl, metrics.jsonl evaluations on several tasks serve.
 */
export function transfer(run: MetaRun): Transfer | null {
  const trainTask = run.metaTrainTask;
  if (!trainTask) return null;
  let rows: MetaEvalPoint[] = run.evals;
  let source = 'the run\'s own evaluations (metrics.jsonl)';
  if (run.metagen.length) {
    const counts = groupBy(run.metagen, (r) => String(r.steps));
    const steps = Number([...counts.entries()].sort((a, b) => b[1].length - a[1].length)[0][0]);
    rows = run.metagen.filter((r) => r.steps === steps);
    source = `lopt meta-eval (metagen.jsonl), ${steps}-step runs`;
    if (!rows.some((r) => r.evalTask === trainTask)) {
      rows = [...rows, ...run.evals.filter((e) => e.evalTask === trainTask)];
      source += `; ${trainTask} from the run's own evaluations (metrics.jsonl)`;
    }
  }
  const tasks = [...new Set(rows.map((e) => e.evalTask))];
  if (tasks.length < 2 || !tasks.includes(trainTask)) return null;
  const ordered = [trainTask, ...tasks.filter((t) => t !== trainTask).sort()];
  const cps = checkpoints(run, rows).filter((c) => c.loss.has(trainTask) && c.loss.size > 1);
  if (cps.length === 0) return null;
  const complete = cps.filter((c) => ordered.every((t) => c.loss.has(t)));
  const pool = complete.length ? complete : cps;
  const best = pool.reduce<Checkpoint | null>((b, c) => (b === null || c.loss.get(trainTask)! < b.loss.get(trainTask)! ? c : b), null);
  return { tasks: ordered, checkpoints: cps, best, source };
}

/** The tuned hand-designed optimizer with the lowest evaluation loss on a task (default options), if the study ran it. */
function bestHandDesigned(task: string, views: { view: TaskView; groups: EvalGroup[] }[]): EvalGroup | null {
  const hand = views.filter((v) => v.view.task === task && v.view.taskOpts === '{}')
    .flatMap((v) => v.groups.filter((g) => g.trained && g.stepMultiplier === 1 && g.runs[0].weights === null && Number.isFinite(g.meanLoss)));
  return hand.reduce<EvalGroup | null>((b, g) => (b === null || g.meanLoss < b.meanLoss ? g : b), null);
}

function cSpec(run: MetaRun, t: Transfer): TopLevelSpec {
  const trainTask = t.tasks[0];
  const values = t.checkpoints.flatMap((c) => t.tasks.slice(1).flatMap((task) => {
    const x = c.loss.get(trainTask)!;
    const y = c.loss.get(task);
    return y !== undefined && Number.isFinite(x) && Number.isFinite(y) ? [{ task, outerStep: c.outerStep, train: x, test: y }] : [];
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${run.name}: meta-train (${trainTask}) vs meta-test loss per checkpoint`,
    data: { values },
    facet: { field: 'task', type: 'nominal', title: 'meta-test task' },
    columns: 3,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 260, height: 220,
      layer: [
        { mark: { type: 'line', color: '#999', strokeWidth: 1 },
          encoding: { x: { field: 'train', type: 'quantitative', title: `loss on ${trainTask} (meta-train)`, scale: { zero: false } },
            y: { field: 'test', type: 'quantitative', title: 'loss on the meta-test task', scale: { zero: false } }, order: { field: 'outerStep', type: 'quantitative' } } },
        { mark: { type: 'point', filled: true, size: 50, opacity: 1 },
          encoding: { x: { field: 'train', type: 'quantitative' }, y: { field: 'test', type: 'quantitative' },
            color: { field: 'outerStep', type: 'quantitative', title: 'outer step', scale: { scheme: 'viridis' } } } },
      ],
    },
  } as unknown as TopLevelSpec;
}

export async function metaGeneralizationSection(
  runs: MetaRun[], views: { view: TaskView; groups: EvalGroup[] }[], commands: FillCommands,
): Promise<{ section: Section; plots: string[] }> {
  const base = {
    id: 'metagen', title: 'Meta-generalization: "C" curves and transfer',
    intro: 'For meta-training runs whose kept θ were also evaluated on other tasks (`lopt meta-eval --run DIR`): each panel plots, checkpoint by checkpoint (colour: outer step, early purple to late yellow), the loss on the meta-training task against the loss on one meta-test task; meta-overfitting shows as a "C": both improve early, then the meta-test loss turns back up while the meta-train loss keeps falling. The transfer table gives each task\'s loss at the first checkpoint, at the checkpoint best on the meta-training task (selected on that task only), at the last one, and the best tuned hand-designed optimizer of the study on that task.',
  };
  const usable = runs.map((r) => ({ run: r, t: transfer(r) })).filter((x): x is { run: MetaRun; t: Transfer } => x.t !== null);
  if (usable.length === 0) {
    const what = runs.length === 0 ? 'no meta-training run folders were given.' : 'no run folder has evaluations of its θ on other tasks (metagen.jsonl).';
    return { section: { ...base, body: missingNote(what, commands.metaGeneralization), missing: 'meta-generalization: multi-task evaluations' }, plots: [] };
  }
  const parts: string[] = [];
  const plots: string[] = [];
  for (const { run, t } of usable) {
    parts.push(`<h3>${escapeHtml(run.name)}</h3><p class="meta">${escapeHtml(describe(run))}; ${t.checkpoints.length} checkpoints evaluated on ${t.tasks.length} tasks; from ${escapeHtml(t.source)}.</p>`);
    const svg = await renderSvg(cSpec(run, t));
    plots.push(`metagen: ${run.name}`);
    parts.push(figure(svg, `Meta-generalization of ${run.name}: one panel (line) per meta-test task.`));
    const first = t.checkpoints[0];
    const last = t.checkpoints.at(-1)!;
    parts.push(table(
      ['task', 'role', `first checkpoint (outer step ${first.outerStep})`, `best on ${t.tasks[0]} (outer step ${t.best?.outerStep ?? '–'})`, `last checkpoint (outer step ${last.outerStep})`, 'best tuned hand-designed (study)'],
      t.tasks.map((task, i) => {
        const hand = bestHandDesigned(task, views);
        return [task, i === 0 ? 'meta-train' : 'meta-test', first.loss.get(task) ?? null, t.best?.loss.get(task) ?? null, last.loss.get(task) ?? null,
          hand ? `${hand.label}: ${hand.meanLoss.toPrecision(4)}` : null];
      }),
      `Transfer table, ${run.name}`,
    ));
    parts.push(folded(`every checkpoint, ${run.name}`, table(
      ['outer step', ...t.tasks],
      t.checkpoints.map((c) => [c.outerStep, ...t.tasks.map((task) => c.loss.get(task) ?? null)]),
    )));
  }
  return { section: { ...base, body: parts.join('\n') }, plots };
}
