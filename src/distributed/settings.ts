// What every role of a distributed run must agree on, and how they check it: each role builds its
// estimator or evaluation from its own command line, and the learner publishes the digest of the
// run-defining settings; a worker or evaluator whose settings differ refuses to start, naming them.
import { createHash } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { LearnedOptimizer } from '../learned/learned-optimizer.js';
import type { MetaTrainOptions } from '../meta/learner.js';
import type { RetryPolicy } from './retry.js';

/** Options shared by the three roles. */
export interface RoleOptions {
  /** redis://[[user]:password@]host[:port][/db] or rediss://… */
  redis: string;
  /** Passed to tls.connect for rediss:// (e.g. `{ ca }`). */
  redisTls?: ConnectionOptions;
  /** Several runs can share one Redis: each has its own id. */
  runId: string;
  /** This process's folder: metrics.jsonl (and, for the learner, θ files and checkpoint/). */
  out: string;
  /** The meta-training settings (the same on every role; learner-only ones are ignored elsewhere). */
  train: Omit<MetaTrainOptions, 'theta'>;
  retry?: RetryPolicy;
  /** A job whose process stops renewing its lock for this long is re-issued (default 30 s). */
  reissueAfterMs?: number;
  /** One line of progress or warning (default: stderr). */
  log?: (line: string) => void;
  /** Polled: true → finish the current job / update, checkpoint (learner) and return. */
  shouldStop?: () => boolean;
}

export const DEFAULT_REISSUE_AFTER_MS = 30_000;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonical(v);
    }
    return out;
  }
  return value;
}

/** The settings that decide what an estimate or an evaluation means (machine-local paths excluded). */
export function runSettings(o: Omit<MetaTrainOptions, 'theta'>): Record<string, unknown> {
  const { dataDir: _dataDir, ...taskOptions } = (o.problem.taskOptions ?? {}) as Record<string, unknown>;
  return canonical({
    problem: { ...o.problem, taskOptions },
    estimator: o.estimator, numTasks: o.numTasks, truncLength: o.truncLength, innerSteps: o.innerSteps,
    schedule: o.schedule, initialOffset: o.initialOffset, std: o.std, metaLossAfterUpdate: o.metaLossAfterUpdate ?? false,
    seed: o.seed, evalSeeds: o.evalSeeds ?? 2, evalSteps: o.evalSteps,
  }) as Record<string, unknown>;
}

export function settingsDigest(settings: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(canonical(settings))).digest('hex');
}

/** The first setting that differs, as "numTasks is 4 here but 8 at the learner", or null. */
export function describeMismatch(mine: Record<string, unknown>, learner: Record<string, unknown>): string | null {
  for (const key of new Set([...Object.keys(mine), ...Object.keys(learner)])) {
    const a = JSON.stringify(mine[key] ?? null);
    const b = JSON.stringify(learner[key] ?? null);
    if (a !== b) return `${key} is ${a.slice(0, 120)} here but ${b.slice(0, 120)} at the learner`;
  }
  return null;
}

/** The number of values of θ (what every θ and gradient message must hold exactly). */
export function thetaCount(lopt: LearnedOptimizer): number {
  let n = 0;
  for (const shape of Object.values(lopt.thetaShapes)) n += shape.reduce((a, b) => a * b, 1);
  return n;
}
