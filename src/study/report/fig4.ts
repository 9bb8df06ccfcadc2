// Fig. 4: compute overhead (step time relative to SGD, measured interleaved with SGD) against batch
// size and against model width (MLP hidden width, ConvNet channels), per task and optimizer.
import type { TopLevelSpec } from 'vega-lite';
import type { TimingRow } from '../db.js';
import type { FillCommands } from './commands.js';
import { groupBy } from './stats.js';
import { escapeHtml, figure, missingNote, table, type Section } from './html.js';
import { renderSvg } from './render.js';

const WIDTH_KEYS = new Set(['width', 'channelMult']);

/** Which sweep a timing row belongs to, from the task options it was measured at. */
export function sweepOf(row: TimingRow): { batch: boolean; width: boolean } {
  let keys: string[] = [];
  try {
    keys = Object.keys(JSON.parse(row.task_opts) as Record<string, unknown>);
  } catch {
    keys = ['?'];
  }
  const defaults = keys.length === 0;
  return {
    // The default row is one point of each sweep (default batch size, default width).
    batch: defaults || keys.every((k) => k === 'batchSize'),
    width: row.width !== null && (defaults || keys.every((k) => WIDTH_KEYS.has(k))),
  };
}

/** The measured values themselves as ticks: a log axis's own ticks (2.5, 3, …) mean nothing here. */
function ticks(rows: TimingRow[], f: (r: TimingRow) => number): number[] {
  return [...new Set(rows.map(f))].sort((a, b) => a - b);
}

function spec(task: string, batch: TimingRow[], width: TimingRow[]): TopLevelSpec {
  const color = { field: 'label', type: 'nominal', title: 'optimizer' };
  const y = { field: 'overhead', type: 'quantitative', title: 'time per step / SGD step time', scale: { zero: false } };
  const panels: unknown[] = [];
  const distinct = (rows: TimingRow[], f: (r: TimingRow) => number | null) => new Set(rows.map(f)).size;
  if (batch.length && distinct(batch, (r) => r.batch_size) > 1) {
    panels.push({ title: `${task}: overhead vs batch size`, width: 380, height: 280, data: { values: batch },
      mark: { type: 'line', point: true },
      encoding: { x: { field: 'batch_size', type: 'quantitative', title: 'batch size', scale: { type: 'log', base: 2 }, axis: { values: ticks(batch, (r) => r.batch_size), format: 'd' } }, y, color } });
  }
  if (width.length && distinct(width, (r) => r.width) > 1) {
    panels.push({ title: `${task}: overhead vs width`, width: 380, height: 280, data: { values: width },
      mark: { type: 'line', point: true },
      encoding: { x: { field: 'width', type: 'quantitative', title: 'width (hidden units or channels)', scale: { type: 'log', base: 2 }, axis: { values: ticks(width, (r) => r.width ?? 0), format: 'd' } }, y, color } });
  }
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', hconcat: panels } as unknown as TopLevelSpec;
}

export async function fig4Section(timings: TimingRow[], commands: FillCommands): Promise<{ section: Section; plots: string[] }> {
  const base = {
    id: 'fig4', title: 'Fig. 4: overhead vs batch size and width',
    intro: 'Median time per step of each optimizer divided by SGD\'s, both measured interleaved in the same process, as the batch size and the model width (MLP hidden units, ConvNet channels) vary. Each sweep varies one knob from the task\'s defaults.',
  };
  const parts: string[] = [];
  const plots: string[] = [];
  let any = false;
  for (const [task, rows] of groupBy(timings, (r) => r.task)) {
    const batch = rows.filter((r) => sweepOf(r).batch).sort((a, b) => a.batch_size - b.batch_size);
    const width = rows.filter((r) => sweepOf(r).width).sort((a, b) => (a.width ?? 0) - (b.width ?? 0));
    const sweptBatch = new Set(batch.map((r) => r.batch_size)).size > 1;
    const sweptWidth = new Set(width.map((r) => r.width)).size > 1;
    if (!sweptBatch && !sweptWidth) continue;
    any = true;
    parts.push(`<h3>${escapeHtml(task)}</h3>`);
    const svg = await renderSvg(spec(task, batch, width));
    plots.push(`fig4: ${task}`);
    parts.push(figure(svg, `Fig. 4, ${task}: overhead relative to SGD.`));
    const shown = rows.filter((r) => (sweptBatch && sweepOf(r).batch) || (sweptWidth && sweepOf(r).width))
      .sort((a, b) => a.label.localeCompare(b.label) || a.batch_size - b.batch_size || (a.width ?? 0) - (b.width ?? 0));
    parts.push(table(
      ['optimizer', 'task options', 'batch size', 'width', 'ms/step', 'SGD ms/step', 'overhead', 'repeats', 'backend'],
      shown.map((r) => [r.label, r.task_opts, r.batch_size, r.width, r.ms_per_step, r.sgd_ms_per_step, r.overhead, r.repeats, r.backend]),
      `Fig. 4 numbers, ${task}`,
    ));
  }
  if (!any) {
    return { section: { ...base, body: missingNote('no batch-size or width sweeps in the timings table.', commands.timings), missing: 'Fig. 4: timing sweeps' }, plots };
  }
  return { section: { ...base, body: parts.join('\n') }, plots };
}
