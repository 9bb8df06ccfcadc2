// Fig. 1: mean evaluation loss against time per step (overhead vs SGD) and against optimizer memory
// (state bytes per parameter), per task, with the Pareto frontier of trained optimizers marked.
import type { TopLevelSpec } from 'vega-lite';
import type { MemoryRow, TimingRow } from '../db.js';
import { paretoMask } from '../pareto.js';
import type { FillCommands } from './commands.js';
import { baseLabel, normaliseOpts, seedRange, type EvalGroup, type TaskView } from './groups.js';
import { escapeHtml, figure, missingNote, table, type Section } from './html.js';
import { renderSvg } from './render.js';

export interface Fig1Point {
  label: string;
  optimizer: string;
  trained: boolean;
  stepMultiplier: number;
  seeds: string;
  runs: number;
  diverged: number;
  loss: number;
  stdErr: number;
  /** Per-step time relative to SGD, times the step multiplier (a 2x run costs twice per budgeted step). */
  overhead: number | null;
  msPerStep: number | null;
  sgdMsPerStep: number | null;
  stateBytesPerParam: number | null;
  peakRssRatio: number | null;
  engineBytes: number | null;
  onTimeFrontier: boolean;
  onMemoryFrontier: boolean;
}

const KINDS = ['on the Pareto frontier', 'trained, dominated', 'untrained (kept off the frontier)'];

/** The timing of a group: its own label, else its 1x label, measured at the view's task options. */
export function timingFor(group: EvalGroup, timings: readonly TimingRow[]): TimingRow | undefined {
  const here = timings.filter((t) => t.task === group.view.task && normaliseOpts(t.task_opts) === group.view.taskOpts);
  return here.find((t) => t.label === group.label) ?? here.find((t) => t.label === baseLabel(group.label));
}

export function memoryFor(group: EvalGroup, memory: readonly MemoryRow[]): MemoryRow | undefined {
  const here = memory.filter((m) => m.task === group.view.task);
  return here.find((m) => m.label === group.label) ?? here.find((m) => m.label === baseLabel(group.label));
}

/**
 * The plotted points of one view. A configuration is on a frontier only if it is trained, finished
 * every seed (a configuration that diverged on some seed is shown, but a frontier must not rest on a
 * mean over the seeds that happened to survive) and has that axis measured.
 */
export function fig1Points(groups: readonly EvalGroup[], timings: readonly TimingRow[], memory: readonly MemoryRow[]): Fig1Point[] {
  const points: Fig1Point[] = groups.map((g) => {
    const t = timingFor(g, timings);
    const m = memoryFor(g, memory);
    return {
      label: g.label, optimizer: g.optimizer, trained: g.trained, stepMultiplier: g.stepMultiplier,
      seeds: seedRange(g.seeds), runs: g.runs.length, diverged: g.diverged, loss: g.meanLoss, stdErr: g.stdErr,
      overhead: t ? t.overhead * g.stepMultiplier : null, msPerStep: t?.ms_per_step ?? null, sgdMsPerStep: t?.sgd_ms_per_step ?? null,
      stateBytesPerParam: m?.state_bytes_per_param ?? null, peakRssRatio: m?.peak_rss_ratio ?? null, engineBytes: m?.engine_bytes ?? null,
      onTimeFrontier: false, onMemoryFrontier: false,
    };
  });
  const frontier = (cost: (p: Fig1Point) => number | null) => paretoMask(points.map((p) => ({
    loss: p.loss, cost: cost(p) ?? NaN, trained: p.trained && p.diverged === 0,
  })));
  const time = frontier((p) => p.overhead);
  const mem = frontier((p) => p.stateBytesPerParam);
  points.forEach((p, i) => { p.onTimeFrontier = time[i]; p.onMemoryFrontier = mem[i]; });
  return points;
}

