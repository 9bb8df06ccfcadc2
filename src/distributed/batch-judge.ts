// The learner's batch judge: every result the learner receives passes here once. A result that does
// not parse (forged, malformed, oversized) is rejected; an estimate goes to the EstimateBatcher, which
// keeps it for the batch only when it is within the staleness bound, for the very θ published under
// its version, and its job id was never applied or batched. The judge counts what it drops, by
// reason, since the previous update (for its metrics row) and in total (for the run's result).
import { EstimateBatcher, type Verdict } from './batcher.js';
import { MessageRejected, parseResult, type EstimateMessage, type ResultMessage } from './messages.js';

export type DropReason = Exclude<Verdict, 'accepted'> | 'rejected';
export type DropCounts = Record<DropReason, number>;
export interface DroppedJob { jobId: string; workerId: string; verdict: string }

const noDrops = (): DropCounts => ({ duplicate: 0, stale: 0, 'unknown-theta': 0, rejected: 0 });

/** A full batch and what was dropped since the previous one. */
export interface JudgedBatch {
  batch: EstimateMessage[];
  dropped: DropCounts;
  droppedJobs: DroppedJob[];
}

export interface BatchJudgeOptions {
  batchSize: number;
  staleness: number;
  /** Job ids applied before (from the checkpoint). */
  applied?: Iterable<string>;
  /** θ entries: a result's gradient must have this many. */
  count: number;
  log: (line: string) => void;
}

export class BatchJudge {
  private readonly batcher: EstimateBatcher<EstimateMessage>;
  private droppedNow = noDrops();
  private droppedJobs: DroppedJob[] = [];
  private readonly droppedTotal = noDrops();

  constructor(private readonly o: BatchJudgeOptions) {
    this.batcher = new EstimateBatcher<EstimateMessage>(o.batchSize, o.staleness, o.applied ?? []);
  }

  /** θ version `version` is now published under `tag`. */
  publish(version: number, tag: string): void { this.batcher.publish(version, tag); }

  /** A result job's data, parsed; null (counted as rejected, logged) when it is not a valid result. */
  parse(data: unknown, jobId: unknown): ResultMessage | null {
    try {
      return parseResult(data, this.o.count);
    } catch (error) {
      if (!(error instanceof MessageRejected)) throw error;
      this.o.log(`rejected result ${String(jobId).slice(0, 80)}: ${error.message}`);
      this.reject();
      return null;
    }
  }

  /** Counts a result rejected elsewhere (an evaluation of a θ this learner did not publish). */
  reject(): void {
    this.droppedNow.rejected++;
    this.droppedTotal.rejected++;
  }

  /** Judges one estimate; an accepted one waits in the batch. */
  offer(m: EstimateMessage): Verdict {
    const { verdict } = this.batcher.offer(m);
    if (verdict !== 'accepted') {
      this.droppedNow[verdict]++;
      this.droppedTotal[verdict]++;
      this.droppedJobs.push({ jobId: m.jobId, workerId: m.workerId, verdict });
      if (verdict === 'duplicate') this.o.log(`dropped a second estimate for job ${m.jobId} (from ${m.workerId}): already applied or batched`);
    }
    return verdict;
  }

  full(): boolean { return this.batcher.full(); }

  /** The full batch (its job ids count as applied from now on) and the drops since the previous one. */
  take(): JudgedBatch {
    const judged = { batch: this.batcher.take(), dropped: this.droppedNow, droppedJobs: this.droppedJobs };
    this.droppedNow = noDrops();
    this.droppedJobs = [];
    return judged;
  }

  /** Every job id applied so far (for the checkpoint). */
  appliedIds(): string[] { return this.batcher.appliedIds(); }

  /** Drops over this learner's run. */
  get totals(): DropCounts { return this.droppedTotal; }
}
