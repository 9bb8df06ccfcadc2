#!/usr/bin/env node
// Scores the recipe ablation (scripts/ablation.sh) on the meta-training evaluation keys: each finished
// variant's final θ, the common initial θ and NAdamW (LO's list #8), each by the mean training loss of
// full 2,000-step fmnist-mlp runs on the same N evaluation keys (`lopt meta-train --seed 12`'s). Writes
// campaign/ablation/results.json (atomically; `lopt report --ablation campaign/ablation` shows it) and
// prints the README's markdown table.
// Usage: node scripts/ablation-score.mjs [--seeds 8] [--dir campaign/ablation]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getOptimizer, learned, meta } from '../dist/src/index.js';
import { nadamwList } from '../dist/src/study/index.js';
import { ABLATION_FILE, ABLATION_HEADERS, ablationTable } from '../dist/src/study/report/ablation.js';
import { writeFileAtomic } from '../dist/src/util/atomic-write.js';

const VARIANTS = ['old-recipe', 'fixed', 'meta-batch-4', 'tasks-16', 'cosine-lr', 'imitation'];
const INIT = 'campaign/nadamw/init/small_fc_lopt-fmnist-probe-31000.safetensors';
const { values } = parseArgs({ options: { seeds: { type: 'string', default: '8' }, dir: { type: 'string', default: 'campaign/ablation' } } });
const seeds = Number(values.seeds);
if (!Number.isInteger(seeds) || seeds < 2) {
  console.error('usage: node scripts/ablation-score.mjs [--seeds N≥2] [--dir DIR]');
  process.exit(2);
}
const keys = { problem: { lopt: 'small_fc_lopt', task: 'fmnist-mlp' }, seed: 12, evalSeeds: seeds, innerSteps: 2000 };

function score(optimizer) {
  const losses = meta.evaluateOptimizer(keys, optimizer, { outerStep: 0, thetaVersion: 0 }).map((r) => r.evalLoss);
  const mean = losses.reduce((a, b) => a + b, 0) / losses.length;
  return { mean, losses };
}

/** Outer updates and inner steps of a variant's run, from its metrics log. */
function spent(dir) {
  // By update (a resumed run may log an update again).
  const stepsOf = new Map();
  for (const line of readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n')) {
    if (!line.startsWith('{') || !line.endsWith('}')) continue;
    const row = JSON.parse(line);
    if (row.outerStep === undefined || row.innerSteps === undefined) continue;
    stepsOf.set(row.outerStep, row.innerSteps);
  }
  let innerSteps = 0;
  for (const steps of stepsOf.values()) innerSteps += steps;
  return { updates: stepsOf.size, innerSteps };
}

const rows = [];
const start = learned.load(INIT);
rows.push({ variant: 'initial θ', ...score(start.optimizer.optFn(start.theta)) });
for (const name of VARIANTS) {
  const dir = join(values.dir, name);
  if (!existsSync(join(dir, 'done'))) continue;
  const { optimizer, theta } = learned.load(join(dir, 'theta-latest'));
  rows.push({ variant: name, ...spent(dir), ...score(optimizer.optFn(theta)) });
}
const imitationStart = join(values.dir, 'imitation-init', 'theta.safetensors');
if (existsSync(imitationStart)) {
  const { optimizer, theta } = learned.load(imitationStart);
  rows.push({ variant: 'imitation θ before PES', ...score(optimizer.optFn(theta)) });
}
rows.push({ variant: 'NAdamW #8', ...score(getOptimizer('nadamw', { ...nadamwList()[8] })) });

const results = { keys: { seed: 12, evalSeeds: seeds, innerSteps: 2000 }, reference: 'fixed', rows };
console.log(`| ${ABLATION_HEADERS.join(' | ')} |`);
console.log(`|${ABLATION_HEADERS.map(() => '---').join('|')}|`);
for (const cells of ablationTable(results)) console.log(`| ${cells.join(' | ')} |`);
writeFileAtomic(join(values.dir, ABLATION_FILE), JSON.stringify(results, null, 1) + '\n');
