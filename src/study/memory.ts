// Memory: exact optimizer-state bytes and the peak RSS of a short training run, each optimizer in its
// own child process (src/study/memory-child.ts), relative to SGD's run on the same task.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BackendChoice } from '../engine/select.js';
import type { ResultsDb } from './db.js';
import { handDesignedSpec, type OptimizerSpec } from './optimizer-spec.js';

export interface MemoryChildRequest {
  task: string;
  taskOpts: Record<string, unknown>;
  spec: OptimizerSpec;
  steps: number;
  seed: number;
  backend: BackendChoice;
  dataDir?: string;
}

export interface MemoryChildReport {
  paramCount: number;
  stateBytes: number;
  engineBytes: number;
  /** Peak RSS in bytes (VmHWM; getrusage's maxRSS where /proc is missing). */
  peakRssBytes: number;
  /**
   * `training`: the mark was reset after the data set was loaded and garbage-collected, so this is
   * the peak while the optimizer was initialised and trained; `process`: the whole process (the
   * reset is Linux-only).
   */
  peakScope: 'training' | 'process';
}

/**
 * Bytes of the Float32Arrays reachable from `roots` (objects, arrays, Maps walked), each memory
 * range counted once: views sharing a buffer count the union of the ranges they cover.
 */
export function float32Bytes(roots: readonly unknown[]): number {
  const ranges = new Map<ArrayBufferLike, [number, number][]>();
  const seen = new Set<object>();
  const stack: unknown[] = [...roots];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object' || seen.has(value)) continue;
    seen.add(value);
    if (value instanceof Float32Array) {
      const list = ranges.get(value.buffer) ?? [];
      list.push([value.byteOffset, value.byteOffset + value.byteLength]);
      ranges.set(value.buffer, list);
    } else if (ArrayBuffer.isView(value)) {
      continue;
    } else if (value instanceof Map) {
      for (const v of value.values()) stack.push(v);
    } else if (Array.isArray(value)) {
      for (const v of value) stack.push(v);
    } else {
      for (const v of Object.values(value)) stack.push(v);
    }
  }
  let total = 0;
  for (const list of ranges.values()) {
    list.sort((a, b) => a[0] - b[0]);
    let [start, end] = list[0];
    for (const [s, e] of list.slice(1)) {
      if (s > end) {
        total += end - start;
        [start, end] = [s, e];
      } else {
        end = Math.max(end, e);
      }
    }
    total += end - start;
  }
  return total;
}

const CHILD = fileURLToPath(new URL('./memory-child.js', import.meta.url));

/** Runs one measurement in a fresh Node process. */
export function measureInChild(request: MemoryChildRequest): Promise<MemoryChildReport> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', CHILD, JSON.stringify(request)], { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) {
        // The child's own one-line error, else the error line of a crash's stack, else the exit status.
        const lines = stderr.trim().split('\n').filter((l) => l.trim() !== '');
        const why = lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.find((l) => !/^\s*at |^Node\.js v/.test(l)) ?? error.message;
        reject(new Error(`memory measurement of ${request.task}/${request.spec.label} failed: ${why}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as MemoryChildReport);
      } catch {
        reject(new Error(`memory measurement of ${request.task}/${request.spec.label} printed no report`));
      }
    });
  });
}

/**
 * The smallest peak RSS of `repeats` child runs. The same run's peak varies by tens of MiB (what
 * loading the data set leaves resident after garbage collection differs between processes; training
 * adds little); that noise only ever adds to what the run needs, so the minimum is the reproducible
 * figure.
 */
export async function measureRepeated(request: MemoryChildRequest, repeats: number): Promise<MemoryChildReport> {
  let best: MemoryChildReport | null = null;
  for (let i = 0; i < repeats; i++) {
    const report = await measureInChild(request);
    if (best === null || report.peakRssBytes < best.peakRssBytes) best = report;
  }
  return best!;
}

export interface MemoryRunOptions {
  steps: number;
  /** Child runs per optimizer; the smallest peak is kept. */
  repeats: number;
  backend: BackendChoice;
  dataDir?: string;
  /** Child processes at a time (peak RSS is per process, so they do not disturb each other). */
  concurrency: number;
  where: { backend: string; machine: string };
  shouldStop?: () => boolean;
  onMeasure?: (task: string, spec: OptimizerSpec, report: MemoryChildReport) => void;
}

/**
 * Measures every (task, optimizer) not yet in `memory`, plus SGD on each task as the baseline (also
 * recorded, ratio 1). Each child run trains `steps` steps from seed 0; peak_rss_bytes is the smallest
 * over `repeats` children of the peak RSS while training (see MemoryChildReport.peakScope).
 */
export async function runMemory(db: ResultsDb, tasks: readonly string[], specs: readonly OptimizerSpec[], options: MemoryRunOptions): Promise<{ measured: number; remaining: number }> {
  const sgd = handDesignedSpec('sgd');
  const withSgd = specs.some((s) => s.label === 'sgd') ? specs : [sgd, ...specs];
  let measured = 0;
  let remaining = 0;
  for (const task of tasks) {
    const todo = withSgd.filter((spec) => !db.hasMemory(task, spec.label));
    if (todo.length === 0) continue;
    if (options.shouldStop?.()) {
      remaining += todo.length;
      continue;
    }
    const request = (spec: OptimizerSpec): MemoryChildRequest => ({
      task, taskOpts: {}, spec, steps: options.steps, seed: 0, backend: options.backend, dataDir: options.dataDir,
    });
    // SGD's peak is the reference of every ratio: the recorded one, else measured first.
    const recorded = db.memory(task).find((row) => row.label === 'sgd');
    const base: MemoryChildReport = recorded
      ? { paramCount: recorded.param_count, stateBytes: recorded.state_bytes, engineBytes: recorded.engine_bytes, peakRssBytes: recorded.peak_rss_bytes, peakScope: 'training' }
      : await measureRepeated(request(withSgd.find((s) => s.label === 'sgd')!), options.repeats);
    const queue = [...todo];
    const record = (spec: OptimizerSpec, report: MemoryChildReport) => {
      db.upsertMemory({
        task, optimizer: spec.optimizer, label: spec.label, param_count: report.paramCount, state_bytes: report.stateBytes,
        state_bytes_per_param: report.stateBytes / report.paramCount, peak_rss_bytes: report.peakRssBytes,
        sgd_peak_rss_bytes: base.peakRssBytes, peak_rss_ratio: report.peakRssBytes / base.peakRssBytes,
        engine_bytes: report.engineBytes, backend: options.where.backend, machine: options.where.machine,
        measured_at: new Date().toISOString(),
      });
      measured++;
      options.onMeasure?.(task, spec, report);
    };
    const lane = async () => {
      while (queue.length > 0 && !(options.shouldStop?.() ?? false)) {
        const spec = queue.shift()!;
        record(spec, spec.label === 'sgd' ? base : await measureRepeated(request(spec), options.repeats));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, queue.length)) }, lane));
    remaining += queue.length;
  }
  return { measured, remaining };
}
