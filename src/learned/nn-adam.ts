// nn_adam (LO learned_optimizers/nn_adam.py, NNAdam): 6,856 meta-parameters. A per-tensor LSTM (32
// units) adjusts each tensor's Adam hyperparameters every step; the step itself is Adam without bias
// correction with LO's modified ε: step = lr·(1 + ε)/(ε + sqrt(v + 1e-10))·m, gradients clipped to ±1000.
//
// θ (LO's θ dict flattened with "/", Haiku's "~" dropped; weights [in, out]):
//   lstm_init_state/hidden [1, 32], lstm_init_state/cell [1, 32]   (zeros at init)
//   rnn_params/rnn/linear/w [51, 128], rnn_params/rnn/linear/b [128]
//   rnn_to_controls_params/rnn_to_controls/w [32, 4], …/b [4]       (zeros at init: nn_adam = Adam)
//   per_layer_lr, per_layer_beta1, per_layer_beta2, per_layer_epsilon []   (transformed initial values)
// Hyperparameters live in a transformed space: lr and ε as 0.1·log x (inverse clip(exp(10x)) to
// [1e-8, 1e3] and [1e-11, 1e4]), betas as 0.1·log(1 − x) (inverse 1 − exp(clip(10x, −10, 0))).
//
// Per step and tensor (LO's order): the hyperparameters of the previous step set the Adam step
// (backend.nnAdamStep, which also sums the tensor statistics); the 19 LSTM inputs, in alphabetical
// order of their names, come from the parameters before the step, the clipped gradient, the new m, v
// and the previous transformed hyperparameters; the LSTM output × W gives 4 changes (×0.01) added to
// the transformed lr, β1, β2, ε, which are then clipped through their inverse and forward transforms.
import type { Backend } from '../engine/backend.js';
import { split, type Key } from '../engine/random.js';
import { getBackend } from '../engine/select.js';
import { cloneParams, sortedNames, type Params } from '../engine/tensor.js';
import { varianceScalingWeight, zeroBias } from '../nn/init.js';
import { gradientFor } from '../optimizers/grads.js';
import type { Optimizer, OptimizerInitOptions } from '../optimizers/optimizer.js';
import { checkTheta, countShapes, type LearnedOptimizer, withLearnedSettings } from './learned-optimizer.js';
import { createLstmScratch, lstmStep, type LstmScratch } from './lstm-step.js';
import { resolveOptions, type OptionSpec } from './options.js';

export const NN_ADAM_OPTIONS: readonly OptionSpec[] = [];

const HIDDEN = 32;
const INPUTS = 19;
const OUTPUT_SCALE = 0.01;

/** The 19 LSTM inputs in LO's (alphabetical) order. */
export const NN_ADAM_FEATURE_NAMES = [
  'beta1', 'beta2', 'epsilon', 'is_bias', 'is_scalar', 'lr', 'mean_g_mag', 'mean_g_sign', 'mean_gabs_mag',
  'mean_m_mag', 'mean_m_sign', 'mean_p_mag', 'mean_p_sign', 'mean_rms', 'mean_sign', 'var_g', 'var_m', 'var_p',
  'var_rms',
] as const;

const SHAPES: Record<string, number[]> = {
  'lstm_init_state/hidden': [1, HIDDEN],
  'lstm_init_state/cell': [1, HIDDEN],
  'rnn_params/rnn/linear/w': [INPUTS + HIDDEN, 4 * HIDDEN],
  'rnn_params/rnn/linear/b': [4 * HIDDEN],
  'rnn_to_controls_params/rnn_to_controls/w': [HIDDEN, 4],
  'rnn_to_controls_params/rnn_to_controls/b': [4],
  per_layer_lr: [],
  per_layer_beta1: [],
  per_layer_beta2: [],
  per_layer_epsilon: [],
};

/** LO's hyperparameter transforms (forward: value → θ space; inverse: θ space → clipped value). */
export const nnAdamTransforms = {
  lr: { forward: (x: number) => 0.1 * Math.log(x), inverse: (x: number) => Math.min(Math.max(Math.exp(10 * x), 1e-8), 1e3) },
  epsilon: { forward: (x: number) => 0.1 * Math.log(x), inverse: (x: number) => Math.min(Math.max(Math.exp(10 * x), 1e-11), 1e4) },
  beta: { forward: (x: number) => 0.1 * Math.log(1 - x), inverse: (x: number) => 1 - Math.exp(Math.min(Math.max(10 * x, -10), 0)) },
};

