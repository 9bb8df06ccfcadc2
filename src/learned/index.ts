// The learned-optimizers module: the interface, the registry, the optimizers, weight files.
export type { LearnedOptimizer } from './learned-optimizer.js';
export { learned, LEARNED_OPTIMIZER_NAMES } from './registry.js';
export type { LearnedOptimizerName, LoadedWeights } from './registry.js';
export type { LearnedOptions, OptionSpec, OptionValue } from './options.js';
export { smallFcLopt } from './small-fc-lopt.js';
export { featureMlpLopt } from './feature-mlp-lopt.js';
export { fcLopt } from './fc-lopt.js';
export { rnnFcLopt, RNN_TENSOR_FEATURE_NAMES } from './rnn-fc-lopt.js';
export type { RnnFcLoptState } from './rnn-fc-lopt.js';
export { nnAdam, NN_ADAM_FEATURE_NAMES, nnAdamTransforms } from './nn-adam.js';
export type { NnAdamState } from './nn-adam.js';
export { FEATURE_SET_NAMES, featureSet, type FeatureSet } from './features.js';
export { tanhTimeFeatures, sinTimeFeatures, TIMESCALES } from './time-features.js';
export { decayFromOffset } from './decays.js';
export type { FeatureMlpLearnedOptimizer, FeatureMlpState } from './feature-mlp.js';
export { decodeWeights, encodeWeights, loadWeights, metaTrainedOn, saveWeights, thetaFor, WeightsError, WEIGHTS_FORMAT, WEIGHTS_FORMAT_VERSION } from './weights.js';
export type { LearnedWeights, Provenance } from './weights.js';
