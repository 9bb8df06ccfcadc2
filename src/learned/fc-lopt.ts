// fc_lopt (LO learned_optimizers/mlp_lopt.py, MLPLOpt; "LOLv2"): 1,762 meta-parameters.
//
// Six fixed momenta (0.1, 0.5, 0.9, 0.99, 0.999, 0.9999); features g, p, m (8) normalised over the
// tensor plus 11 tanh time features = 19 inputs → 32 → ReLU → 32 → ReLU → 2. State: 6 floats per
// parameter. θ (LO's hk.nets.MLP `mlp/~/linear_i` with "~" dropped): mlp/linear_0/w [19, 32],
// mlp/linear_0/b [32], mlp/linear_1/w [32, 32], mlp/linear_1/b, mlp/linear_2/w [32, 2], mlp/linear_2/b.
import type { Backend } from '../engine/backend.js';
import { featureMlpLearnedOptimizer, type FeatureMlpLearnedOptimizer } from './feature-mlp.js';
import type { FeatureSet } from './features.js';
import { architectureOptions, depthSpec, hiddenSpec, MLP_PATH_SPEC, resolveOptions, type OptionSpec } from './options.js';

export const FC_LOPT_OPTIONS: readonly OptionSpec[] = [hiddenSpec(32), depthSpec(2), MLP_PATH_SPEC];

const FC_LOPT_FEATURES: FeatureSet = {
  name: 'fc_lopt', momentum: [0.1, 0.5, 0.9, 0.99, 0.999, 0.9999], rms: [], adafactor: [],
  mTimesRsqrtV: false, mTimesFactors: false, learnedDecays: false,
};

export function mlpLayerNames(layer: number): { w: string; b: string } {
  return { w: `mlp/linear_${layer}/w`, b: `mlp/linear_${layer}/b` };
}

export function fcLopt(options: Readonly<Record<string, unknown>> = {}, opts: { backend?: Backend } = {}): FeatureMlpLearnedOptimizer {
  const resolved = resolveOptions('fc_lopt', FC_LOPT_OPTIONS, options);
  return featureMlpLearnedOptimizer({
    name: 'fc_lopt',
    features: FC_LOPT_FEATURES,
    hidden: resolved.hidden as number,
    depth: resolved.depth as number,
    path: resolved.path as 'auto',
    layerNames: mlpLayerNames,
    options: resolved,
    architecture: architectureOptions(FC_LOPT_OPTIONS, resolved),
  }, opts);
}
