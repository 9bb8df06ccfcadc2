// A per-parameter MLP learned optimizer over a feature set with tanh time features: the common form of
// small_fc_lopt (LO AdafacMLPLOpt), the feature_mlp_lopt family and fc_lopt (LO MLPLOpt).
//
// Per step, for every tensor (docs/specification.md §10): update the accumulators, build the features
// from the updated values, normalise each over the tensor, append the 11 time features tanh(t/τ − 1)
// of the iteration t before the increment, run the MLP (ReLU between layers) to (d, mag) and
// p ← p − d·exp(0.001·mag)·0.001. The optimizer state is the iteration, the parameters and the
// accumulators (src/learned/per-param-mlp.ts).
import type { Backend } from '../engine/backend.js';
import { mlpLoptFeatureCount, type MlpLoptNet } from '../engine/mlp-lopt.js';
import type { Key } from '../engine/random.js';
import { getBackend } from '../engine/select.js';
import { cloneParams, type Params } from '../engine/tensor.js';
import { gradientFor } from '../optimizers/grads.js';
import { allocatorOf } from '../optimizers/factory.js';
import { constantSchedule } from '../optimizers/step-schedules.js';
import type { Optimizer, OptimizerInitOptions } from '../optimizers/optimizer.js';
import { decaysFromOffsets } from './decays.js';
import type { FeatureSet } from './features.js';
import { checkTheta, countShapes, type LearnedOptimizer, withLearnedSettings } from './learned-optimizer.js';
import { initMlp, mlpShapes, mlpWidths, packMlp, type MlpLayerNames } from './mlp-theta.js';
import { fanInStepScale, type LearnedOptions } from './options.js';
import {
  accumulateTensor, applyTensor, AUTO_GEMM_WIDTH, createTensorAccumulators, EXP_MULT, featureLayout, stateFloatsFor,
  STEP_MULT, tensorStateFloats, type PerParamFeatures, type TensorAccumulators,
} from './per-param-mlp.js';
import { tanhTimeFeatures, TIMESCALES } from './time-features.js';

/** θ names of LO's learned decay offsets. */
export const DECAY_OFFSET_NAMES = { momentum: 'momentum_decays', rms: 'rms_decays', adafactor: 'adafactor_decays' } as const;

export interface FeatureMlpDefinition {
  name: string;
  features: FeatureSet;
  hidden: number;
  depth: number;
  path: 'auto' | 'elementwise' | 'gemm';
  /** Updates of linear warmup of the step (STEP_WARMUP_SPEC; 0 or absent: none). */
  stepWarmup?: number;
  /** Factor on the step of the first `stepBoostSteps` updates (STEP_BOOST_SPEC; 1 or absent: none). */
  stepBoost?: number;
  stepBoostSteps?: number;
  /** Fan-in above which a tensor's step shrinks as (ref/fanIn)^power (STEP_FAN_IN_REF_SPEC; 0 or absent: none). */
  stepFanInRef?: number;
  stepFanInPower?: number;
  /** θ names of layer l. */
  layerNames: (layer: number) => MlpLayerNames;
  options: LearnedOptions;
  architecture: LearnedOptions;
}

export interface FeatureMlpState {
  /** Updates applied so far (LO's iteration). */
  iteration: number;
  numSteps: number;
  params: Params;
  /** Per-tensor accumulators in name order (the field keeps `slots`, the name saved states use). */
  slots: TensorAccumulators[];
}

export interface FeatureMlpLearnedOptimizer extends LearnedOptimizer {
  /** Inputs of the MLP: F normalised features then the 11 time features. */
  readonly inputWidth: number;
  readonly featureCount: number;
  optFn(theta: Params): Optimizer<FeatureMlpState>;
}

