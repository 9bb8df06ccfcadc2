// The learner's gate for gradient estimates: each is judged once against the θ versions it may
// use (no older than `staleness` versions, and the very θ published under that version: a resumed
// learner republishes a version with a new tag) and against every job id already applied or waiting
// in the batch, so a gradient is never applied twice. A full batch is handed over and its job ids
// remembered (they go into the checkpoint).

export interface Candidate {
  jobId: string;
  thetaVersion: number;
  thetaTag: string;
}

export type Verdict = 'accepted' | 'duplicate' | 'stale' | 'unknown-theta';

export class EstimateBatcher<T extends Candidate> {
  private readonly applied: Set<string>;
  private pending: T[] = [];
  private readonly tags = new Map<number, string>();
  private current = -1;

  constructor(readonly batchSize: number, readonly staleness: number, applied: Iterable<string> = []) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`meta-batch must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(staleness) || staleness < 0) throw new Error(`staleness must be a non-negative integer, got ${staleness}`);
    this.applied = new Set(applied);
  }

  /** θ version `version` is now published under `tag`; versions older than the staleness bound are forgotten. */
  publish(version: number, tag: string): void {
    this.tags.set(version, tag);
    this.current = version;
    for (const v of this.tags.keys()) if (v < version - this.staleness) this.tags.delete(v);
  }

  get version(): number { return this.current; }

  /** Judges one estimate; an accepted one waits in the batch. */
  offer(est: T): { verdict: Verdict; staleness: number } {
    const staleness = this.current - est.thetaVersion;
    if (this.applied.has(est.jobId) || this.pending.some((p) => p.jobId === est.jobId)) return { verdict: 'duplicate', staleness };
    if (staleness > this.staleness) return { verdict: 'stale', staleness };
    if (staleness < 0 || this.tags.get(est.thetaVersion) !== est.thetaTag) return { verdict: 'unknown-theta', staleness };
    this.pending.push(est);
    return { verdict: 'accepted', staleness };
  }

  get size(): number { return this.pending.length; }
  full(): boolean { return this.pending.length >= this.batchSize; }

  /** The batch (oldest first); its job ids count as applied from now on. */
  take(): T[] {
    const batch = this.pending.slice(0, this.batchSize);
    this.pending = this.pending.slice(this.batchSize);
    for (const e of batch) this.applied.add(e.jobId);
    return batch;
  }

  /** Every job id applied so far (for the checkpoint). */
  appliedIds(): string[] {
    return [...this.applied];
  }
}
