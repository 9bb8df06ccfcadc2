// Meta-training: truncated unrolls, gradient estimators, the learner, checkpoints, local workers.
export { train, evaluateSplit, median, type TrainOptions, type TrainResult, type Evaluation } from '../training/train.js';
export { MetaLearner, metaLrAt, evaluateTheta, evaluateOptimizer, type MetaTrainOptions, type MetricsRow, type EvalRow, type LearnerSnapshot, type MetaLrSchedule } from './learner.js';
export { metaTrain, type MetaRunOptions, type MetaRunResult } from './run.js';
export { buildLopt, buildTaskSource, type MetaProblemSpec, type TaskSource } from './problem.js';
export { sampleLength, type TruncationSchedule } from './truncation.js';
export { SlotRunner, type EstimatorKind, type SlotState, type UnrollConfig, type UnrollResult } from './unroll.js';
export { reduceSlot, accumulateSlot, sanitize, perturbation } from './estimators.js';
export { contribute, type Estimator, type SlotReduction, type UnrollLengthOptions } from './estimator.js';
export { getEstimator, isEstimatorKind, estimatorList, ESTIMATOR_KINDS } from './estimators/index.js';
export { localExecutor, type SlotExecutor, type SlotContext } from './slots.js';
export { workerExecutor } from './workers.js';
export { saveCheckpoint, loadCheckpoint } from './checkpoint.js';
export { saveTheta, loadTheta, type ThetaProvenance } from './theta-file.js';
