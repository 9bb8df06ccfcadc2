// Distributed meta-training over Redis with BullMQ, the `lopt/distributed` entry: the learner,
// worker and evaluator roles, the Redis connection they share, and the message formats and gates
// they rely on. BullMQ and ioredis (optional packages) are loaded when a role runs or a connection
// opens; a missing one is an OptionalPackageMissing naming it.
/**
 * Distributed meta-training over Redis, `import … from 'lopt/distributed'`: the learner, worker and
 * evaluator roles (BullMQ and ioredis, optional packages) and their message formats.
 *
 * @module lopt/distributed
 */
export { runDistributedLearner, type LearnerOptions, type DistributedLearnerResult, type UpdateRow, type EstimateSummary } from './learner.js';
export { runDistributedWorker, estimatorSeed, type WorkerOptions, type WorkerResult } from './worker.js';
export { runDistributedEvaluator, type EvaluatorOptions, type EvaluatorResult } from './evaluator.js';
export { DEFAULT_REISSUE_AFTER_MS, runSettings, settingsDigest, type RoleOptions } from './settings.js';
export { SettingsMismatch } from './agents.js';
export { EstimateBatcher, type Candidate, type Verdict } from './batcher.js';
export { RedisUnreachableError, DEFAULT_RETRY, retryBudgetMs, formatDelay, type RetryPolicy } from './retry.js';
export { openRedis, connectRedis, type RedisLink, type OpenOptions, type RetryInfo } from './connect.js';
export { readBounded } from './redis-read.js';
export { parseRedisUrl, type RedisTarget } from './redis-url.js';
export { encodeFloat32, decodeFloat32 } from './codec.js';
export {
  MessageRejected, parseThetaRecord, parseResult, parseUnrollJob, parseEvalJob, encodeThetaRecord, encodeEstimate,
  encodeEvalResult, resultLimit, type ThetaRecord, type EstimateMessage, type EvalMessage, type ResultMessage,
} from './messages.js';
export { OptionalPackageMissing, OPTIONAL_PACKAGES, type OptionalPackage } from '../util/optional.js';
