#!/usr/bin/env node
// The NAdamW campaign's meta-training curve for the README: the evaluation loss of θ against outer
// step (and inner steps) from a run folder's log (metrics.jsonl, else the committed
// metrics-thin.jsonl), with the hand-designed baselines of its baselines.json as dashed lines.
// Writes an SVG (atomically) and prints a markdown table of every evaluation.
// Usage: node scripts/campaign-curve.mjs [--run campaign/nadamw/run] [--svg docs/campaign-curve.svg]
import { parseArgs } from 'node:util';
import { readMetaRun } from '../dist/src/study/report/meta-runs.js';
import { checkpoints } from '../dist/src/study/report/meta.js';
import { renderSvg } from '../dist/src/study/report/render.js';
import { writeFileAtomic } from '../dist/src/util/atomic-write.js';

const { values } = parseArgs({ options: { run: { type: 'string', default: 'campaign/nadamw/run' }, svg: { type: 'string', default: 'docs/campaign-curve.svg' } } });
const run = readMetaRun(values.run);
const task = run.metaTrainTask;
const points = checkpoints(run).map((c) => ({ outerStep: c.outerStep, evalLoss: c.loss.get(task) })).filter((p) => Number.isFinite(p.evalLoss));
if (points.length === 0) {
  console.error(`campaign-curve: ${values.run} has no evaluations yet`);
  process.exit(2);
}
const spec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 560, height: 300,
  title: `${run.optimizer ?? 'θ'} meta-trained on ${task}: evaluation loss (mean over the run's evaluation runs)`,
  layer: [
    { data: { values: points }, mark: { type: 'line', point: true },
      encoding: { x: { field: 'outerStep', type: 'quantitative', title: 'outer step (this campaign)' },
        y: { field: 'evalLoss', type: 'quantitative', title: 'mean 2,000-step training loss', scale: { zero: false } } } },
    { data: { values: run.baselines }, mark: { type: 'rule', strokeDash: [6, 4] },
      encoding: { y: { field: 'evalLoss', type: 'quantitative' }, color: { field: 'name', type: 'nominal', title: 'same runs' } } },
  ],
};
writeFileAtomic(values.svg, await renderSvg(spec));
console.log('| outer step | evaluation loss |\n|---|---|');
for (const p of points) console.log(`| ${p.outerStep.toLocaleString('en-US')} | ${p.evalLoss.toFixed(4)} |`);
for (const b of run.baselines) console.log(`| ${b.name} | ${b.evalLoss.toFixed(4)} |`);
