// Checkpoints of a meta-training run: the learner's whole snapshot (θ, Adam state, PES accumulators,
// every slot's persistent inner states, counters from which all random streams are derived, best θ),
// serialised with v8's structured clone (typed arrays and shared buffers kept as they are) and
// written atomically.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { LearnerSnapshot } from './learner.js';

const FILE = 'state.v8';

export function checkpointFile(dir: string): string {
  return join(dir, FILE);
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(checkpointFile(dir));
}

export function saveCheckpoint(dir: string, snap: LearnerSnapshot): void {
  writeFileAtomic(checkpointFile(dir), serialize({ kind: 'lopt-meta-checkpoint', nodeVersion: process.versions.v8, snap }));
}

export function loadCheckpoint(dir: string): LearnerSnapshot {
  const file = checkpointFile(dir);
  if (!existsSync(file)) throw new Error(`no checkpoint in ${dir}: nothing to resume`);
  let data: { kind?: string; snap?: LearnerSnapshot };
  try {
    data = deserialize(readFileSync(file)) as typeof data;
  } catch (error) {
    throw new Error(`cannot read checkpoint ${file}: ${(error as Error).message}`);
  }
  if (data?.kind !== 'lopt-meta-checkpoint' || !data.snap) throw new Error(`${file} is not a lopt meta-training checkpoint`);
  return data.snap;
}
