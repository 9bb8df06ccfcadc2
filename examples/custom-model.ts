// Example: train your own model with a lopt optimizer.
//
// The model is defined here, not in lopt: a one-hidden-layer tanh network fitting y = sin(3x) on
// [-1, 1], with its own parameters (a plain Record of { shape, data } tensors) and its own forward
// and backward passes. lopt supplies the optimizer and the random keys.
//   node dist/examples/custom-model.js [optimizer] [steps]
import { fileURLToPath } from 'node:url';
import { getOptimizer, random, type Params } from 'lopt';

const HIDDEN = 32;
const BATCH = 64;

function initParams(key: random.Key): Params {
  const [k1, k2] = random.split(key);
  return {
    'net/hidden/w': { shape: [HIDDEN], data: random.normal(k1, HIDDEN, 1.0) },
    'net/hidden/b': { shape: [HIDDEN], data: new Float32Array(HIDDEN) },
    'net/out/w': { shape: [HIDDEN], data: random.normal(k2, HIDDEN, 1 / Math.sqrt(HIDDEN)) },
    'net/out/b': { shape: [1], data: new Float32Array(1) },
  };
}

/** Mean squared error of the network on (xs, ys) and its gradient with respect to every parameter. */
function lossAndGrad(params: Params, xs: Float32Array, ys: Float32Array): { loss: number; grads: Params } {
  const w1 = params['net/hidden/w'].data, b1 = params['net/hidden/b'].data;
  const w2 = params['net/out/w'].data, b2 = params['net/out/b'].data;
  const grads: Params = {
    'net/hidden/w': { shape: [HIDDEN], data: new Float32Array(HIDDEN) },
    'net/hidden/b': { shape: [HIDDEN], data: new Float32Array(HIDDEN) },
    'net/out/w': { shape: [HIDDEN], data: new Float32Array(HIDDEN) },
    'net/out/b': { shape: [1], data: new Float32Array(1) },
  };
  let loss = 0;
  const h = new Float32Array(HIDDEN);
  for (let n = 0; n < xs.length; n++) {
    let prediction = b2[0];
    for (let j = 0; j < HIDDEN; j++) {
      h[j] = Math.tanh(w1[j] * xs[n] + b1[j]);
      prediction += w2[j] * h[j];
    }
    const error = prediction - ys[n];
    loss += (error * error) / xs.length;
    const dPrediction = (2 * error) / xs.length;
    grads['net/out/b'].data[0] += dPrediction;
    for (let j = 0; j < HIDDEN; j++) {
      grads['net/out/w'].data[j] += dPrediction * h[j];
      const dPre = dPrediction * w2[j] * (1 - h[j] * h[j]);
      grads['net/hidden/w'].data[j] += dPre * xs[n];
      grads['net/hidden/b'].data[j] += dPre;
    }
  }
  return { loss, grads };
}

/** Trains the model and returns the loss of every step. */
export function trainCustomModel(optimizerName = 'adam', steps = 500, seed = 0): number[] {
  const [initKey, dataKey] = random.split(random.keyFromSeed(seed));
  const optimizer = getOptimizer(optimizerName, { learningRate: 0.01 });
  let state = optimizer.init(initParams(initKey), { numSteps: steps });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const xs = random.uniform(random.foldIn(dataKey, step), BATCH, -1, 1);
    const ys = xs.map((x) => Math.sin(3 * x));
    const { loss, grads } = lossAndGrad(optimizer.getParams(state), xs, ys);
    state = optimizer.update(state, grads, { loss });
    losses.push(loss);
  }
  return losses;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const losses = trainCustomModel(process.argv[2] ?? 'adam', Number(process.argv[3] ?? 500));
  console.log(`loss: first ${losses[0].toFixed(4)}, last ${losses[losses.length - 1].toFixed(4)}`);
}
