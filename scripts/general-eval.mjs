#!/usr/bin/env node
// Evaluates optimizers for the general-purpose weights (README "General-purpose weights", issue 19):
// every paper task at the sizes of the paper-mix meta-training mixture, the issue's cifar10-16-conv at
// batch 128, and held-out variants never drawn in meta-training (other widths, depths and channels,
// and the quadratic families), each trained for --steps steps on the final seeds. Optimizers:
// small_fc_lopt with the given weights files, Adam at lr 1e-3 (the untuned default), Adam's grid
// (tuned: best of the grid per task) and NAdamW from LO's list (tuned: best of the first entries).
// Appends one JSON row per run to OUT/runs.jsonl and skips runs already there (so it resumes), then
// writes OUT/summary.json (per task: each optimizer's mean loss over seeds, divergences, the tuned
// choices) and prints the table.
// Usage: node scripts/general-eval.mjs --out DIR [--weights NAME=FILE,...] [--steps 600]
//        [--seeds 1000,1001,1002,1003,1004] [--only-learned] [--tasks "NAME;NAME;..."] (names hold commas)
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getBackend, getOptimizer, learned, taskFamilies, tasks, train } from '../dist/src/index.js';
import { keyFromSeed } from '../dist/src/engine/random.js';
import { nadamwList } from '../dist/src/study/index.js';
import { writeFileAtomic } from '../dist/src/util/atomic-write.js';
import { generalHeaders, generalTable, readGeneral } from '../dist/src/study/report/general.js';

/** The evaluation tasks: `task` or `family` with knobs; heldOut: never drawn by paper-mix. */
const EVAL_TASKS = [
  { name: 'fmnist-mlp', task: 'fmnist-mlp', knobs: {}, heldOut: false },
  { name: 'cifar10-16-conv (batch 32)', task: 'cifar10-16-conv', knobs: { batchSize: 32 }, heldOut: false },
  { name: 'imagenet16-mlp (batch 64)', task: 'imagenet16-mlp', knobs: { batchSize: 64 }, heldOut: false },
  { name: 'cifar10-ae (batch 64)', task: 'cifar10-ae', knobs: { batchSize: 64 }, heldOut: false },
  { name: 'text-lstm-lm (width 64, batch 32)', task: 'text-lstm-lm', knobs: { width: 64, batchSize: 32 }, heldOut: false },
  { name: 'cifar10-16-conv (batch 128)', task: 'cifar10-16-conv', knobs: {}, heldOut: true },
  { name: 'fmnist-mlp (width 256, depth 3)', task: 'fmnist-mlp', knobs: { width: 256, depth: 3 }, heldOut: true },
  { name: 'imagenet16-mlp (width 512, depth 1, batch 64)', task: 'imagenet16-mlp', knobs: { width: 512, depth: 1, batchSize: 64 }, heldOut: true },
  { name: 'cifar10-16-conv (channels x2, batch 32)', task: 'cifar10-16-conv', knobs: { channelMult: 2, batchSize: 32 }, heldOut: true },
  { name: 'cifar10-ae (width 256, batch 64)', task: 'cifar10-ae', knobs: { width: 256, batchSize: 64 }, heldOut: true },
  { name: 'text-lstm-lm (width 96, batch 32)', task: 'text-lstm-lm', knobs: { width: 96, batchSize: 32 }, heldOut: true },
  { name: 'quadratic-family', family: 'quadratic-family', knobs: {}, heldOut: true },
  { name: 'quadratic-family-noise', family: 'quadratic-family-noise', knobs: {}, heldOut: true },
];
const ADAM_GRID = [3e-4, 1e-3, 3e-3, 1e-2];
const NADAMW_ENTRIES = [0, 1, 2, 3, 8];

const { values } = parseArgs({
  options: {
    out: { type: 'string' }, weights: { type: 'string', default: '' }, steps: { type: 'string', default: '600' },
    seeds: { type: 'string', default: '1000,1001,1002,1003,1004' }, 'only-learned': { type: 'boolean', default: false },
    tasks: { type: 'string', default: '' },
  },
});
const steps = Number(values.steps);
const seeds = values.seeds.split(',').map(Number);
const weights = values.weights ? values.weights.split(',').map((pair) => pair.split('=')) : [];
if (!values.out || !Number.isInteger(steps) || steps < 1 || !seeds.every(Number.isInteger) || weights.some((w) => w.length !== 2 || !existsSync(w[1]))) {
  console.error('usage: node scripts/general-eval.mjs --out DIR [--weights NAME=FILE,...] [--steps N] [--seeds S1,S2,...] [--only-learned] [--tasks "NAME;NAME;..."]');
  process.exit(2);
}
const selectedTasks = values.tasks ? EVAL_TASKS.filter((t) => values.tasks.split(';').includes(t.name)) : EVAL_TASKS;
const backend = getBackend();
backend.setThreads?.(1);