/** clip(log(1e-8 + |x|), −5, 5)·0.5 (LO's _clip_log_abs of nn_adam). */
function clipLogAbs(x: number): number {
  return Math.min(Math.max(Math.log(1e-8 + Math.abs(x)), -5), 5) * 0.5;
}

/**
 * The 19 LSTM inputs of one tensor (NN_ADAM_FEATURE_NAMES order) from nnAdamStep's stats [Σp, Σp², Σg',
 * Σg'², Σ|g'|, Σm, Σm², Σv, Σv²] (p before the step, g' clipped, m and v updated), its size and rank,
 * and its previous transformed hyperparameters [lr, β1, β2, ε]. Means are over the n elements;
 * variances are mean(x²) − mean(x)²; `_mag` and `var_` take clip(log(1e-8 + |x|), −5, 5)·0.5; the
 * hyperparameters clip(x, −5, 5)·0.2; is_bias / is_scalar are ±1 for rank 1 / rank 0.
 */
export function nnAdamFeatures(
  stats: ArrayLike<number>, n: number, rank: number, hparams: readonly number[], out: Float32Array = new Float32Array(INPUTS),
): Float32Array {
  const mean = (sum: number) => (n > 0 ? sum / n : NaN);
  const variance = (sum: number, sumSq: number) => Math.max(mean(sumSq) - mean(sum) ** 2, 0);
  const [sp, spp, sg, sgg, sga, sm, smm, sv, svv] = Array.from(stats);
  const [lrT, b1T, b2T, epsT] = hparams;
  const clip5 = (x: number) => Math.min(Math.max(x, -5), 5) * 0.2;
  const values: Record<(typeof NN_ADAM_FEATURE_NAMES)[number], number> = {
    beta1: clip5(b1T), beta2: clip5(b2T), epsilon: clip5(epsT), lr: clip5(lrT),
    is_bias: rank === 1 ? 1 : -1, is_scalar: rank === 0 ? 1 : -1,
    mean_g_mag: clipLogAbs(mean(sg)), mean_g_sign: Math.sign(mean(sg)), mean_gabs_mag: clipLogAbs(mean(sga)),
    mean_m_mag: clipLogAbs(mean(sm)), mean_m_sign: Math.sign(mean(sm)),
    mean_p_mag: clipLogAbs(mean(sp)), mean_p_sign: Math.sign(mean(sp)),
    mean_rms: clipLogAbs(mean(sv)), mean_sign: Math.sign(mean(sv)),
    var_g: clipLogAbs(variance(sg, sgg)), var_m: clipLogAbs(variance(sm, smm)),
    var_p: clipLogAbs(variance(sp, spp)), var_rms: clipLogAbs(variance(sv, svv)),
  };
  NN_ADAM_FEATURE_NAMES.forEach((feature, f) => (out[f] = values[feature]));
  return out;
}

export interface NnAdamState {
  iteration: number;
  params: Params;
  names: string[];
  m: Float32Array[];
  v: Float32Array[];
  /** Transformed hyperparameters per tensor: [lr, β1, β2, ε] × tensors. */
  hparams: Float64Array;
  /** LSTM state [tensors, 32]. */
  h: Float32Array;
  c: Float32Array;
  /** The LSTM inputs [tensors, 19] of the last step (rewritten every step). */
  lstmInputs: Float32Array;
  /** The LSTM step's scratch (rewritten every step; held here so the closure keeps no per-run buffers). */
  lstmScratch: LstmScratch;
}

