// The distributed learner's checkpoint: the local learner's snapshot (θ, Adam state, counters)
// plus what only the distributed learner knows — the job ids already applied (so a gradient is
// never applied twice across a restart), the θ awaiting evaluation, and how much of metrics.jsonl
// the checkpoint covers. One file under <out>/checkpoint/, written atomically; read from there only.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { LearnerSnapshot } from '../meta/learner.js';

const FILE = 'distributed.v8';
const KIND = 'lopt-distributed-checkpoint';

export interface DistributedCheckpoint {
  snap: LearnerSnapshot;
  applied: string[];
  metricsBytes: number;
  /** θ published for evaluation whose results have not come back. */
  evalThetas: { version: number; outerStep: number; theta: Float32Array; tag: string }[];
  /** Versions whose evaluation has been recorded. */
  evaluated: number[];
  initialEvalLoss: number | null;
  lastEvalLoss: { version: number; loss: number } | null;
}

export function distributedCheckpointFile(dir: string): string {
  return join(dir, FILE);
}

export function hasDistributedCheckpoint(dir: string): boolean {
  return existsSync(distributedCheckpointFile(dir));
}

export function saveDistributedCheckpoint(dir: string, ck: DistributedCheckpoint): void {
  writeFileAtomic(distributedCheckpointFile(dir), serialize({ kind: KIND, ck }));
}

export function loadDistributedCheckpoint(dir: string): DistributedCheckpoint {
  const file = distributedCheckpointFile(dir);
  if (!existsSync(file)) throw new Error(`no distributed checkpoint in ${dir}: nothing to resume (start without --resume)`);
  let data: { kind?: string; ck?: DistributedCheckpoint };
  try {
    data = deserialize(readFileSync(file)) as typeof data;
  } catch (error) {
    throw new Error(`cannot read checkpoint ${file}: ${(error as Error).message}`);
  }
  if (data?.kind !== KIND || !data.ck?.snap) throw new Error(`${file} is not a lopt distributed meta-training checkpoint`);
  return data.ck;
}
