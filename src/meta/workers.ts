// Task slots spread over worker_threads: slot g lives in worker g mod W for the whole run, keeps its
// persistent state there, and reports per-step losses; the learner aggregates in slot order, so the
// θ trajectory is the same for any number of workers.
import { Worker } from 'node:worker_threads';
import type { SlotContext, SlotExecutor } from './slots.js';
import type { SlotState, UnrollResult } from './unroll.js';

interface Pending { resolve: (value: any) => void; reject: (error: Error) => void }

class SlotWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;

  constructor(ctx: SlotContext, readonly indices: number[], states: SlotState[]) {
    this.worker = new Worker(new URL('./worker-entry.js', import.meta.url), { workerData: { ctx, indices, states } });
    this.worker.on('message', (msg: { id: number; ok: boolean; value?: unknown; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.error));
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => { if (code !== 0) fail(new Error(`a meta-training worker exited with code ${code}`)); });
  }

  call<T>(type: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, type, ...args });
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * An executor factory with `count` worker threads (fewer when there are fewer slots). It resolves once
 * every worker has started and loaded its task data, so the first outer step times only stepping.
 */
export function workerExecutor(count: number) {
  return async (ctx: SlotContext, states: SlotState[]): Promise<SlotExecutor> => {
    const w = Math.max(1, Math.min(count, states.length));
    const workers: SlotWorker[] = [];
    for (let k = 0; k < w; k++) {
      const indices: number[] = [];
      for (let g = k; g < states.length; g += w) indices.push(g);
      workers.push(new SlotWorker(ctx, indices, indices.map((g) => states[g])));
    }
    const gather = async <T>(type: string, args: Record<string, unknown> = {}): Promise<T[]> => {
      const parts = await Promise.all(workers.map((wk) => wk.call<T[]>(type, args)));
      const out = new Array<T>(states.length);
      workers.forEach((wk, k) => wk.indices.forEach((g, j) => { out[g] = parts[k][j]; }));
      return out;
    };
    try {
      await Promise.all(workers.map((wk) => wk.call('ready')));
    } catch (error) {
      await Promise.all(workers.map((wk) => wk.terminate()));
      throw error;
    }
    return {
      run: (theta, draw, steps) => gather<UnrollResult>('run', { theta, draw, steps }),
      states: () => gather<SlotState>('states'),
      close: async () => { await Promise.all(workers.map((wk) => wk.terminate())); },
    };
  };
}
