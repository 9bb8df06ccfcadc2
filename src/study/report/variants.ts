// Fig. 2 (feature-set variants of feature_mlp_lopt) and Fig. 3 (its hidden width): loss against
// compute and memory, each variant meta-trained for a stated budget, with the tuned hand-designed
// optimizers of the same task as dashed reference lines.
import type { TopLevelSpec } from 'vega-lite';
import type { VariantRow } from '../db.js';
import type { FillCommands } from './commands.js';
import { groupBy } from './stats.js';
import type { EvalGroup, TaskView } from './groups.js';
import { escapeHtml, figure, missingNote, table, type Section } from './html.js';
import { renderSvg } from './render.js';

export interface Reference {
  label: string;
  loss: number;
  view: string;
}

/** Tuned hand-designed baselines of a task (default options, 1x runs) to draw as reference lines. */
export function references(task: string, views: { view: TaskView; groups: EvalGroup[] }[]): Reference[] {
  const candidates = views.filter((v) => v.view.task === task && v.view.taskOpts === '{}')
    .sort((a, b) => Math.abs(a.view.baseSteps - 2000) - Math.abs(b.view.baseSteps - 2000));
  const view = candidates[0];
  if (!view) return [];
  return view.groups.filter((g) => (g.label === 'nadamw' || g.label === 'adam') && Number.isFinite(g.meanLoss))
    .map((g) => ({ label: `${g.label} (tuned)`, loss: g.meanLoss, view: view.view.title }));
}

const budget = (v: VariantRow) => `${v.meta_budget_minutes} min meta-training`;

function lossLayers(refs: Reference[]) {
  if (refs.length === 0) return [];
  return [
    { data: { values: refs }, mark: { type: 'rule', strokeDash: [6, 4], color: '#666' }, encoding: { y: { field: 'loss', type: 'quantitative' } } },
    { data: { values: refs }, mark: { type: 'text', align: 'right', dy: -5, fontSize: 10, color: '#444' },
      encoding: { y: { field: 'loss', type: 'quantitative' }, x: { value: 375 }, text: { field: 'label' } } },
  ];
}

