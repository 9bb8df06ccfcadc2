// small_fc_lopt (LO learned_optimizers/adafac_mlp_lopt.py, AdafacMLPLOpt): 197 meta-parameters.
//
// θ (names as LO's θ dict flattened with "/", Haiku's "~" path segments dropped; weights [in, out]):
//   momentum_decays [3], rms_decays [1], adafactor_decays [3]   decay offsets (0 at init)
//   nn/w0 [39, 4], nn/b0 [4], nn/w1 [4, 4], nn/b1 [4], nn/w2 [4, 2], nn/b2 [2]
// A θ saved from LO names the MLP `nn/~/w0` …: map `nn/~/X` to `nn/X`. Options `hidden` and `depth`
// (LO's hidden_size, hidden_layers; defaults 4 and 2) give the paper's Fig. 3 width sweep; nn/w{i},
// nn/b{i} then follow the widths. `path` chooses the native MLP implementation; `stepWarmup` builds a
// linear warmup of the step into the optimizer (the general-purpose weights use it), and `stepBoost`
// with `stepBoostSteps` a larger step for the first updates (the fmnist-mlp weights use it);
// `stepFanInRef` with `stepFanInPower` a smaller step on tensors of large fan-in.
import type { Backend } from '../engine/backend.js';
import { featureMlpLearnedOptimizer, type FeatureMlpLearnedOptimizer } from './feature-mlp.js';
import { featureSet } from './features.js';
import {
  architectureOptions, depthSpec, hiddenSpec, MLP_PATH_SPEC, resolveOptions, STEP_BOOST_SPEC, STEP_BOOST_STEPS_SPEC,
  STEP_FAN_IN_POWER_SPEC, STEP_FAN_IN_REF_SPEC, STEP_WARMUP_SPEC, type OptionSpec,
} from './options.js';

export const SMALL_FC_LOPT_OPTIONS: readonly OptionSpec[] = [
  hiddenSpec(4), depthSpec(2), MLP_PATH_SPEC, STEP_WARMUP_SPEC, STEP_BOOST_SPEC, STEP_BOOST_STEPS_SPEC,
  STEP_FAN_IN_REF_SPEC, STEP_FAN_IN_POWER_SPEC,
];

export function nnLayerNames(layer: number): { w: string; b: string } {
  return { w: `nn/w${layer}`, b: `nn/b${layer}` };
}

export function smallFcLopt(options: Readonly<Record<string, unknown>> = {}, opts: { backend?: Backend } = {}): FeatureMlpLearnedOptimizer {
  const resolved = resolveOptions('small_fc_lopt', SMALL_FC_LOPT_OPTIONS, options);
  return featureMlpLearnedOptimizer({
    name: 'small_fc_lopt',
    features: featureSet('small_fc_lopt'),
    hidden: resolved.hidden as number,
    depth: resolved.depth as number,
    path: resolved.path as 'auto',
    stepWarmup: resolved.stepWarmup as number,
    stepBoost: resolved.stepBoost as number,
    stepBoostSteps: resolved.stepBoostSteps as number,
    stepFanInRef: resolved.stepFanInRef as number,
    stepFanInPower: resolved.stepFanInPower as number,
    layerNames: nnLayerNames,
    options: resolved,
    architecture: architectureOptions(SMALL_FC_LOPT_OPTIONS, resolved),
  }, opts);
}
