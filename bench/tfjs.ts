// The lopt/tfjs adapter's overhead per train step over TF.js's own Adam, in one run: the Keras MLP
// 784-128-128-10 (ReLU) on Fashion-MNIST, batch 128, model.fit on the TF.js CPU backend, median ms per
// step (onBatchBegin → onBatchEnd) for tf.train.adam and for lopt's adam and small_fc_lopt through
// the adapter. Not part of `npm run bench`: node dist/bench/tfjs.js [steps=40]
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { loptOptimizer } from '../src/tfjs/index.js';
import { getBackend } from '../src/engine/select.js';
import { batches, kerasMlp, loss, xy } from '../test/tfjs/fixture.js';

const steps = Number(process.argv[2] ?? 40);
const { x, y } = xy(batches(steps));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function msPerStep(optimizer: tf.Optimizer): Promise<number> {
  const model = kerasMlp();
  model.compile({ optimizer, loss });
  const times: number[] = [];
  let t0 = 0;
  await model.fit(x, y, {
    batchSize: 128, epochs: 1, shuffle: false, verbose: 0,
    callbacks: { onBatchBegin: async () => { t0 = performance.now(); }, onBatchEnd: async () => { times.push(performance.now() - t0); } },
  });
  return median(times.slice(2)); // the first steps warm up
}

const rows: [string, () => tf.Optimizer][] = [
  ['tf.train.adam', () => tf.train.adam(1e-3, 0.9, 0.999, 1e-7)],
  ["loptOptimizer('adam')", () => loptOptimizer('adam', { learningRate: 1e-3, epsilon: 1e-7 })],
  ["loptOptimizer('small_fc_lopt')", () => loptOptimizer('small_fc_lopt', { numSteps: steps })],
];
const results: Record<string, number> = {};
// Two rounds, interleaved, so that drift on a shared machine hits every row alike; the lower median counts.
for (let round = 0; round < 2; round++) {
  for (const [name, make] of rows) {
    const ms = await msPerStep(make());
    results[name] = Math.min(results[name] ?? Infinity, ms);
  }
}
const base = results['tf.train.adam'];
console.log(`TF.js ${tf.version.tfjs} backend ${tf.getBackend()}, lopt backend ${getBackend().name}, ${steps} steps, batch 128, MLP 784-128-128-10`);
for (const [name] of rows) {
  const ms = results[name];
  console.log(`${name.padEnd(32)} ${ms.toFixed(1).padStart(8)} ms/step  ${name === 'tf.train.adam' ? '' : `overhead ${(ms - base >= 0 ? '+' : '')}${(ms - base).toFixed(1)} ms (${(((ms - base) / base) * 100).toFixed(1)}%)`}`);
}
