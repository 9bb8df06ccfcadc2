// The browser demo (examples/browser/index.html, `npm run demo`): one TensorFlow.js model trained from
// the same initial weights with small_fc_lopt and with Adam, side by side, both through lopt/tfjs
// (loptOptimizer) on lopt's WebAssembly kernels (init() of lopt/browser), the loss curves drawn live.
// scripts/build-browser.mjs bundles it with TensorFlow.js into dist/browser/demo.js.
// window.loptDemo exposes the progress (test/browser/demo.test.ts reads it).
import * as tf from '@tensorflow/tfjs';
import { backendName, init } from '../../src/browser/index.js';
import { loptOptimizer } from '../../src/tfjs/index.js';
import { drawLosses, type Series } from './plot.js';
import { spirals } from './spirals.js';

/** Steps per optimizer: 300, or ?steps=N in the page's URL. */
const STEPS = Number(new URLSearchParams(location.search).get('steps') ?? 300);
const WEIGHTS_URL = '/pretrained/small_fc_lopt.safetensors';

/** The page's progress, window.loptDemo. */
export interface DemoState {
  backend: string;
  step: number;
  done: boolean;
  error: string | null;
  losses: Record<string, number[]>;
}

const state: DemoState = { backend: '', step: 0, done: false, error: null, losses: { small_fc_lopt: [], adam: [] } };
(globalThis as unknown as { loptDemo: DemoState }).loptDemo = state;

function mlp(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [2], units: 32, activation: 'relu' }),
      tf.layers.dense({ units: 32, activation: 'relu' }),
      tf.layers.dense({ units: 3 }),
    ],
  });
}

function status(text: string): void {
  const element = document.getElementById('status');
  if (element) element.textContent = text;
}

async function main(): Promise<void> {
  state.backend = await init();
  await tf.setBackend('cpu'); // small dense layers: the CPU backend is quick and the same everywhere
  const weights = new Uint8Array(await (await fetch(WEIGHTS_URL)).arrayBuffer());
  const data = spirals(100, 3, 7);
  const x = tf.tensor2d(data.points, [data.count, 2]);
  const y = tf.oneHot(tf.tensor1d(data.labels, 'int32'), data.classes);
  const models = { small_fc_lopt: mlp(), adam: mlp() };
  models.adam.setWeights(models.small_fc_lopt.getWeights());
  const optimizers = {
    small_fc_lopt: loptOptimizer('small_fc_lopt', { weights, numSteps: STEPS }),
    adam: loptOptimizer('adam', { learningRate: 0.003 }),
  };
  const canvas = document.getElementById('plot') as HTMLCanvasElement;
  const series: Series[] = [
    { label: 'small_fc_lopt', color: '#d62728', values: state.losses.small_fc_lopt },
    { label: 'Adam', color: '#1f77b4', values: state.losses.adam },
  ];
  for (let step = 0; step < STEPS; step++) {
    for (const name of ['small_fc_lopt', 'adam'] as const) {
      const model = models[name];
      const cost = optimizers[name].minimize(() => tf.losses.softmaxCrossEntropy(y, model.predict(x) as tf.Tensor) as tf.Scalar, true);
      state.losses[name].push(cost!.dataSync()[0]);
      cost!.dispose();
    }
    state.step = step + 1;
    drawLosses(canvas, series, STEPS);
    status(`backend ${backendName()} · step ${step + 1}/${STEPS}`);
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
  state.done = true;
  status(`backend ${backendName()} · done: ${STEPS} steps`);
}

main().catch((error: Error) => {
  state.error = error.message;
  status(`error: ${error.message}`);
  console.error(error);
});
