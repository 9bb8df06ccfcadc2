#!/usr/bin/env node
// Which layer's steps put cifar10-ae (batch 64) on its plateau (README "General-purpose weights"):
// Adam at a high learning rate everywhere but one layer, which gets a low one, over 600-step runs.
// Each run is the library's Adam on two groups of parameters (partition), the slowed layer's and
// the rest. Prints one line per setting: the layer slowed and the mean loss of each seed
// (about 0.062 is the plateau of predicting the mean image).
// Usage: node scripts/ae-layer-diagnosis.mjs [--high 0.003] [--low 0.001] [--seeds 1000,1001,1004]
import { parseArgs } from 'node:util';
import { getBackend, getOptimizer, partition, tasks, train } from '../dist/src/index.js';
import { keyFromSeed } from '../dist/src/engine/random.js';

const { values } = parseArgs({ options: { high: { type: 'string', default: '0.003' }, low: { type: 'string', default: '0.001' }, seeds: { type: 'string', default: '1000,1001,1004' } } });
const [high, low] = [Number(values.high), Number(values.low)];
const seeds = values.seeds.split(',').map(Number);
if (!(high > 0) || !(low > 0) || !seeds.every(Number.isInteger)) {
  console.error('usage: node scripts/ae-layer-diagnosis.mjs [--high LR] [--low LR] [--seeds S1,S2,...]');
  process.exit(2);
}
const backend = getBackend();
backend.setThreads?.(1);
const task = tasks.get('cifar10-ae', { backend, batchSize: 64 });

/** Adam at `low` for the parameters of layer `slowed` (none: null), at `high` for the rest. */
function adam(slowed) {
  const at = (learningRate) => getOptimizer('adam', { learningRate }, { backend });
  return slowed ? partition([[(name) => name.startsWith(`${slowed}/`), at(low)]], at(high)) : at(high);
}

const layers = [...new Set(Object.keys(task.init(keyFromSeed(0))).map((name) => name.replace(/\/[wb]$/, '')))];
for (const slowed of [null, ...layers]) {
  const losses = seeds.map((seed) => train({ task, optimizer: adam(slowed), steps: 600, seed }).meanLoss);
  console.log(`${slowed ? `${slowed} at ${low}` : 'no layer slowed'}, the rest at ${high}: ${losses.map((l, i) => `seed ${seeds[i]} ${l.toFixed(4)}`).join(', ')}`);
}
