// `writeReport`: reads the results database and meta-training run folders and writes one
// self-contained index.html (inline SVG plots, tables of every plotted number, no scripts, no
// network), atomically, saying for every missing part which command fills it.
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { ablationSection, readAblation } from './ablation.js';
import { fillCommands } from './commands.js';
import { loadReportData } from './data.js';
import { fig1Section } from './fig1.js';
import { generalSection, readGeneral } from './general.js';
import { fig4Section } from './fig4.js';
import { fig5Section } from './fig5.js';
import { groupEvalRuns } from './groups.js';
import { headlineSection } from './headline.js';
import { escapeHtml, page, type Section } from './html.js';
import { metaGeneralizationSection, metaTrainingSection } from './meta.js';
import { readMetaRuns } from './meta-runs.js';
import { loadRenderer } from './render.js';
import { table1Section } from './table1.js';
import { variantsSection } from './variants.js';

export interface ReportOptions {
  dbPath: string;
  outDir: string;
  /** Meta-training run folders (`lopt meta-train --out DIR`). */
  runDirs?: string[];
  /** A recipe ablation's folder with its results.json (scripts/ablation-score.mjs). */
  ablationDir?: string;
  /** A general-purpose weights evaluation folder with its summary.json (scripts/general-eval.mjs). */
  generalDir?: string;
}

export interface ReportResult {
  indexPath: string;
  /** One entry per plot written (section: subject). */
  plots: string[];
  /** One entry per part that had no data (the page says which command fills it). */
  missing: string[];
}

export async function writeReport(options: ReportOptions): Promise<ReportResult> {
  const data = loadReportData(options.dbPath);
  await loadRenderer(); // vega and vega-lite (optional packages): a missing one is one line, before any work
  const runs = readMetaRuns(options.runDirs ?? []);
  const ablation = options.ablationDir ? readAblation(options.ablationDir) : null;
  const general = options.generalDir ? readGeneral(options.generalDir) : null;
  const commands = fillCommands(options.dbPath);
  const views = groupEvalRuns(data.evalRuns);

  const built = [
    await fig1Section(views, data.timings, data.memory, commands),
    await headlineSection(views, data.curves, data.bestConfigs, { runs: data.searchRuns, diverged: data.searchDiverged }, commands),
    await variantsSection('features', data.variants, views, commands),
    await variantsSection('width', data.variants, views, commands),
    await fig4Section(data.timings, commands),
    ...[table1Section(data.table1)].filter((b) => b !== null),
    await fig5Section(views, data.curves, commands),
    await metaTrainingSection(runs, commands),
    ...[ablationSection(ablation)].filter((b) => b !== null),
    ...[generalSection(general)].filter((b) => b !== null),
    await metaGeneralizationSection(runs, views, commands),
  ];
  const sections: Section[] = built.map((b) => b.section);
  const header = [
    '<p class="meta">',
    `Results database <code>${escapeHtml(resolve(options.dbPath))}</code>: ${data.evalRuns.length} evaluation runs, ${data.searchRuns} search runs (${data.searchDiverged} diverged), `,
    `${data.timings.length} timings, ${data.memory.length} memory measurements, ${data.variants.length} variants; ${runs.length} meta-training run folder${runs.length === 1 ? '' : 's'}. `,
    `Written ${escapeHtml(new Date().toISOString())}.`,
    '</p>',
    data.machines.length ? `<p class="meta">Measured on: ${data.machines.map((m) => `<code>${escapeHtml(m)}</code>`).join('; ')}</p>` : '',
    '<p class="meta">Metz et al. 2022, <em>Practical tradeoffs between memory, compute, and performance in learned optimizers</em>: the figures below follow the paper\'s numbering.</p>',
  ].join('\n');
  const indexPath = join(options.outDir, 'index.html');
  writeFileAtomic(indexPath, page('lopt: the memory, compute and performance tradeoffs of learned optimizers', header, sections));
  return {
    indexPath,
    plots: built.flatMap((b) => b.plots),
    missing: sections.flatMap((s) => (s.missing ? s.missing.split('; ') : [])),
  };
}