function panel(points: Fig1Point[], cost: 'overhead' | 'stateBytesPerParam', title: string, xTitle: string) {
  const onFrontier = cost === 'overhead' ? 'onTimeFrontier' : 'onMemoryFrontier';
  const values = points.filter((p) => p[cost] !== null && Number.isFinite(p.loss)).map((p) => ({
    label: p.label, loss: p.loss, cost: p[cost],
    lo: Number.isFinite(p.stdErr) ? p.loss - p.stdErr : p.loss, hi: Number.isFinite(p.stdErr) ? p.loss + p.stdErr : p.loss,
    kind: p[onFrontier] ? KINDS[0] : p.trained ? KINDS[1] : KINDS[2], frontier: p[onFrontier],
  }));
  const x = { field: 'cost', type: 'quantitative', title: xTitle, scale: { zero: cost !== 'overhead', nice: true } };
  const y = { field: 'loss', type: 'quantitative', title: 'mean training loss', scale: { zero: false } };
  return {
    title, width: 380, height: 300, data: { values },
    layer: [
      { transform: [{ filter: 'datum.frontier' }], mark: { type: 'line', color: '#d62728', strokeDash: [4, 3], interpolate: 'step-after' },
        encoding: { x, y, order: { field: 'cost', type: 'quantitative' } } },
      { mark: { type: 'rule', color: '#888' }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
      { mark: { type: 'point', filled: true, size: 70, opacity: 1 },
        encoding: { x, y,
          color: { field: 'kind', type: 'nominal', title: null, scale: { domain: KINDS, range: ['#d62728', '#1f77b4', '#999999'] }, legend: { orient: 'bottom', direction: 'vertical' } },
          shape: { field: 'kind', type: 'nominal', title: null, scale: { domain: KINDS, range: ['circle', 'circle', 'cross'] } } } },
      { mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 10, color: '#333' }, encoding: { x, y, text: { field: 'label' } } },
    ],
  };
}

export async function fig1Section(
  views: { view: TaskView; groups: EvalGroup[] }[], timings: TimingRow[], memory: MemoryRow[], commands: FillCommands,
): Promise<{ section: Section; plots: string[] }> {
  const intro = 'Mean raw training loss over the evaluation seeds against time per step relative to SGD (median step time measured interleaved with SGD in the same process) and against optimizer-state bytes per parameter. The Pareto frontier (dashed) joins the trained configurations no other configuration beats on both axes; untrained learned optimizers are drawn as grey crosses and kept off it, as is any configuration that diverged on some seed. Adam and NAdamW at 2x/3x steps cost 2x/3x their step time per budgeted step. Bars: ± one standard error over seeds.';
  const base = { id: 'fig1', title: 'Fig. 1: loss vs compute and memory, with the Pareto frontier', intro };
  if (views.length === 0) {
    return { section: { ...base, body: missingNote('no evaluation runs in the database.', commands.study), missing: 'Fig. 1: evaluation runs' }, plots: [] };
  }
  const parts: string[] = [];
  const plots: string[] = [];
  const missing: string[] = [];
  for (const { view, groups } of views) {
    const points = fig1Points(groups, timings, memory);
    parts.push(`<h3>${escapeHtml(view.title)}</h3>`);
    const hasTime = points.some((p) => p.overhead !== null && Number.isFinite(p.loss));
    const hasMemory = points.some((p) => p.stateBytesPerParam !== null && Number.isFinite(p.loss));
    if (hasTime || hasMemory) {
      const spec = {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        hconcat: [
          ...(hasTime ? [panel(points, 'overhead', `${view.title}: loss vs time per step`, 'time per step / SGD step time')] : []),
          ...(hasMemory ? [panel(points, 'stateBytesPerParam', `${view.title}: loss vs memory`, 'optimizer state, bytes per parameter')] : []),
        ],
      } as unknown as TopLevelSpec;
      const svg = await renderSvg(spec);
      plots.push(`fig1: ${view.title}`);
      parts.push(figure(svg, `Fig. 1, ${view.title}. Dashed: the Pareto frontier of trained optimizers.`));
    }
    if (!hasTime) {
      parts.push(missingNote(`no step-time measurements for ${view.title} at these task options (timings table).`, commands.timings));
      missing.push(`Fig. 1 timings: ${view.title}`);
    }
    if (!hasMemory) {
      parts.push(missingNote(`no memory measurements for ${view.task} (memory table).`, commands.memory));
      missing.push(`Fig. 1 memory: ${view.title}`);
    }
    parts.push(table(
      ['optimizer', 'trained', 'seeds', 'diverged', 'mean loss', '± s.e.', 'time/step vs SGD', 'ms/step', 'SGD ms/step',
        'state bytes/param', 'peak RSS vs SGD', 'engine bytes', 'frontier (time)', 'frontier (memory)'],
      points.map((p) => [
        p.label, p.trained ? 'yes' : 'untrained', p.seeds, `${p.diverged} of ${p.runs}`, Number.isFinite(p.loss) ? p.loss : 'all diverged', p.stdErr, p.overhead,
        p.msPerStep, p.sgdMsPerStep, p.stateBytesPerParam, p.peakRssRatio, p.engineBytes,
        p.onTimeFrontier ? 'yes' : '', p.onMemoryFrontier ? 'yes' : '',
      ]),
      `Fig. 1 numbers, ${view.title}`,
    ));
  }
  return { section: { ...base, body: parts.join('\n'), ...(missing.length ? { missing: missing.join('; ') } : {}) }, plots };
}

