// Fig. 5: learning curves of the evaluation runs, the mean over seeds, against step and against
// wall-clock time, downsampled for the plot (and its table) to a few hundred points per curve.
import type { TopLevelSpec } from 'vega-lite';
import type { CurveRow } from '../db.js';
import type { FillCommands } from './commands.js';
import { groupMeanCurve, type EvalGroup, type TaskView } from './groups.js';
import { escapeHtml, figure, folded, missingNote, table, type Section } from './html.js';
import { renderSvg } from './render.js';
import { downsample, type CurvePoint } from './stats.js';

/** Points per plotted curve: enough to show the shape, few enough to keep the page light. */
export const CURVE_POINTS = 150;

export interface PlottedCurve {
  label: string;
  runs: number;
  diverged: number;
  points: CurvePoint[];
}

export function plottedCurves(groups: readonly EvalGroup[], curves: Map<number, CurveRow[]>): PlottedCurve[] {
  return groups.map((g) => {
    const { curve, runs } = groupMeanCurve(g, curves);
    return { label: g.trained ? g.label : `${g.label} (untrained)`, runs, diverged: g.diverged, points: downsample(curve, CURVE_POINTS) };
  }).filter((c) => c.points.length > 0);
}

function spec(view: TaskView, curves: PlottedCurve[]): TopLevelSpec {
  const values = curves.flatMap((c) => c.points.filter((p) => Number.isFinite(p.loss)).map((p) => ({ optimizer: c.label, ...p })));
  const color = { field: 'optimizer', type: 'nominal', title: 'optimizer' };
  const y = { field: 'loss', type: 'quantitative', title: 'training loss (mean over seeds)', scale: { zero: false } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    hconcat: [
      { title: `${view.title}: loss vs step`, width: 380, height: 280, mark: { type: 'line', strokeWidth: 1.5 },
        encoding: { x: { field: 'step', type: 'quantitative', title: 'step' }, y, color } },
      { title: `${view.title}: loss vs wall-clock`, width: 380, height: 280, mark: { type: 'line', strokeWidth: 1.5 },
        encoding: { x: { field: 'wallSeconds', type: 'quantitative', title: 'wall-clock seconds' }, y, color } },
    ],
  } as unknown as TopLevelSpec;
}

export async function fig5Section(
  views: { view: TaskView; groups: EvalGroup[] }[], curves: Map<number, CurveRow[]>, commands: FillCommands,
): Promise<{ section: Section; plots: string[] }> {
  const intro = `Training loss of the evaluation runs, averaged over seeds step by step (runs that diverged are left out of the mean and counted), against step and against wall-clock seconds since the start of the run. Each curve is shown as at most ${CURVE_POINTS} points, each the mean of consecutive steps.`;
  const base = { id: 'fig5', title: 'Fig. 5: learning curves vs step and wall-clock', intro };
  const parts: string[] = [];
  const plots: string[] = [];
  const missing: string[] = [];
  for (const { view, groups } of views) {
    const plotted = plottedCurves(groups, curves);
    parts.push(`<h3>${escapeHtml(view.title)}</h3>`);
    if (plotted.length === 0) {
      parts.push(missingNote(`no evaluation curves for ${view.title}.`, commands.curves));
      missing.push(`Fig. 5: ${view.title}`);
      continue;
    }
    const svg = await renderSvg(spec(view, plotted));
    plots.push(`fig5: ${view.title}`);
    parts.push(figure(svg, `Fig. 5, ${view.title}: mean training loss over seeds.`));
    parts.push(table(['optimizer', 'runs averaged', 'diverged (left out)', 'points plotted'],
      plotted.map((c) => [c.label, c.runs, c.diverged, c.points.length]), `Curves, ${view.title}`));
    parts.push(folded(`every plotted point, ${view.title}`, table(
      ['optimizer', 'step', 'wall-clock seconds', 'loss'],
      plotted.flatMap((c) => c.points.map((p) => [c.label, p.step, p.wallSeconds, p.loss])),
    )));
  }
  if (views.length === 0) {
    parts.push(missingNote('no evaluation runs in the database.', commands.study));
    missing.push('Fig. 5: evaluation runs');
  }
  return { section: { ...base, body: parts.join('\n'), ...(missing.length ? { missing: missing.join('; ') } : {}) }, plots };
}
