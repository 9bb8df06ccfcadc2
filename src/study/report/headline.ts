// The headline table (issue 8): mean raw training loss over the final-evaluation seeds, mean ±
// standard error, per task and optimizer, and the wall-clock time each optimizer needs to reach a
// common target loss read from the mean evaluation curves; plus the baseline search that chose the
// hand-designed settings.
import type { TopLevelSpec } from 'vega-lite';
import type { BestConfigRow, CurveRow } from '../db.js';
import type { FillCommands } from './commands.js';
import { groupMeanCurve, seedRange, type EvalGroup, type TaskView } from './groups.js';
import { escapeHtml, figure, missingNote, table, type Section } from './html.js';
import { renderSvg } from './render.js';
import { firstReaching, smoothCurve, smoothingWindow } from './stats.js';

export interface HeadlineRow {
  label: string;
  optimizer: string;
  trained: boolean;
  hparams: string;
  weights: string | null;
  seeds: string;
  runs: number;
  diverged: number;
  meanLoss: number;
  stdErr: number;
  /** Loss at the end of the smoothed mean curve (NaN without curves). */
  finalCurveLoss: number;
  curveRuns: number;
  /** Mean wall-clock seconds (and the step) at which the smoothed mean curve first reaches the target. */
  secondsToTarget: number | null;
  stepsToTarget: number | null;
}

export interface Headline {
  rows: HeadlineRow[];
  /** The common target: the highest final smoothed mean-curve loss among the trained 1x optimizers that never diverged. */
  target: number | null;
  targetSetBy: string | null;
  smoothingSteps: number | null;
}

/** The headline numbers of one view: its 1x configurations (2x/3x runs answer a different question). */
export function headline(groups: readonly EvalGroup[], curves: Map<number, CurveRow[]>): Headline {
  const base = groups.filter((g) => g.stepMultiplier === 1);
  let window: number | null = null;
  const smoothed = base.map((g) => {
    const { curve, runs } = groupMeanCurve(g, curves);
    const w = smoothingWindow(curve.length);
    if (curve.length > 0) window = Math.max(window ?? 0, w);
    const s = smoothCurve(curve, w);
    return { group: g, curve: s, runs, final: s.length ? s[s.length - 1].loss : NaN };
  });
  let target: number | null = null;
  let targetSetBy: string | null = null;
  for (const s of smoothed) {
    if (!s.group.trained || s.group.diverged > 0 || !Number.isFinite(s.final)) continue;
    if (target === null || s.final > target) {
      target = s.final;
      targetSetBy = s.group.label;
    }
  }
  const rows = smoothed.map(({ group: g, curve, runs, final }) => {
    const reached = target === null ? null : firstReaching(curve, target);
    return {
      label: g.label, optimizer: g.optimizer, trained: g.trained, hparams: g.hparams, weights: g.runs[0].weights,
      seeds: seedRange(g.seeds), runs: g.runs.length, diverged: g.diverged, meanLoss: g.meanLoss, stdErr: g.stdErr,
      finalCurveLoss: final, curveRuns: runs, secondsToTarget: reached?.wallSeconds ?? null, stepsToTarget: reached?.step ?? null,
    };
  });
  return { rows, target, targetSetBy, smoothingSteps: window };
}

function spec(view: TaskView, h: Headline): TopLevelSpec {
  const values = h.rows.filter((r) => Number.isFinite(r.meanLoss)).map((r) => ({
    optimizer: r.trained ? r.label : `${r.label} (untrained)`, loss: r.meanLoss,
    lo: r.meanLoss - (Number.isFinite(r.stdErr) ? r.stdErr : 0), hi: r.meanLoss + (Number.isFinite(r.stdErr) ? r.stdErr : 0),
    seconds: r.secondsToTarget,
  }));
  const y = { field: 'optimizer', type: 'nominal', title: null, sort: { field: 'loss', order: 'ascending' } };
  const panels: unknown[] = [{
    title: `${view.title}: mean training loss ± s.e.`, width: 340, height: { step: 22 }, data: { values },
    layer: [
      { mark: { type: 'rule', color: '#555' }, encoding: { y, x: { field: 'lo', type: 'quantitative', scale: { zero: false }, title: 'mean training loss' }, x2: { field: 'hi' } } },
      { mark: { type: 'point', filled: true, size: 60, color: '#1f77b4' }, encoding: { y, x: { field: 'loss', type: 'quantitative' } } },
    ],
  }];
  if (h.target !== null && values.some((v) => v.seconds !== null)) {
    panels.push({
      title: `wall-clock seconds to reach loss ${h.target.toPrecision(4)}`, width: 300, height: { step: 22 },
      data: { values: values.filter((v) => v.seconds !== null) },
      mark: { type: 'bar', color: '#ff7f0e' },
      encoding: { y: { ...y, sort: { field: 'seconds', order: 'ascending' } }, x: { field: 'seconds', type: 'quantitative', title: 'seconds (mean over seeds)' } },
    });
  }
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', hconcat: panels } as unknown as TopLevelSpec;
}

