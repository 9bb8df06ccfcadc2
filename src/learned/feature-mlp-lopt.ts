// feature_mlp_lopt: the per-parameter MLP learned optimizer behind small_fc_lopt with a chosen feature
// set (the paper's §4.2 variants, src/learned/features.ts) and width/depth (Fig. 3), so the Fig. 2 and
// Fig. 3 sweeps are loops over names: feature_mlp_lopt {features: 'adafact_m_mul', hidden: 8}.
// (LO's `mlp_lopt` is fc_lopt; this family is not in LO's source.)
//
// Decays are fixed at the listed values, except for features=small_fc_lopt, which is small_fc_lopt
// itself (learned decay offsets). θ: nn/w{i}, nn/b{i} (plus the decay offsets for small_fc_lopt).
// Defaults: hidden 4, depth 2 (small_fc_lopt's MLP; the paper does not state the §4.2 width).
import type { Backend } from '../engine/backend.js';
import { featureMlpLearnedOptimizer, type FeatureMlpLearnedOptimizer } from './feature-mlp.js';
import { FEATURE_SET_NAMES, featureSet } from './features.js';
import { architectureOptions, depthSpec, hiddenSpec, MLP_PATH_SPEC, resolveOptions, type OptionSpec } from './options.js';
import { nnLayerNames } from './small-fc-lopt.js';

export const FEATURE_MLP_LOPT_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'features', kind: 'choice', default: 'small_fc_lopt', choices: FEATURE_SET_NAMES, architecture: true,
    description: 'input feature set (paper §4.2 / App. D.3)',
  },
  hiddenSpec(4),
  depthSpec(2),
  MLP_PATH_SPEC,
];

export function featureMlpLopt(options: Readonly<Record<string, unknown>> = {}, opts: { backend?: Backend } = {}): FeatureMlpLearnedOptimizer {
  const resolved = resolveOptions('feature_mlp_lopt', FEATURE_MLP_LOPT_OPTIONS, options);
  return featureMlpLearnedOptimizer({
    name: 'feature_mlp_lopt',
    features: featureSet(resolved.features as string),
    hidden: resolved.hidden as number,
    depth: resolved.depth as number,
    path: resolved.path as 'auto',
    layerNames: nnLayerNames,
    options: resolved,
    architecture: architectureOptions(FEATURE_MLP_LOPT_OPTIONS, resolved),
  }, opts);
}