/** Every optimizer to run: its row name and a factory. */
function optimizers() {
  const list = weights.map(([name, file]) => {
    const { optimizer, theta } = learned.load(file, { backend });
    return { name, make: () => optimizer.optFn(theta) };
  });
  if (values['only-learned']) return list;
  for (const lr of ADAM_GRID) list.push({ name: `adam ${lr}`, make: () => getOptimizer('adam', { learningRate: lr }, { backend }) });
  const entries = nadamwList();
  for (const i of NADAMW_ENTRIES) list.push({ name: `nadamw #${i}`, make: () => getOptimizer('nadamw', { ...entries[i] }, { backend }) });
  return list;
}

function buildTask(spec, seed) {
  const options = { backend, ...spec.knobs };
  if (spec.task) return tasks.get(spec.task, options);
  const family = taskFamilies.get(spec.family, options);
  return family.taskFn(family.sample(keyFromSeed(seed)));
}

mkdirSync(values.out, { recursive: true });
const runsFile = join(values.out, 'runs.jsonl');
const readRuns = () => (existsSync(runsFile) ? readFileSync(runsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
const done = new Set(readRuns().map((r) => `${r.task}|${r.optimizer}|${r.seed}|${r.steps}`));
const opts = optimizers();
for (const spec of selectedTasks) {
  for (const seed of seeds) {
    const task = buildTask(spec, seed);
    for (const opt of opts) {
      const id = `${spec.name}|${opt.name}|${seed}|${steps}`;
      if (done.has(id)) continue;
      const result = train({ task, optimizer: opt.make(), steps, seed });
      const row = { task: spec.name, heldOut: spec.heldOut, optimizer: opt.name, seed, steps, meanLoss: result.meanLoss,
        finalLoss: result.finalLoss, initialLoss: result.initialLoss, diverged: result.diverged, divergedAt: result.divergedAt ?? null };
      appendFileSync(runsFile, `${JSON.stringify(row)}\n`);
      console.log(`${spec.name} | ${opt.name} | seed ${seed}: mean ${result.meanLoss.toFixed(4)}${result.diverged ? ` (diverged at ${result.divergedAt})` : ''}`);
    }
  }
}

// The summary: per task, each optimizer's mean over seeds (NaN-safe: a non-finite run makes it Infinity).
const rows = readRuns().filter((r) => r.steps === steps && seeds.includes(r.seed));
const summary = { steps, seeds, adamGrid: ADAM_GRID, nadamwEntries: NADAMW_ENTRIES, tasks: [] };
for (const spec of EVAL_TASKS) {
  const mine = rows.filter((r) => r.task === spec.name);
  if (mine.length === 0) continue;
  const byOptimizer = {};
  for (const name of [...new Set(mine.map((r) => r.optimizer))]) {
    const runs = mine.filter((r) => r.optimizer === name);
    if (runs.length < seeds.length) continue;
    const mean = runs.reduce((s, r) => s + (Number.isFinite(r.meanLoss) ? r.meanLoss : Infinity), 0) / runs.length;
    byOptimizer[name] = { meanLoss: mean, diverged: runs.filter((r) => r.diverged).length };
  }
  const best = (prefix) => Object.entries(byOptimizer).filter(([n]) => n.startsWith(prefix)).sort((a, b) => a[1].meanLoss - b[1].meanLoss)[0];
  const tunedAdam = best('adam ');
  const tunedNadamw = best('nadamw ');
  summary.tasks.push({ name: spec.name, heldOut: spec.heldOut, optimizers: byOptimizer,
    tunedAdam: tunedAdam ? { choice: tunedAdam[0], ...tunedAdam[1] } : null,
    tunedNadamw: tunedNadamw ? { choice: tunedNadamw[0], ...tunedNadamw[1] } : null });
}
writeFileAtomic(join(values.out, 'summary.json'), `${JSON.stringify(summary, null, 1)}\n`);
// The same table the report shows (src/study/report/general.ts), as markdown.
const written = readGeneral(values.out);
console.log(`\n| ${generalHeaders(written).join(' | ')} |`);
for (const row of generalTable(written)) console.log(`| ${row.join(' | ')} |`);
