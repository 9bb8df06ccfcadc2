// rnn_fc_lopt (LO learned_optimizers/rnn_mlp_lopt.py, RNNMLPLOpt): 35,799 meta-parameters. A per-tensor
// LSTM (64 units) conditions a per-parameter MLP (54 → 32 → 32 → 18) that makes the step.
//
// θ (LO's θ dict flattened with "/", Haiku's "~" dropped; weights [in, out]):
//   ffmod_params/mlp/linear_{0,1,2}/{w,b}   [54, 32], [32, 32], [32, 18]          3,410
//   rnn_params/rnn/linear/{w,b}             [116, 256] over [52 inputs, 64 hidden] 29,952
//   rnn_to_ff_params/rnn_to_ff/{w,b}        [64, 17]                                1,105
//   rnn_to_in_params/rnn_to_in/{w,b}        [64, 18]                                1,170
//   initial_from_lstm [18], initial_from_mlp [16], lstm_init_state/{hidden,cell} [1, 64]
//
// Per step (LO's update_is_training): the training-loss normaliser (decay 0.9) gives the loss features
// (the validation normaliser, decay 0.95, is never fed here: `update` has no validation losses, so its
// corrected mean stays 0, as in an LO run without validation updates); the dynamic gradient clipper
// (α 0.99, ×10) clips the gradients and updates from their mean square; momenta and rms at decays
// 0.5, 0.9, 0.99, 0.999, 0.9999 are updated; the LSTM reads 52 per-tensor inputs (18 from_lstm, 16
// from_mlp, 18 features, in alphabetical order of LO's names); its output gives the next from_lstm
// (mean over tensors of rnn_to_in) and 17 inputs to each tensor's MLP (rnn_to_ff). The MLP reads 23
// normalised per-parameter features (g, p, log(|p| + 1e-8), m, rms, m·rsqrt(rms + 1e-6),
// rsqrt(rms + 1e-6): alphabetical in LO) and 31 per-tensor ones (11 sin(t/(τπ)) time features,
// log(tensors) − 1, log(‖p‖ + 1e-8), log(n), the 17 from the LSTM); outputs 0 and 1 make the step,
// the mean of outputs 2-17 over the tensor is the next from_mlp. The per-parameter passes are the
// fused kernels of src/learned/per-param-mlp.ts; the rest runs here, per tensor.
import type { Backend } from '../engine/backend.js';
import type { MlpLoptNet } from '../engine/mlp-lopt.js';
import { split, truncatedNormal, type Key } from '../engine/random.js';
import { getBackend } from '../engine/select.js';
import { cloneParams, type Params } from '../engine/tensor.js';
import { varianceScalingWeight, zeroBias } from '../nn/init.js';
import { gradientFor } from '../optimizers/grads.js';
import type { Optimizer, OptimizerInitOptions, UpdateContext } from '../optimizers/optimizer.js';
import { checkTheta, countShapes, type LearnedOptimizer, withLearnedSettings } from './learned-optimizer.js';
import { createLstmScratch, lstmStep, type LstmScratch } from './lstm-step.js';
import { initMlp, mlpShapes, packMlp } from './mlp-theta.js';
import { MLP_PATH_SPEC, resolveOptions, type OptionSpec } from './options.js';
import {
  accumulateTensor, applyTensor, AUTO_GEMM_WIDTH, createTensorAccumulators, EXP_MULT, STEP_MULT, type PerParamFeatures,
  type TensorAccumulators,
} from './per-param-mlp.js';
import { sinTimeFeatures, TIMESCALES } from './time-features.js';

export const RNN_FC_LOPT_OPTIONS: readonly OptionSpec[] = [MLP_PATH_SPEC];

