#!/usr/bin/env node
// Which layer's steps put cifar10-ae (batch 64) on its plateau (README "General-purpose weights"):
// Adam at a high learning rate everywhere but one layer, which gets a low one, over 600-step runs.
// Adam here is the textbook update with a per-tensor learning rate, written out so that one layer's
// rate can differ. Prints one line per setting: the layer slowed and the mean loss of each seed
// (about 0.062 is the plateau of predicting the mean image).
// Usage: node scripts/ae-layer-diagnosis.mjs [--high 0.003] [--low 0.001] [--seeds 1000,1001,1004]
import { parseArgs } from 'node:util';
import { getBackend, tasks, train } from '../dist/src/index.js';
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

/** Adam (β 0.9, 0.999, ε 1e-8, bias-corrected) with learning rate lrOf(tensor name). */
function adam(lrOf) {
  return {
    name: 'adam-per-tensor',
    init(params) {
      const state = { t: 0, params: {}, m: {}, v: {} };
      for (const [name, p] of Object.entries(params)) {
        state.params[name] = { shape: p.shape, data: Float32Array.from(p.data) };
        state.m[name] = new Float32Array(p.data.length);
        state.v[name] = new Float32Array(p.data.length);
      }
      return state;
    },
    update(state, grads) {
      state.t += 1;
      const [c1, c2] = [1 - 0.9 ** state.t, 1 - 0.999 ** state.t];
      for (const name of Object.keys(state.params)) {
        const lr = lrOf(name);
        const [p, g, m, v] = [state.params[name].data, grads[name].data, state.m[name], state.v[name]];
        for (let i = 0; i < p.length; i++) {
          m[i] = 0.9 * m[i] + 0.1 * g[i];
          v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
          p[i] -= (lr * m[i] / c1) / (Math.sqrt(v[i] / c2) + 1e-8);
        }
      }
      return state;
    },
    getParams: (state) => state.params,
    stateBytes: (params) => 8 * Object.values(params).reduce((a, p) => a + p.data.length, 0),
  };
}

const layers = [...new Set(Object.keys(task.init(keyFromSeed(0))).map((name) => name.replace(/\/[wb]$/, '')))];
for (const slowed of [null, ...layers]) {
  const losses = seeds.map((seed) => train({ task, optimizer: adam((name) => (slowed && name.startsWith(`${slowed}/`) ? low : high)), steps: 600, seed }).meanLoss);
  console.log(`${slowed ? `${slowed} at ${low}` : 'no layer slowed'}, the rest at ${high}: ${losses.map((l, i) => `seed ${seeds[i]} ${l.toFixed(4)}`).join(', ')}`);
}
