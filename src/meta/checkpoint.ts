// Checkpoints of a meta-training run, in two forms:
// - `state.v8`, the learner's whole snapshot (θ, Adam state, PES accumulators, every slot's persistent
//   inner states, counters from which all random streams are derived, best θ): an exact resume.
// - `compact.v8`, the same without what the slots' inner runs hold (their optimizer states, PES
//   accumulators and positions in their runs): a few kilobytes, small enough to commit, from which a
//   run continues on another machine. Its slots start fresh inner runs with a new random initial step,
//   as LO's workers do when they restart (outer_trainers/lopt_truncated_step.py, init_step_state).
// Both are serialised with v8's structured clone and written atomically.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { writeFileAtomic } from '../util/atomic-write.js';
import { initialSlotStates } from './estimator.js';
import { getEstimator } from './estimators/index.js';
import type { LearnerSnapshot } from './learner.js';

const FILE = 'state.v8';
const COMPACT_FILE = 'compact.v8';

export function checkpointFile(dir: string): string {
  return join(dir, FILE);
}

export function compactCheckpointFile(dir: string): string {
  return join(dir, COMPACT_FILE);
}

/** Whether `dir` holds a checkpoint of either form. */
export function hasCheckpoint(dir: string): boolean {
  return existsSync(checkpointFile(dir)) || existsSync(compactCheckpointFile(dir));
}

/** The snapshot less the slots' inner runs: each slot keeps its key and run count (so new runs draw new tasks). */
export function compactSnapshot(snap: LearnerSnapshot): LearnerSnapshot {
  return {
    ...snap,
    accumulators: [],
    slots: snap.slots.map((s) => ({ ...s, step: 0, length: 0, pos: null, neg: null, consumed: 0, metaConsumed: 0 })),
  };
}

/** Writes both forms. */
export function saveCheckpoint(dir: string, snap: LearnerSnapshot): void {
  writeFileAtomic(checkpointFile(dir), serialize({ kind: 'lopt-meta-checkpoint', nodeVersion: process.versions.v8, snap }));
  writeFileAtomic(compactCheckpointFile(dir), serialize({ kind: 'lopt-meta-checkpoint-compact', nodeVersion: process.versions.v8, snap: compactSnapshot(snap) }));
}

function readSnapshot(file: string, kind: string): LearnerSnapshot {
  let data: { kind?: string; snap?: LearnerSnapshot };
  try {
    data = deserialize(readFileSync(file)) as typeof data;
  } catch (error) {
    throw new Error(`cannot read checkpoint ${file}: ${(error as Error).message}`);
  }
  if (data?.kind !== kind || !data.snap) throw new Error(`${file} is not a lopt meta-training checkpoint`);
  return data.snap;
}

export interface LoadedCheckpoint {
  snap: LearnerSnapshot;
  /** True when only the compact form was there: the slots start fresh inner runs. */
  compact: boolean;
}

/** The full checkpoint when present, else the compact one (with zero PES accumulators rebuilt). */
export function loadCheckpointWithForm(dir: string): LoadedCheckpoint {
  if (existsSync(checkpointFile(dir))) return { snap: readSnapshot(checkpointFile(dir), 'lopt-meta-checkpoint'), compact: false };
  const file = compactCheckpointFile(dir);
  if (!existsSync(file)) throw new Error(`no checkpoint in ${dir}: nothing to resume`);
  const snap = readSnapshot(file, 'lopt-meta-checkpoint-compact');
  snap.accumulators = initialSlotStates(getEstimator(snap.options.estimator), snap.slots.length, snap.theta.length);
  return { snap, compact: true };
}

export function loadCheckpoint(dir: string): LearnerSnapshot {
  return loadCheckpointWithForm(dir).snap;
}