const DECAYS = [0.5, 0.9, 0.99, 0.999, 0.9999];
const LSTM_HIDDEN = 64;
const FROM_LSTM = 18;
const FROM_MLP = 16;
const LSTM_TO_FF = 17;
const TENSOR_FEATURES = 18;
const LSTM_INPUTS = FROM_LSTM + FROM_MLP + TENSOR_FEATURES; // 52
const MLP_FEATURES = 23;
const PER_TENSOR_INPUTS = TIMESCALES.length + 3 + LSTM_TO_FF; // 31
const MLP_WIDTHS = [MLP_FEATURES + PER_TENSOR_INPUTS, 32, 32, 2 + FROM_MLP]; // 54 → 32 → 32 → 18

/** The 18 per-tensor LSTM features after from_lstm and from_mlp, in LO's (alphabetical) order. */
export const RNN_TENSOR_FEATURE_NAMES = [
  'g_norm', 'is_scalar', 'mean_ms_mag', 'mean_ms_sign', 'mean_rms', 'mean_sign', 'mean_v_mag', 'mean_v_sign',
  'norm_weight', 'shape_0', 'shape_1', 'shape_2', 'shape_3', 'train_loss_feat', 'valid_loss_feat', 'var_ms',
  'var_rms', 'var_v',
] as const;

const ffNames = (layer: number) => ({ w: `ffmod_params/mlp/linear_${layer}/w`, b: `ffmod_params/mlp/linear_${layer}/b` });

const SHAPES: Record<string, number[]> = {
  ...mlpShapes(MLP_WIDTHS, ffNames),
  'rnn_params/rnn/linear/w': [LSTM_INPUTS + LSTM_HIDDEN, 4 * LSTM_HIDDEN],
  'rnn_params/rnn/linear/b': [4 * LSTM_HIDDEN],
  'rnn_to_ff_params/rnn_to_ff/w': [LSTM_HIDDEN, LSTM_TO_FF],
  'rnn_to_ff_params/rnn_to_ff/b': [LSTM_TO_FF],
  'rnn_to_in_params/rnn_to_in/w': [LSTM_HIDDEN, FROM_LSTM],
  'rnn_to_in_params/rnn_to_in/b': [FROM_LSTM],
  initial_from_lstm: [FROM_LSTM],
  initial_from_mlp: [FROM_MLP],
  'lstm_init_state/hidden': [1, LSTM_HIDDEN],
  'lstm_init_state/cell': [1, LSTM_HIDDEN],
};

const FEATURES: PerParamFeatures = {
  momentum: Float32Array.from(DECAYS), rms: Float32Array.from(DECAYS), adafactor: new Float32Array(0),
  logAbsP: true, mTimesRsqrtV: true, mTimesFactors: false,
};

/** clip(log(1e-8 + |x|), −5, 5) (LO's _clip_log_abs of rnn_mlp_lopt). */
function clipLogAbs(x: number): number {
  return Math.min(Math.max(Math.log(1e-8 + Math.abs(x)), -5), 5);
}

/** LO's _LossNormalizer state. */
interface LossNormalizer {
  mean: number;
  variance: number;
  updates: number;
}

function weightLoss(decay: number, s: LossNormalizer, loss: number): number {
  const c = 1 / (1 - decay ** s.updates + 1e-8);
  const l = (loss - s.mean * c) / Math.sqrt(s.variance * c + 1e-8);
  return Math.min(Math.max(l, -5), 5);
}

export interface RnnFcLoptState {
  iteration: number;
  params: Params;
  /** Per-tensor accumulators in name order (the field keeps `slots`, the name saved states use). */
  slots: TensorAccumulators[];
  /** Clipped gradients (buffers). */
  clipped: Float32Array[];
  /** LSTM state [tensors, 64]. */
  h: Float32Array;
  c: Float32Array;
  /** from_mlp [tensors, 16], from_lstm [18]. */
  fromMlp: Float32Array;
  fromLstm: Float32Array;
  trainLoss: LossNormalizer;
  validLoss: LossNormalizer;
  /** Dynamic gradient clipper: iteration (from 1) and the running mean gradient norm. */
  clip: { iteration: number; value: number };
  /** The LSTM inputs [tensors, 52] of the last step (kept for inspection). */
  lstmInputs: Float32Array;
  /** The LSTM step's scratch (rewritten every step; held here so the closure keeps no per-run buffers). */
  lstmScratch: LstmScratch;
}

