// The public entry of the lopt package (the light core): re-exports only.
/**
 * The light core, `import … from 'lopt'`: the engine, layers, data, tasks, hand-designed and learned
 * optimizers, training and meta-training. It loads none of the optional packages.
 *
 * @module lopt
 */
export type { Backend, BackendInfo, BackendName } from './engine/backend.js';
export { getBackend, parseBackendChoice, type BackendChoice } from './engine/select.js';
export { referenceBackend } from './engine/reference.js';
export * from './engine/tensor.js';
export * as random from './engine/random.js';
export type { Key } from './engine/random.js';
export * as nn from './nn/index.js';
export * as data from './data/index.js';
export { tasks, taskFamilies, type Task, type TaskFamily, type TaskOptions, type TaskKnobs } from './tasks/index.js';
export { mixtureFamily, mixtureTaskNames, variantName, MIXTURES, PAPER_MIX, type MixtureVariant } from './tasks/mixture.js';
export * from './optimizers/index.js';
export { learned, type LearnedOptimizer, type LearnedOptimizerName, type LearnedOptions, type LoadedWeights, type Provenance } from './learned/index.js';
export { train, evaluateSplit, type TrainOptions, type TrainResult, type Evaluation } from './training/train.js';
export { DivergenceDetector, findDivergence, describeDivergence, resolveDivergenceRule, DEFAULT_DIVERGENCE_RULE, type Divergence, type DivergenceRule } from './meta/divergence.js';
export * as meta from './meta/index.js';
// Types that the exported interfaces above name (a Task's datasets, a Backend's kernel arguments, …),
// exported so that the API reference (`npm run docs`) documents them.
export type { FactoredDims, ConvGeometry } from './engine/backend.js';
export type { MlpLoptTensor, MlpLoptNet, MlpLoptFactored } from './engine/mlp-lopt.js';
export type { TaskDatasets, LossAndGrad } from './tasks/task.js';
export type { OptionSpec, OptionValue } from './learned/options.js';
export type { BatchLike } from './training/train.js';
export type { IdxArray } from './data/idx.js';
export type { SlotReduction } from './meta/estimators.js';
export type { ExecutorFactory } from './meta/learner.js';
export { metaTrain, MetaLearner, type MetaRunOptions, type MetaRunResult } from './meta/index.js';
// The study (SQLite, vega) and distributed meta-training (BullMQ, ioredis) have entries of their own,
// `lopt/study` and `lopt/distributed`, so that this one loads none of those optional packages.
