// Benchmark: the Fashion-MNIST MLP training step (batch 128) with SGD and Adam on both backends, and
// the same step in PyTorch (one thread, like our single-threaded BLAS) when `import torch` works.
// Prints a table and one JSON line with medians and ratios measured side by side in this run.
import { findTorchPython, runTorchScript, getBackend, getOptimizer, locateFashionMnistDir, tasks, train } from './lib.js';

const NATIVE_STEPS = Number(process.env.LOPT_BENCH_STEPS ?? 1000);
const REFERENCE_STEPS = 8;

interface Row { implementation: string; optimizer: string; msPerStep: number }

function timeLopt(backendName: 'native' | 'reference', optimizerName: string, steps: number): number {
  const backend = getBackend(backendName);
  const task = tasks.get('fmnist-mlp', { backend });
  const lr = optimizerName === 'adam' ? 1e-3 : 0.1;
  // Warm up (JIT, caches) with a short run, then time a full one; msPerStep is the median step.
  train({ task, optimizer: getOptimizer(optimizerName, { learningRate: lr }, { backend }), steps: Math.min(steps, 50), seed: 1 });
  return train({ task, optimizer: getOptimizer(optimizerName, { learningRate: lr }, { backend }), steps, seed: 0 }).msPerStep;
}

function timeTorch(python: string, dataDir: string): { version: string; results: Record<string, number> } | undefined {
  const parsed = runTorchScript(python, 'torch_step.py', [dataDir, '1', String(Math.min(NATIVE_STEPS, 1000))]);
  return parsed && { version: parsed.torch, results: parsed.results };
}

function main(): void {
  const dataDir = locateFashionMnistDir();
  const rows: Row[] = [];
  for (const optimizer of ['sgd', 'adam']) {
    rows.push({ implementation: 'lopt native', optimizer, msPerStep: timeLopt('native', optimizer, NATIVE_STEPS) });
    rows.push({ implementation: 'lopt reference', optimizer, msPerStep: timeLopt('reference', optimizer, REFERENCE_STEPS) });
  }
  const python = findTorchPython();
  const torch = python ? timeTorch(python, dataDir) : undefined;
  if (torch) {
    for (const optimizer of ['sgd', 'adam']) {
      rows.push({ implementation: `pytorch ${torch.version} (1 thread)`, optimizer, msPerStep: torch.results[optimizer] });
    }
  } else {
    process.stderr.write('bench: PyTorch not available (apt-get install python3-torch to compare)\n');
  }
  const ms = (impl: string, optimizer: string) => rows.find((r) => r.implementation.startsWith(impl) && r.optimizer === optimizer)?.msPerStep;
  const ratios: Record<string, number> = {};
  for (const optimizer of ['sgd', 'adam']) {
    const native = ms('lopt native', optimizer)!;
    ratios[`${optimizer}: reference / native`] = ms('lopt reference', optimizer)! / native;
    const torchMs = ms('pytorch', optimizer);
    if (torchMs) ratios[`${optimizer}: native / pytorch`] = native / torchMs;
  }
  const info = getBackend('native').info();
  process.stdout.write(`fmnist-mlp training step, batch 128 (native: ${info.simd}, ${info.blas}, ${info.blasThreads} BLAS thread)\n`);
  process.stdout.write(`${'implementation'.padEnd(34)}${'optimizer'.padEnd(10)}median ms/step\n`);
  for (const row of rows) {
    process.stdout.write(`${row.implementation.padEnd(34)}${row.optimizer.padEnd(10)}${row.msPerStep.toFixed(3)}\n`);
  }
  for (const [name, value] of Object.entries(ratios)) process.stdout.write(`ratio ${name}: ${value.toFixed(3)}\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'fmnist-mlp-step', batchSize: 128, rows, ratios, openblasCoretype: process.env.OPENBLAS_CORETYPE ?? null })}\n`);
}

main();