export function rnnFcLopt(options: Readonly<Record<string, unknown>> = {}, opts: { backend?: Backend } = {}): LearnedOptimizer {
  const resolved = resolveOptions('rnn_fc_lopt', RNN_FC_LOPT_OPTIONS, options);
  const hidden = MLP_WIDTHS[1];
  const path = resolved.path === 'auto' ? (hidden > AUTO_GEMM_WIDTH ? 'gemm' : 'elementwise') : (resolved.path as 'gemm' | 'elementwise');
  return {
    name: 'rnn_fc_lopt',
    paramCount: countShapes(SHAPES),
    options: Object.freeze({ ...resolved }),
    architecture: Object.freeze({}),
    thetaShapes: SHAPES,
    init(key: Key): Params {
      const [k1, k2, k3, k4, k5, k6] = split(key, 6);
      // Haiku VarianceScaling() (scale 1, fan_in, truncated normal with its 0.8796 correction).
      const varianceScaling = (k: Key, size: number) => ({
        shape: [size], data: truncatedNormal(k, size, Math.sqrt(1 / size) / 0.87962566103423978, -2, 2),
      });
      return {
        initial_from_lstm: varianceScaling(k1, FROM_LSTM),
        initial_from_mlp: varianceScaling(k2, FROM_MLP),
        'lstm_init_state/hidden': zeroBias([1, LSTM_HIDDEN]),
        'lstm_init_state/cell': zeroBias([1, LSTM_HIDDEN]),
        'rnn_params/rnn/linear/w': varianceScalingWeight(k3, [LSTM_INPUTS + LSTM_HIDDEN, 4 * LSTM_HIDDEN], LSTM_INPUTS + LSTM_HIDDEN),
        'rnn_params/rnn/linear/b': zeroBias([4 * LSTM_HIDDEN]),
        'rnn_to_ff_params/rnn_to_ff/w': varianceScalingWeight(k4, [LSTM_HIDDEN, LSTM_TO_FF], LSTM_HIDDEN),
        'rnn_to_ff_params/rnn_to_ff/b': zeroBias([LSTM_TO_FF]),
        'rnn_to_in_params/rnn_to_in/w': varianceScalingWeight(k5, [LSTM_HIDDEN, FROM_LSTM], LSTM_HIDDEN),
        'rnn_to_in_params/rnn_to_in/b': zeroBias([FROM_LSTM]),
        ...initMlp(k6, MLP_WIDTHS, ffNames),
      };
    },
    optFn(theta: Params): Optimizer<RnnFcLoptState> {
      checkTheta('rnn_fc_lopt', theta, SHAPES);
      const backend = opts.backend ?? getBackend();
      const lstmW = theta['rnn_params/rnn/linear/w'].data;
      const lstmB = theta['rnn_params/rnn/linear/b'].data;
      const toFfW = theta['rnn_to_ff_params/rnn_to_ff/w'].data;
      const toFfB = theta['rnn_to_ff_params/rnn_to_ff/b'].data;
      const toInW = theta['rnn_to_in_params/rnn_to_in/w'].data;
      const toInB = theta['rnn_to_in_params/rnn_to_in/b'].data;
      const inputs = new Float32Array(PER_TENSOR_INPUTS);
      const net: MlpLoptNet = {
        sizes: Int32Array.from(MLP_WIDTHS), params: packMlp(theta, MLP_WIDTHS, ffNames), scales: new Float32Array(MLP_FEATURES),
        inputs, expMult: EXP_MULT, stepMult: STEP_MULT, path,
      };
      // Per-call scratch of a fixed size, fully rewritten within each update before it is read: it
      // carries nothing between updates (every per-run buffer lives in the state).
      const extraSums = new Float64Array(FROM_MLP);
      const F = MLP_FEATURES;
      return withLearnedSettings({
        name: 'rnn_fc_lopt',
        init(params: Params, initOpts: OptimizerInitOptions): RnnFcLoptState {
          void initOpts;
          const own = cloneParams(params);
          const slots = createTensorAccumulators(own, FEATURES, true);
          const tensors = slots.length;
          const h = new Float32Array(tensors * LSTM_HIDDEN);
          const c = new Float32Array(tensors * LSTM_HIDDEN);
          const fromMlp = new Float32Array(tensors * FROM_MLP);
          for (let t = 0; t < tensors; t++) {
            h.set(theta['lstm_init_state/hidden'].data, t * LSTM_HIDDEN);
            c.set(theta['lstm_init_state/cell'].data, t * LSTM_HIDDEN);
            fromMlp.set(theta.initial_from_mlp.data, t * FROM_MLP);
          }
          return {
            iteration: 0, params: own, slots, clipped: slots.map((s) => new Float32Array(s.n)), h, c, fromMlp,
            fromLstm: theta.initial_from_lstm.data.slice(),
            trainLoss: { mean: 0, variance: 0, updates: 0 }, validLoss: { mean: 0, variance: 0, updates: 0 },
            clip: { iteration: 1, value: 1 - 0.99 },
            lstmInputs: new Float32Array(tensors * LSTM_INPUTS),
            lstmScratch: createLstmScratch(tensors, LSTM_INPUTS, LSTM_HIDDEN),
          };
        },
        update(state: RnnFcLoptState, grads: Params, ctx: UpdateContext): RnnFcLoptState {
          const { slots } = state;
          const tensors = slots.length;
          const lstmInputs = state.lstmInputs;
          // Loss features from the training-loss normaliser after this loss.
          const loss = ctx.loss;
          const tl = state.trainLoss;
          tl.mean = 0.9 * tl.mean + 0.1 * loss;
          tl.variance = 0.9 * tl.variance + 0.1 * (tl.mean - loss) ** 2;
          tl.updates += 1;
          const trainLossFeature = weightLoss(0.9, tl, loss);
          const validMean = state.validLoss.mean / (1 - 0.95 ** state.validLoss.updates + 1e-8);
          const validLossFeature = weightLoss(0.9, tl, validMean);
          // Dynamic gradient clip, then the accumulators and feature moments from the clipped gradients.
          const clipAmount = (state.clip.value / (1 - 0.99 ** state.clip.iteration)) * 10;
          let meanSquares = 0;
          slots.forEach((tensor, t) => {
            const g = gradientFor('rnn_fc_lopt', grads, tensor.name, state.params[tensor.name]);
            backend.clip(g, -clipAmount, clipAmount, state.clipped[t]);
            if (tensor.n > 0) accumulateTensor(backend, tensor, state.clipped[t]);
            meanSquares += tensor.n > 0 ? tensor.moments[0] / tensor.n : NaN;
          });
          state.clip.value = state.clip.value * 0.99 + Math.sqrt(1e-8 + meanSquares / tensors) * 0.01;
          state.clip.iteration += 1;
          // The LSTM's inputs per tensor: from_lstm, from_mlp, then the 18 features.
          slots.forEach((tensor, t) => {
            const row = lstmInputs.subarray(t * LSTM_INPUTS, (t + 1) * LSTM_INPUTS);
            row.set(state.fromLstm, 0);
            row.set(state.fromMlp.subarray(t * FROM_MLP, (t + 1) * FROM_MLP), FROM_LSTM);
            const n = tensor.n;
            const m = tensor.moments;
            let sumM = 0;
            let sumMM = 0;
            let sumV = 0;
            let sumVV = 0;
            for (let k = 0; k < 5; k++) {
              sumMM += m[3 + k];
              sumM += m[F + 3 + k];
              sumVV += m[8 + k];
              sumV += m[F + 8 + k];
            }
            const meanM = sumM / (5 * n);
            const meanV = sumV / (5 * n);
            const meanP = m[F + 1] / n;
            const shape = state.params[tensor.name].shape;
            const dims = [...shape, 1, 1, 1, 1].slice(0, 4);
            const values: Record<(typeof RNN_TENSOR_FEATURE_NAMES)[number], number> = {
              g_norm: clipLogAbs(Math.sqrt(m[0])),
              is_scalar: shape.length === 0 ? 1 : -1,
              mean_ms_mag: clipLogAbs(meanM), mean_ms_sign: Math.sign(meanM),
              mean_rms: clipLogAbs(meanV), mean_sign: Math.sign(meanV),
              mean_v_mag: clipLogAbs(meanP), mean_v_sign: Math.sign(meanP),
              norm_weight: clipLogAbs(Math.sqrt(m[1])),
              shape_0: Math.log(dims[0]) - 1, shape_1: Math.log(dims[1]) - 1, shape_2: Math.log(dims[2]) - 1, shape_3: Math.log(dims[3]) - 1,
              train_loss_feat: trainLossFeature, valid_loss_feat: validLossFeature,
              var_ms: clipLogAbs(Math.max(sumMM / (5 * n) - meanM ** 2, 0)),
              var_rms: clipLogAbs(Math.max(sumVV / (5 * n) - meanV ** 2, 0)),
              var_v: clipLogAbs(Math.max(m[1] / n - meanP ** 2, 0)),
            };
            RNN_TENSOR_FEATURE_NAMES.forEach((name, f) => (row[FROM_LSTM + FROM_MLP + f] = values[name]));
          });
          const out = lstmStep(backend, tensors, LSTM_INPUTS, LSTM_HIDDEN, lstmInputs, state.h, state.c, lstmW, lstmB, state.lstmScratch);
          // Next from_lstm: the mean over tensors of rnn_to_in.
          for (let j = 0; j < FROM_LSTM; j++) {
            let sum = 0;
            for (let t = 0; t < tensors; t++) {
              let z = toInB[j];
              for (let k = 0; k < LSTM_HIDDEN; k++) z += out[t * LSTM_HIDDEN + k] * toInW[k * FROM_LSTM + j];
              sum += z;
            }
            state.fromLstm[j] = sum / tensors;
          }
          // Per tensor: the per-tensor MLP inputs, then the fused MLP pass.
          sinTimeFeatures(state.iteration, inputs);
          inputs[TIMESCALES.length] = Math.log(tensors) - 1;
          slots.forEach((tensor, t) => {
            if (tensor.n === 0) return;
            inputs[TIMESCALES.length + 1] = Math.log(Math.sqrt(tensor.moments[1]) + 1e-8);
            inputs[TIMESCALES.length + 2] = Math.log(tensor.n);
            for (let j = 0; j < LSTM_TO_FF; j++) {
              let z = toFfB[j];
              for (let k = 0; k < LSTM_HIDDEN; k++) z += out[t * LSTM_HIDDEN + k] * toFfW[k * LSTM_TO_FF + j];
              inputs[TIMESCALES.length + 3 + j] = z;
            }
            applyTensor(backend, tensor, net, extraSums);
            for (let j = 0; j < FROM_MLP; j++) state.fromMlp[t * FROM_MLP + j] = extraSums[j] / tensor.n;
          });
          state.iteration += 1;
          return state;
        },
        getParams(state: RnnFcLoptState): Params {
          return state.params;
        },
        stateBytes(params: Params): number {
          // 5 momenta and 5 rms per element; per tensor the LSTM state (2·64) and from_mlp (16); from_lstm.
          let floats = FROM_LSTM;
          for (const name of Object.keys(params)) floats += 10 * params[name].data.length + 2 * LSTM_HIDDEN + FROM_MLP;
          return 4 * floats;
        },
      }, resolved, theta);
    },
  };
}
