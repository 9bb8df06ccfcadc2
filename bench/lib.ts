// What the benchmarks share, and what they use of the package, taken from its public entry as a user would.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { data, meta } from 'lopt';

export { getBackend, getOptimizer, tasks, train, data } from 'lopt';

/** Median of a list (the mean of the middle two for an even length). */
export const median: (values: ArrayLike<number>) => number = meta.median;

/** A python that can `import torch`: `python3`, else Debian's `/usr/bin/python3`. */
export function findTorchPython(): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return python;
  }
  return undefined;
}

export function locateFashionMnistDir(): string {
  const dir = data.locateFashionMnist();
  if (!dir) throw new Error('Fashion-MNIST not found: apt-get install dataset-fashion-mnist');
  return dir;
}

/**
 * Runs one of bench/'s PyTorch scripts and returns the JSON object of its last stdout line, or
 * undefined (saying why on stderr) when it fails.
 */
export function runTorchScript(python: string, script: string, args: string[]): Record<string, any> | undefined {
  const path = fileURLToPath(new URL(`../../bench/${script}`, import.meta.url));
  const run = spawnSync(python, [path, ...args], { encoding: 'utf8' });
  if (run.status !== 0) {
    process.stderr.write(`bench: ${script} failed: ${run.stderr.trim().split('\n').at(-1)}\n`);
    return undefined;
  }
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!);
}

/** Thread counts PyTorch runs at; its row in a comparison is the faster (PyTorch's best of 1 and 2). */
export const TORCH_THREADS = [1, 2] as const;

/** Thread counts lopt runs at: one, and every core (`lopt train`'s default). */
export function loptThreadCounts(): number[] {
  return [...new Set([1, availableParallelism()])];
}

export const threadsLabel = (threads: number): string => `${threads} thread${threads === 1 ? '' : 's'}`;

/** The fastest of timings keyed by thread count: [threads, ms]. */
export function fastest(byThreads: ReadonlyMap<number, number>): [number, number] {
  return [...byThreads].reduce((a, b) => (b[1] < a[1] ? b : a));
}