export function nnAdam(options: Readonly<Record<string, unknown>> = {}, opts: { backend?: Backend } = {}): LearnedOptimizer {
  const resolved = resolveOptions('nn_adam', NN_ADAM_OPTIONS, options);
  return {
    name: 'nn_adam',
    paramCount: countShapes(SHAPES),
    options: Object.freeze({ ...resolved }),
    architecture: Object.freeze({}),
    thetaShapes: SHAPES,
    init(key: Key): Params {
      const [lstmKey] = split(key, 3);
      const scalar = (x: number) => ({ shape: [], data: Float32Array.of(x) });
      return {
        'lstm_init_state/hidden': zeroBias([1, HIDDEN]),
        'lstm_init_state/cell': zeroBias([1, HIDDEN]),
        'rnn_params/rnn/linear/w': varianceScalingWeight(lstmKey, [INPUTS + HIDDEN, 4 * HIDDEN], INPUTS + HIDDEN),
        'rnn_params/rnn/linear/b': zeroBias([4 * HIDDEN]),
        'rnn_to_controls_params/rnn_to_controls/w': zeroBias([HIDDEN, 4]),
        'rnn_to_controls_params/rnn_to_controls/b': zeroBias([4]),
        per_layer_lr: scalar(nnAdamTransforms.lr.forward(1e-4)),
        per_layer_beta1: scalar(nnAdamTransforms.beta.forward(0.9)),
        per_layer_beta2: scalar(nnAdamTransforms.beta.forward(0.999)),
        per_layer_epsilon: scalar(nnAdamTransforms.epsilon.forward(1e-8)),
      };
    },
    optFn(theta: Params): Optimizer<NnAdamState> {
      checkTheta('nn_adam', theta, SHAPES);
      const backend = opts.backend ?? getBackend();
      const w = theta['rnn_params/rnn/linear/w'].data;
      const b = theta['rnn_params/rnn/linear/b'].data;
      const wc = theta['rnn_to_controls_params/rnn_to_controls/w'].data;
      const bc = theta['rnn_to_controls_params/rnn_to_controls/b'].data;
      const initial = [theta.per_layer_lr, theta.per_layer_beta1, theta.per_layer_beta2, theta.per_layer_epsilon].map((t) => t.data[0]);
      // Per-call scratch of a fixed size, fully rewritten for each tensor before it is read: it carries
      // nothing between updates (every per-run buffer lives in the state).
      const stats = new Float64Array(9);
      return withLearnedSettings({
        name: 'nn_adam',
        init(params: Params, initOpts: OptimizerInitOptions): NnAdamState {
          void initOpts;
          const names = sortedNames(params);
          const tensors = names.length;
          const hparams = new Float64Array(4 * tensors);
          const h = new Float32Array(tensors * HIDDEN);
          const c = new Float32Array(tensors * HIDDEN);
          for (let t = 0; t < tensors; t++) {
            hparams.set(initial, 4 * t);
            h.set(theta['lstm_init_state/hidden'].data, t * HIDDEN);
            c.set(theta['lstm_init_state/cell'].data, t * HIDDEN);
          }
          const own = cloneParams(params);
          return {
            iteration: 0, params: own, names,
            m: names.map((n) => new Float32Array(own[n].data.length)),
            v: names.map((n) => new Float32Array(own[n].data.length)),
            hparams, h, c,
            lstmInputs: new Float32Array(tensors * INPUTS),
            lstmScratch: createLstmScratch(tensors, INPUTS, HIDDEN),
          };
        },
        update(state: NnAdamState, grads: Params): NnAdamState {
          const tensors = state.names.length;
          const features = state.lstmInputs;
          for (let t = 0; t < tensors; t++) {
            const name = state.names[t];
            const p = state.params[name];
            const g = gradientFor('nn_adam', grads, name, p);
            const [lrT, b1T, b2T, epsT] = state.hparams.subarray(4 * t, 4 * t + 4);
            const n = p.data.length;
            backend.nnAdamStep(
              p.data, state.m[t], state.v[t], g,
              nnAdamTransforms.lr.inverse(lrT), nnAdamTransforms.beta.inverse(b1T), nnAdamTransforms.beta.inverse(b2T),
              nnAdamTransforms.epsilon.inverse(epsT), stats,
            );
            nnAdamFeatures(stats, n, p.shape.length, [lrT, b1T, b2T, epsT], features.subarray(t * INPUTS, (t + 1) * INPUTS));
          }
          const out = lstmStep(backend, tensors, INPUTS, HIDDEN, features, state.h, state.c, w, b, state.lstmScratch);
          for (let t = 0; t < tensors; t++) {
            const hp = state.hparams.subarray(4 * t, 4 * t + 4);
            const delta = (j: number) => {
              let sum = bc[j];
              for (let k = 0; k < HIDDEN; k++) sum += out[t * HIDDEN + k] * wc[k * 4 + j];
              return sum * OUTPUT_SCALE;
            };
            const { lr, beta, epsilon } = nnAdamTransforms;
            hp[0] = lr.forward(lr.inverse(hp[0] + delta(0)));
            hp[1] = beta.forward(beta.inverse(hp[1] + delta(1)));
            hp[2] = beta.forward(beta.inverse(hp[2] + delta(2)));
            hp[3] = epsilon.forward(epsilon.inverse(hp[3] + delta(3)));
          }
          state.iteration += 1;
          return state;
        },
        getParams(state: NnAdamState): Params {
          return state.params;
        },
        stateBytes(params: Params): number {
          // m and v per element; per tensor the LSTM state (2·32) and 4 hyperparameters.
          let floats = 0;
          for (const name of Object.keys(params)) floats += 2 * params[name].data.length + 2 * HIDDEN + 4;
          return 4 * floats;
        },
      }, resolved, theta);
    },
  };
}