function featuresSpec(task: string, rows: VariantRow[], refs: Reference[]): TopLevelSpec {
  const values = rows.filter((r) => r.mean_loss !== null && Number.isFinite(r.mean_loss)).map((r) => ({
    features: r.features, budget: budget(r), loss: r.mean_loss, overhead: r.overhead, memory: r.state_bytes_per_param,
  }));
  const y = { field: 'loss', type: 'quantitative', title: 'mean training loss', scale: { zero: false } };
  const color = { field: 'budget', type: 'nominal', title: 'budget' };
  const panel = (field: string, title: string, xTitle: string) => ({
    title, width: 380, height: 300,
    layer: [
      { data: { values }, mark: { type: 'point', filled: true, size: 60 },
        encoding: { x: { field, type: 'quantitative', title: xTitle, scale: { zero: false } }, y, color } },
      { data: { values }, mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 10, color: '#333' },
        encoding: { x: { field, type: 'quantitative' }, y, text: { field: 'features' } } },
      ...lossLayers(refs),
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    hconcat: [
      panel('overhead', `${task}: feature sets, loss vs time per step`, 'time per step / SGD step time'),
      panel('memory', `${task}: feature sets, loss vs memory`, 'optimizer state, bytes per parameter'),
    ],
  } as unknown as TopLevelSpec;
}

function widthSpec(task: string, rows: VariantRow[], refs: Reference[]): TopLevelSpec {
  const values = rows.map((r) => ({
    series: `${r.features}, ${budget(r)}`, hidden: r.hidden, loss: r.mean_loss !== null && Number.isFinite(r.mean_loss) ? r.mean_loss : null,
    overhead: r.overhead,
  }));
  const hidden = [...new Set(rows.map((r) => r.hidden))].sort((a, b) => a - b);
  const x = { field: 'hidden', type: 'quantitative', title: 'hidden units', scale: { type: 'log', base: 2 }, axis: { values: hidden, format: 'd' } };
  const color = { field: 'series', type: 'nominal', title: 'features, budget' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    hconcat: [
      { title: `${task}: loss vs width`, width: 380, height: 300,
        layer: [
          { data: { values: values.filter((v) => v.loss !== null) }, mark: { type: 'line', point: true },
            encoding: { x, y: { field: 'loss', type: 'quantitative', title: 'mean training loss', scale: { zero: false } }, color } },
          ...lossLayers(refs),
        ] },
      { title: `${task}: time per step vs width`, width: 380, height: 300, data: { values }, mark: { type: 'line', point: true },
        encoding: { x, y: { field: 'overhead', type: 'quantitative', title: 'time per step / SGD step time', scale: { zero: false } }, color } },
    ],
  } as unknown as TopLevelSpec;
}

export async function variantsSection(
  sweep: 'features' | 'width', rows: VariantRow[], views: { view: TaskView; groups: EvalGroup[] }[], commands: FillCommands,
): Promise<{ section: Section; plots: string[] }> {
  const isFeatures = sweep === 'features';
  const base = isFeatures
    ? { id: 'fig2', title: 'Fig. 2: feature-set variants', intro: 'Each feature set of feature_mlp_lopt (paper §4.2) meta-trained for the stated budget, then evaluated: mean training loss over the evaluation seeds against time per step relative to SGD and against optimizer-state bytes per parameter. Dashed: the tuned hand-designed optimizers on the same task.' }
    : { id: 'fig3', title: 'Fig. 3: width of the learned optimizer\'s MLP', intro: 'feature_mlp_lopt with hidden widths from a few units up, each meta-trained for the stated budget, then evaluated: mean training loss and time per step relative to SGD against the number of hidden units. Dashed: the tuned hand-designed optimizers on the same task.' };
  const ofSweep = rows.filter((r) => r.sweep === sweep);
  if (ofSweep.length === 0) {
    return {
      section: { ...base, body: missingNote(`no ${sweep} variants in the database (variants table, sweep '${sweep}').`, isFeatures ? commands.featureVariants : commands.widthVariants), missing: `${base.title.split(':')[0]}: ${sweep} variants` },
      plots: [],
    };
  }
  const parts: string[] = [];
  const plots: string[] = [];
  for (const [task, list] of groupBy(ofSweep, (r) => r.task)) {
    const sorted = [...list].sort((a, b) => a.meta_budget_minutes - b.meta_budget_minutes || a.hidden - b.hidden || a.features.localeCompare(b.features));
    const refs = references(task, views);
    parts.push(`<h3>${escapeHtml(task)}</h3>`);
    const svg = await renderSvg(isFeatures ? featuresSpec(task, sorted, refs) : widthSpec(task, sorted, refs));
    plots.push(`${base.id}: ${task}`);
    parts.push(figure(svg, `${base.title.split(':')[0]}, ${task}; each point labelled with its meta-training budget.`));
    parts.push(table(
      ['features', 'hidden', 'meta-training budget (min)', 'outer steps reached', 'mean loss', 'seeds', 'ms/step', 'time/step vs SGD', 'state bytes/param', 'run folder'],
      sorted.map((r) => [r.features, r.hidden, r.meta_budget_minutes, r.outer_steps, r.mean_loss ?? 'diverged', r.seeds, r.ms_per_step, r.overhead, r.state_bytes_per_param, r.run_dir]),
      `${base.title.split(':')[0]} numbers, ${task}`,
    ));
    if (refs.length) {
      parts.push(table(['reference', 'mean loss', 'from'], refs.map((r) => [r.label, r.loss, r.view]), 'Dashed reference lines'));
    }
  }
  return { section: { ...base, body: parts.join('\n') }, plots };
}
