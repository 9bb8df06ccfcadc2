// Benchmark: the Fashion-MNIST MLP training step (batch 128) with SGD and Adam: the native backend on one
// thread and on every core (`lopt train`'s default), the reference backend, and the same step in PyTorch
// on 1 and 2 threads when `import torch` works. Prints a table and one JSON line with medians and ratios
// measured side by side in this run; the headline ratio is our best thread count against PyTorch's
// (goal for Adam: at most 0.8).
import {
  fastest, findTorchPython, getBackend, getOptimizer, locateFashionMnistDir, loptThreadCounts, runTorchScript, tasks,
  threadsLabel, TORCH_THREADS, train,
} from './lib.js';

const NATIVE_STEPS = Number(process.env.LOPT_BENCH_STEPS ?? 1000);
const REFERENCE_STEPS = 8;
const OPTIMIZERS = ['sgd', 'adam'] as const;

interface Row { implementation: string; optimizer: string; threads: number; msPerStep: number }

function timeLopt(backendName: 'native' | 'reference', optimizerName: string, steps: number, threads = 1): number {
  const backend = getBackend(backendName);
  backend.setThreads?.(threads);
  const task = tasks.get('fmnist-mlp', { backend });
  const lr = optimizerName === 'adam' ? 1e-3 : 0.1;
  // Warm up (JIT, caches) with a short run, then time a full one; msPerStep is the median step.
  train({ task, optimizer: getOptimizer(optimizerName, { learningRate: lr }, { backend }), steps: Math.min(steps, 50), seed: 1 });
  return train({ task, optimizer: getOptimizer(optimizerName, { learningRate: lr }, { backend }), steps, seed: 0 }).msPerStep;
}

function torchRows(python: string, dataDir: string): Row[] {
  const rows: Row[] = [];
  for (const threads of TORCH_THREADS) {
    const parsed = runTorchScript(python, 'torch_step.py', [dataDir, String(threads), String(Math.min(NATIVE_STEPS, 1000))]);
    if (!parsed) continue;
    for (const optimizer of OPTIMIZERS) {
      rows.push({ implementation: `pytorch ${parsed.torch} (${threadsLabel(threads)})`, optimizer, threads, msPerStep: parsed.results[optimizer] });
    }
  }
  return rows;
}

/** Per optimizer: each side's fastest thread count, and ours over PyTorch's at their best and at one thread. */
function ratiosOf(rows: Row[]): Record<string, number> {
  const ratios: Record<string, number> = {};
  for (const optimizer of OPTIMIZERS) {
    const byThreads = (prefix: string) => new Map(rows.filter((r) => r.implementation.startsWith(prefix) && r.optimizer === optimizer).map((r) => [r.threads, r.msPerStep]));
    const native = byThreads('lopt native');
    const [, nativeBest] = fastest(native);
    ratios[`${optimizer}: reference / native 1 thread`] = byThreads('lopt reference').get(1)! / native.get(1)!;
    const torch = byThreads('pytorch');
    if (torch.size === 0) continue;
    const [torchThreads, torchBest] = fastest(torch);
    ratios[`${optimizer}: native best / pytorch best (${threadsLabel(torchThreads)})`] = nativeBest / torchBest;
    if (torch.has(1)) ratios[`${optimizer}: native 1 thread / pytorch 1 thread`] = native.get(1)! / torch.get(1)!;
  }
  return ratios;
}

function main(): void {
  const dataDir = locateFashionMnistDir();
  const rows: Row[] = [];
  for (const optimizer of OPTIMIZERS) {
    for (const threads of loptThreadCounts()) {
      rows.push({ implementation: `lopt native (${threadsLabel(threads)})`, optimizer, threads, msPerStep: timeLopt('native', optimizer, NATIVE_STEPS, threads) });
    }
    rows.push({ implementation: 'lopt reference', optimizer, threads: 1, msPerStep: timeLopt('reference', optimizer, REFERENCE_STEPS) });
  }
  getBackend('native').setThreads?.(1);
  const python = findTorchPython();
  if (python) rows.push(...torchRows(python, dataDir));
  else process.stderr.write('bench: PyTorch not available (apt-get install python3-torch to compare)\n');
  const ratios = ratiosOf(rows);
  const info = getBackend('native').info();
  process.stdout.write(`fmnist-mlp training step, batch 128 (native: ${info.simd}, ${info.blas})\n`);
  process.stdout.write(`${'implementation'.padEnd(34)}${'optimizer'.padEnd(10)}median ms/step\n`);
  for (const row of rows) {
    process.stdout.write(`${row.implementation.padEnd(34)}${row.optimizer.padEnd(10)}${row.msPerStep.toFixed(3)}\n`);
  }
  for (const [name, value] of Object.entries(ratios)) process.stdout.write(`ratio ${name}: ${value.toFixed(3)}\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'fmnist-mlp-step', batchSize: 128, rows, ratios, openblasCoretype: process.env.OPENBLAS_CORETYPE ?? null })}\n`);
}

main();
