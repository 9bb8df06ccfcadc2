#!/usr/bin/env node
// Hand-designed baselines on a meta-training run's own evaluation keys: the same inner runs (tasks,
// initialisations, batches) on which `lopt meta-train --seed S --eval-seeds N` evaluates θ, so a
// run's evaluation curve can be read against them (the report draws them as dashed lines).
// NAdamW at entries of LO's list of 1,000 configurations (default #8, the study's best of all 1,000 on
// fmnist-mlp's search seed) and Adam at each learning rate of the study's grid between 1e-4 and 1e-2,
// keeping the best on these keys. Writes FILE (JSON, atomically) and prints one line per optimizer.
// Usage: node scripts/baselines-on-keys.mjs --out FILE [--task fmnist-mlp] [--key-seed 12] [--seeds 4]
//        [--steps 2000] [--nadamw-entry 8]
import { parseArgs } from 'node:util';
import { getOptimizer, meta } from '../dist/src/index.js';
import { LR_GRID, nadamwList } from '../dist/src/study/index.js';
import { writeFileAtomic } from '../dist/src/util/atomic-write.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' }, task: { type: 'string', default: 'fmnist-mlp' }, 'key-seed': { type: 'string', default: '12' },
    seeds: { type: 'string', default: '4' }, steps: { type: 'string', default: '2000' }, 'nadamw-entry': { type: 'string', default: '8' },
  },
});
const [keySeed, seeds, steps, entry] = ['key-seed', 'seeds', 'steps', 'nadamw-entry'].map((k) => Number(values[k]));
if (!values.out || ![keySeed, seeds, steps, entry].every(Number.isInteger) || seeds < 1 || steps < 1 || entry < 0 || entry >= 1000) {
  console.error('usage: node scripts/baselines-on-keys.mjs --out FILE [--task NAME] [--key-seed S] [--seeds N] [--steps T] [--nadamw-entry 0..999]');
  process.exit(2);
}
const options = { problem: { lopt: 'small_fc_lopt', task: values.task }, seed: keySeed, evalSeeds: seeds, innerSteps: steps };

function evaluate(name, hparams) {
  const rows = meta.evaluateOptimizer(options, getOptimizer(name, hparams), { outerStep: 0, thetaVersion: 0 });
  const losses = rows.map((r) => r.evalLoss);
  return { optimizer: name, hparams, evalLoss: losses.reduce((a, b) => a + b, 0) / losses.length, losses };
}

const nadamw = { name: `nadamw (LO list #${entry})`, ...evaluate('nadamw', { ...nadamwList()[entry] }) };
console.log(`${nadamw.name}: ${nadamw.evalLoss.toFixed(4)}`);
const adams = LR_GRID.filter((lr) => lr >= 1e-4 * 0.999 && lr <= 1e-2 * 1.001).map((learningRate) => {
  const result = evaluate('adam', { learningRate });
  console.log(`adam lr ${learningRate.toPrecision(3)}: ${result.evalLoss.toFixed(4)}`);
  return result;
});
const bestAdam = adams.reduce((a, b) => (b.evalLoss < a.evalLoss ? b : a));
const adam = { name: `adam (lr ${bestAdam.hparams.learningRate.toPrecision(3)}, best of ${adams.length})`, ...bestAdam };
const baselines = { task: values.task, keySeed, evalSeeds: seeds, steps, baselines: [nadamw, adam] };
writeFileAtomic(values.out, `${JSON.stringify(baselines, null, 1)}\n`);
console.log(JSON.stringify({ out: values.out, nadamw: nadamw.evalLoss, adam: adam.evalLoss }));