export function featureMlpLearnedOptimizer(def: FeatureMlpDefinition, opts: { backend?: Backend } = {}): FeatureMlpLearnedOptimizer {
  const fs = def.features;
  const layout = featureLayout({
    momentum: Float32Array.from(fs.momentum), rms: Float32Array.from(fs.rms), adafactor: Float32Array.from(fs.adafactor),
    logAbsP: false, mTimesRsqrtV: fs.mTimesRsqrtV, mTimesFactors: fs.mTimesFactors,
  });
  const featureCount = mlpLoptFeatureCount(layout);
  const inputWidth = featureCount + TIMESCALES.length;
  const widths = mlpWidths(inputWidth, def.hidden, def.depth, 2);
  const shapes: Record<string, number[]> = {};
  if (fs.learnedDecays) {
    shapes[DECAY_OFFSET_NAMES.momentum] = [fs.momentum.length];
    shapes[DECAY_OFFSET_NAMES.rms] = [fs.rms.length];
    shapes[DECAY_OFFSET_NAMES.adafactor] = [fs.adafactor.length];
  }
  Object.assign(shapes, mlpShapes(widths, def.layerNames));
  const path = def.path === 'auto' ? (def.hidden > AUTO_GEMM_WIDTH ? 'gemm' : 'elementwise') : def.path;

  function features(theta: Params | null): PerParamFeatures {
    const offsets = (name: string) => (theta && fs.learnedDecays ? theta[name].data : null);
    return {
      momentum: decaysFromOffsets(fs.momentum, offsets(DECAY_OFFSET_NAMES.momentum), false),
      rms: decaysFromOffsets(fs.rms, offsets(DECAY_OFFSET_NAMES.rms), true),
      adafactor: decaysFromOffsets(fs.adafactor, offsets(DECAY_OFFSET_NAMES.adafactor), true),
      logAbsP: false,
      mTimesRsqrtV: fs.mTimesRsqrtV,
      mTimesFactors: fs.mTimesFactors,
    };
  }

  return {
    name: def.name,
    paramCount: countShapes(shapes),
    options: Object.freeze({ ...def.options }),
    architecture: Object.freeze({ ...def.architecture }),
    thetaShapes: shapes,
    inputWidth,
    featureCount,
    init(key: Key): Params {
      const theta: Params = {};
      if (fs.learnedDecays) {
        theta[DECAY_OFFSET_NAMES.momentum] = { shape: [fs.momentum.length], data: new Float32Array(fs.momentum.length) };
        theta[DECAY_OFFSET_NAMES.rms] = { shape: [fs.rms.length], data: new Float32Array(fs.rms.length) };
        theta[DECAY_OFFSET_NAMES.adafactor] = { shape: [fs.adafactor.length], data: new Float32Array(fs.adafactor.length) };
      }
      Object.assign(theta, initMlp(key, widths, def.layerNames));
      return theta;
    },
    optFn(theta: Params): Optimizer<FeatureMlpState> {
      checkTheta(def.name, theta, shapes);
      const backend = opts.backend ?? getBackend();
      const allocate = allocatorOf(backend);
      const feats = features(theta);
      // Decays come from this θ on every update (as in LO), also for a state begun under another θ
      // (meta-training continues each inner state with the next θ); layout as in createTensorAccumulators.
      const decays = Float32Array.from([...feats.momentum, ...feats.rms, ...feats.adafactor]);
      const time = new Float32Array(TIMESCALES.length);
      // The built-in warmup is the composition's warmup schedule (step t scaled by t/N), applied inside.
      const warmup = def.stepWarmup ? constantSchedule(1, { warmupSteps: def.stepWarmup }) : null;
      const boost = def.stepBoost ?? 1;
      const boostSteps = boost === 1 ? 0 : def.stepBoostSteps ?? 0;
      const [fanInRef, fanInPower] = [def.stepFanInRef ?? 0, def.stepFanInPower ?? 1];
      const net: MlpLoptNet = {
        sizes: Int32Array.from(widths), params: packMlp(theta, widths, def.layerNames),
        scales: new Float32Array(featureCount), inputs: time, expMult: EXP_MULT, stepMult: STEP_MULT, path,
      };
      return withLearnedSettings({
        name: def.name,
        init(params: Params, initOpts: OptimizerInitOptions): FeatureMlpState {
          const own = cloneParams(params, allocate);
          return { iteration: 0, numSteps: initOpts.numSteps, params: own, slots: createTensorAccumulators(own, feats, false, allocate) };
        },
        update(state: FeatureMlpState, grads: Params): FeatureMlpState {
          tanhTimeFeatures(state.iteration, time);
          const timeScale = (warmup ? warmup(state.iteration, state.numSteps) : 1) * (state.iteration < boostSteps ? boost : 1);
          for (const tensor of state.slots) {
            tensor.kernel.decays = decays;
            if (tensor.n === 0) continue;
            const p = state.params[tensor.name];
            const g = gradientFor(def.name, grads, tensor.name, p);
            accumulateTensor(backend, tensor, g);
            net.stepMult = STEP_MULT * timeScale * fanInStepScale(p.shape, fanInRef, fanInPower);
            applyTensor(backend, tensor, net, null);
          }
          state.iteration += 1;
          return state;
        },
        getParams(state: FeatureMlpState): Params {
          return state.params;
        },
        stateBytes(params: Params): number {
          let floats = 0;
          for (const name of Object.keys(params)) floats += stateFloatsFor(params[name].shape, feats);
          return 4 * floats;
        },
      }, def.options, theta);
    },
  };
}

/** Optimizer-state floats actually held by a state (for checks against stateBytes). */
export function heldStateFloats(state: FeatureMlpState): number {
  return state.slots.reduce((sum, tensor) => sum + tensorStateFloats(tensor), 0);
}
