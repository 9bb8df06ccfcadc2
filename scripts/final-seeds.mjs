#!/usr/bin/env node
// The headline check on the final-evaluation seeds (1000 … 1000+N−1, which no selection uses): mean
// 2,000-step training loss ± standard error of small_fc_lopt with each given weights file, beside
// NAdamW at LO's configuration #8 (the best of all 1,000 on fmnist-mlp's search seed), on the same
// seeds. Prints one line per optimizer and, last, one JSON line.
// Usage: node scripts/final-seeds.mjs [--seeds 5] [--steps 2000] [--task fmnist-mlp] WEIGHTS...
import { parseArgs } from 'node:util';
import { getOptimizer, learned, tasks, train } from '../dist/src/index.js';
import { nadamwList } from '../dist/src/study/index.js';
import { EVAL_SEED_BASE } from '../dist/src/study/seeds.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seeds: { type: 'string', default: '5' }, steps: { type: 'string', default: '2000' }, task: { type: 'string', default: 'fmnist-mlp' } },
});
const [seeds, steps] = [Number(values.seeds), Number(values.steps)];
if (!Number.isInteger(seeds) || seeds < 2 || !Number.isInteger(steps) || steps < 1) {
  console.error('usage: node scripts/final-seeds.mjs [--seeds N≥2] [--steps T] [--task NAME] WEIGHTS...');
  process.exit(2);
}

function score(name, makeOptimizer) {
  const losses = [];
  for (let i = 0; i < seeds; i++) {
    losses.push(train({ task: tasks.get(values.task), optimizer: makeOptimizer(), steps, seed: EVAL_SEED_BASE + i }).meanLoss);
  }
  const mean = losses.reduce((a, b) => a + b, 0) / seeds;
  const se = Math.sqrt(losses.reduce((a, b) => a + (b - mean) ** 2, 0) / (seeds - 1) / seeds);
  console.log(`${name}: ${mean.toFixed(4)} ± ${se.toFixed(4)}`);
  return { name, mean, se, losses };
}

const results = [score('nadamw (LO list #8)', () => getOptimizer('nadamw', { ...nadamwList()[8] }))];
for (const file of positionals) {
  const { optimizer, theta } = learned.load(file);
  results.push(score(file, () => optimizer.optFn(theta)));
}
console.log(JSON.stringify({ task: values.task, seeds: Array.from({ length: seeds }, (_, i) => EVAL_SEED_BASE + i), steps, results }));
