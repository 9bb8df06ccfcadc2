// The learner's job stock: keeps enough unroll jobs queued or running for the live workers (one
// batch plus one per live worker, at least one), issuing new ones with ids `<incarnation>.<seq>`
// that are never reused. Jobs a dead worker held are re-issued by the queue itself (stalled jobs,
// after reissueAfterMs) and count as outstanding here. One top-up runs at a time: a second call
// while one is under way gets that one.

/** What the stock needs of the unroll queue (BullMQ's Queue has it). */
export interface UnrollJobQueue {
  getJobCounts(...types: ('waiting' | 'active' | 'delayed' | 'prioritized')[]): Promise<Record<string, number>>;
  addBulk(jobs: UnrollJobSpec[]): Promise<unknown>;
}

export interface UnrollJobSpec {
  name: 'unroll';
  data: { kind: 'unroll'; issuedVersion: number; incarnation: number };
  opts: { jobId: string; removeOnComplete: boolean; removeOnFail: number };
}

export interface JobStockDeps {
  queue: UnrollJobQueue;
  /** How many workers are alive now (their heartbeats). */
  countLiveWorkers: () => Promise<number>;
  batchSize: number;
  incarnation: number;
  /** The θ version new jobs are issued at. */
  version: () => number;
  /** False once training is over: no more jobs are issued. */
  issuing: () => boolean;
}

export class JobStock {
  private seq = 0;
  private depth = 0;
  private live = 0;
  private topping: Promise<void> | null = null;

  constructor(private readonly d: JobStockDeps) {}

  /** Jobs waiting in the queue at the last top-up. */
  get queueDepth(): number { return this.depth; }
  /** Live workers at the last top-up. */
  get liveWorkers(): number { return this.live; }
  /** Jobs issued by this stock so far. */
  get issued(): number { return this.seq; }

  topUp(): Promise<void> {
    this.topping ??= (async () => {
      try {
        if (!this.d.issuing()) return;
        const counts = await this.d.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        this.depth = counts.waiting ?? 0;
        const outstanding = Object.values(counts).reduce((a, b) => a + b, 0);
        this.live = await this.d.countLiveWorkers();
        const target = this.d.batchSize + Math.max(1, this.live);
        const jobs: UnrollJobSpec[] = [];
        for (let k = outstanding; k < target; k++) {
          const jobId = `${this.d.incarnation}.${this.seq++}`;
          jobs.push({
            name: 'unroll', data: { kind: 'unroll', issuedVersion: this.d.version(), incarnation: this.d.incarnation },
            opts: { jobId, removeOnComplete: true, removeOnFail: 100 },
          });
        }
        if (jobs.length) await this.d.queue.addBulk(jobs);
      } finally {
        this.topping = null;
      }
    })();
    return this.topping;
  }
}
