// Benchmark: the cifar10-conv training step (the paper's ConvNet, batch 128, Adam) with the native
// backend, and the same step in PyTorch with one thread (bench/torch_conv_step.py; NCHW and
// channels_last, the faster is the reference) when `import torch` works. Prints a table, the ratio and
// one JSON line with medians measured side by side in this run: LOPT_BENCH_ROUNDS rounds (default 3)
// alternate lopt and PyTorch, each timing LOPT_BENCH_STEPS steps (default 40, at least 20) after a
// warm-up; a row is the median over rounds of each round's median step, so a burst of load on the
// machine weighs on both sides alike.
import { data, findTorchPython, runTorchScript, getBackend, getOptimizer, median, tasks, train } from './lib.js';

const STEPS = Math.max(20, Number(process.env.LOPT_BENCH_STEPS ?? 40));
const ROUNDS = Math.max(1, Number(process.env.LOPT_BENCH_ROUNDS ?? 3));
const WARMUP = 5;

interface Row { implementation: string; layout: string; msPerStep: number }

function timeLopt(steps: number): number {
  const backend = getBackend('native');
  const task = tasks.get('cifar10-conv', { backend });
  const optimizer = () => getOptimizer('adam', { learningRate: 1e-3 }, { backend });
  // Warm up (JIT, buffers, caches) with a short run, then time a full one; msPerStep is the median step.
  train({ task, optimizer: optimizer(), steps: WARMUP, seed: 1 });
  return train({ task, optimizer: optimizer(), steps, seed: 0 }).msPerStep;
}

function timeTorch(python: string, dataDir: string, steps: number): { version: string; results: Record<string, number> } | undefined {
  const parsed = runTorchScript(python, 'torch_conv_step.py', [dataDir, '1', String(steps)]);
  return parsed && { version: parsed.torch, results: parsed.results };
}

function main(): void {
  const dataDir = data.locateCifar10();
  if (!dataDir) throw new Error('CIFAR-10 not found: run `node scripts/install-data.mjs` (see `lopt data`)');
  const python = findTorchPython();
  if (!python) process.stderr.write('bench: PyTorch not available (apt-get install python3-torch to compare)\n');
  const loptRounds: number[] = [];
  const torchRounds: Record<string, number[]> = {};
  let torchVersion = '';
  for (let round = 0; round < ROUNDS; round++) {
    loptRounds.push(timeLopt(STEPS));
    const torch = python ? timeTorch(python, dataDir, STEPS) : undefined;
    if (!torch) continue;
    torchVersion = torch.version;
    for (const [layout, ms] of Object.entries(torch.results)) (torchRounds[layout] ??= []).push(ms);
  }
  const rows: Row[] = [{ implementation: 'lopt native', layout: 'nhwc', msPerStep: median(loptRounds) }];
  for (const [layout, values] of Object.entries(torchRounds)) {
    rows.push({ implementation: `pytorch ${torchVersion} (1 thread)`, layout, msPerStep: median(values) });
  }
  const native = rows[0].msPerStep;
  const torchRows = rows.slice(1);
  const best = torchRows.length ? torchRows.reduce((a, b) => (b.msPerStep < a.msPerStep ? b : a)) : undefined;
  const ratios: Record<string, number> = {};
  if (best) ratios[`native / pytorch ${best.layout} (the faster)`] = native / best.msPerStep;
  for (const row of torchRows) ratios[`native / pytorch ${row.layout}`] = native / row.msPerStep;
  // Each round's lopt median over its faster PyTorch median: how steady the ratio was.
  const perRound = loptRounds.map((ms, round) => {
    const torchMs = Object.values(torchRounds).map((values) => values[round]).filter((v) => v !== undefined);
    return torchMs.length ? ms / Math.min(...torchMs) : NaN;
  }).filter((r) => !Number.isNaN(r));
  const info = getBackend('native').info();
  process.stdout.write(`cifar10-conv training step, batch 128, adam (native: ${info.simd}, ${info.blas}, ${info.blasThreads} BLAS thread; ${ROUNDS} rounds of ${STEPS} steps)\n`);
  process.stdout.write(`${'implementation'.padEnd(34)}${'layout'.padEnd(15)}median ms/step\n`);
  for (const row of rows) {
    process.stdout.write(`${row.implementation.padEnd(34)}${row.layout.padEnd(15)}${row.msPerStep.toFixed(3)}\n`);
  }
  for (const [name, value] of Object.entries(ratios)) process.stdout.write(`ratio ${name}: ${value.toFixed(3)}\n`);
  if (perRound.length) process.stdout.write(`ratio native / faster pytorch, each round: ${perRound.map((r) => r.toFixed(3)).join(', ')}\n`);
  process.stdout.write(`${JSON.stringify({
    bench: 'cifar10-conv-step', batchSize: 128, optimizer: 'adam', steps: STEPS, rounds: { lopt: loptRounds, ...torchRounds }, rows, ratios, ratioPerRound: perRound,
    openblasCoretype: process.env.OPENBLAS_CORETYPE ?? null,
  })}\n`);
}

main();