export async function headlineSection(
  views: { view: TaskView; groups: EvalGroup[] }[], curves: Map<number, CurveRow[]>, best: BestConfigRow[],
  search: { runs: number; diverged: number }, commands: FillCommands,
): Promise<{ section: Section; plots: string[] }> {
  const intro = 'Mean raw training loss of the final evaluation runs (their seeds are never used to select anything), mean ± standard error over seeds, per task and optimizer, hand-designed optimizers at their best searched settings. Time to target: each optimizer\'s evaluation curves are averaged over seeds step by step and smoothed with a trailing moving average; the target is the highest final smoothed loss among the trained optimizers that never diverged, so every one of them reaches it; the time is the mean wall-clock time since the start of the run at the first step where the smoothed mean curve is at or below it.';
  const base = { id: 'headline', title: 'Headline: tuned baselines vs learned optimizers', intro };
  const parts: string[] = [];
  const plots: string[] = [];
  const missing: string[] = [];
  if (views.length === 0) {
    parts.push(missingNote('no evaluation runs in the database.', commands.study));
    missing.push('headline: evaluation runs');
  }
  for (const { view, groups } of views) {
    const h = headline(groups, curves);
    if (h.rows.length === 0) continue;
    parts.push(`<h3>${escapeHtml(view.title)}</h3>`);
    const svg = await renderSvg(spec(view, h));
    plots.push(`headline: ${view.title}`);
    parts.push(figure(svg, `Headline, ${view.title}: mean loss over the evaluation seeds (± s.e.) and time to the common target loss.`));
    if (h.target === null) {
      parts.push(missingNote(`no evaluation curves for ${view.title}, so no time to a target loss.`, commands.curves));
      missing.push(`headline curves: ${view.title}`);
    } else {
      parts.push(`<p class="meta">Target loss ${escapeHtml(h.target.toPrecision(4))} (the final smoothed mean-curve loss of ${escapeHtml(h.targetSetBy ?? '')}); moving-average window ${h.smoothingSteps} step${h.smoothingSteps === 1 ? '' : 's'}.</p>`);
    }
    parts.push(table(
      ['optimizer', 'settings', 'seeds', 'diverged', 'mean loss', '± s.e.', 'final smoothed loss', 'seconds to target', 'steps to target'],
      h.rows.map((r) => [
        r.trained ? r.label : `${r.label} (untrained)`, settingsText(r), r.seeds, `${r.diverged} of ${r.runs}`, Number.isFinite(r.meanLoss) ? r.meanLoss : 'all diverged', r.stdErr,
        r.finalCurveLoss, r.secondsToTarget ?? (h.target === null ? null : 'not reached'), r.stepsToTarget ?? (h.target === null ? null : 'not reached'),
      ]),
      `Headline numbers, ${view.title}`,
    ));
  }
  parts.push('<h3>Baseline search</h3>');
  if (best.length === 0) {
    parts.push(missingNote('no baseline search results (best_configs table).', commands.study));
    missing.push('baseline search');
  } else {
    parts.push(`<p class="meta">${search.runs} search runs, ${search.diverged} of them diverged (counted as failures). Best configuration per task, optimizer and run length by the mean over search seeds of the mean raw training loss, among configurations that diverged on no seed.</p>`);
    parts.push(table(
      ['task', 'optimizer', 'steps', 'best mean loss (search seeds)', 'configurations tried', 'diverged', 'hyperparameters'],
      best.map((b) => [b.task, b.optimizer, b.steps, b.mean_loss, b.configs_tried, b.configs_diverged, b.hparams]),
      'Baseline search results',
    ));
  }
  return { section: { ...base, body: parts.join('\n'), ...(missing.length ? { missing: missing.join('; ') } : {}) }, plots };
}

function settingsText(r: HeadlineRow): string {
  const weights = r.weights ? ` weights ${r.weights.startsWith('untrained') ? r.weights : r.weights.slice(0, 12)}` : '';
  return `${r.hparams}${weights}`;
}
