// Study runs spread over worker_threads (one per core by default): each worker keeps its tasks (and
// their loaded data) across runs; the main thread hands out jobs one at a time and records results.
import { Worker } from 'node:worker_threads';
import type { BackendChoice } from '../engine/select.js';
import type { RunJob, RunOutcome } from './run-job.js';

export interface PoolOptions {
  workers: number;
  /** Backend choice each worker resolves (native, reference, auto). */
  backend: BackendChoice;
  dataDir?: string;
}

class RunWorker {
  private readonly worker: Worker;
  private pending: { resolve: (o: RunOutcome) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(options: PoolOptions) {
    this.worker = new Worker(new URL('./pool-worker.js', import.meta.url), {
      workerData: { backend: options.backend, dataDir: options.dataDir },
    });
    this.worker.on('message', (msg: { ok: boolean; outcome?: RunOutcome; error?: string }) => {
      const p = this.pending;
      this.pending = null;
      if (!p) return;
      if (msg.ok) p.resolve(msg.outcome!);
      else p.reject(new Error(msg.error));
    });
    const fail = (error: Error) => {
      this.failure = error;
      this.pending?.reject(error);
      this.pending = null;
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (code !== 0) fail(new Error(`a study worker exited with code ${code}`));
    });
  }

  run(job: RunJob): Promise<RunOutcome> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(job);
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

export interface RunAllOptions {
  /** Polled before each job is handed out: true → hand out no more (runs in flight finish). */
  shouldStop?: () => boolean;
  /** Called in the main thread as each run finishes (record it here). */
  onDone: (job: RunJob, outcome: RunOutcome) => void;
}

export interface RunAllResult {
  completed: number;
  /** Jobs not started because shouldStop said so. */
  remaining: number;
}

export class RunPool {
  private readonly workers: RunWorker[] = [];

  constructor(readonly options: PoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new Error(`workers must be a positive integer, got ${options.workers}`);
  }

  get size(): number {
    return this.options.workers;
  }

  /** Runs `jobs` in order over the workers (started on first use); results in completion order. */
  async runAll(jobs: readonly RunJob[], options: RunAllOptions): Promise<RunAllResult> {
    const queue = [...jobs];
    let completed = 0;
    let failed: Error | null = null;
    const lanes = Math.min(this.options.workers, queue.length);
    while (this.workers.length < lanes) this.workers.push(new RunWorker(this.options));
    const lane = async (worker: RunWorker) => {
      while (queue.length > 0 && failed === null && !(options.shouldStop?.() ?? false)) {
        const job = queue.shift()!;
        let outcome: RunOutcome;
        try {
          outcome = await worker.run(job);
        } catch (error) {
          failed ??= new Error(`${job.task}/${job.spec.label} seed ${job.seed}: ${(error as Error).message}`);
          return;
        }
        options.onDone(job, outcome);
        completed++;
      }
    };
    await Promise.all(this.workers.slice(0, lanes).map(lane));
    if (failed) throw failed;
    return { completed, remaining: queue.length };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
