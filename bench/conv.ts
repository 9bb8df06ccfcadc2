// Benchmark: the cifar10-conv training step (the paper's ConvNet, batch 128, Adam) with the native
// backend on one thread and on every core (`lopt train`'s default), and the same step in PyTorch on 1
// and 2 threads (bench/torch_conv_step.py; NCHW and channels_last) when `import torch` works. The
// headline ratio is our fastest thread count against PyTorch's fastest thread count and layout (goal: at
// most 0.7). Prints a table, the ratios and one JSON line with medians measured side by side in this
// run: LOPT_BENCH_ROUNDS rounds (default 3) alternate lopt and PyTorch, each timing LOPT_BENCH_STEPS
// steps (default 40, at least 20) after a warm-up; a row is the median over rounds of each round's median
// step, so a burst of load on the machine weighs on both sides alike.
import {
  data, findTorchPython, getBackend, getOptimizer, loptThreadCounts, median, runTorchScript, tasks, threadsLabel,
  TORCH_THREADS, train,
} from './lib.js';

const STEPS = Math.max(20, Number(process.env.LOPT_BENCH_STEPS ?? 40));
const ROUNDS = Math.max(1, Number(process.env.LOPT_BENCH_ROUNDS ?? 3));
const WARMUP = 5;

interface Row { implementation: string; layout: string; threads: number; msPerStep: number }

function timeLopt(steps: number, threads: number): number {
  const backend = getBackend('native');
  backend.setThreads?.(threads);
  const task = tasks.get('cifar10-conv', { backend });
  const optimizer = () => getOptimizer('adam', { learningRate: 1e-3 }, { backend });
  // Warm up (JIT, buffers, caches) with a short run, then time a full one; msPerStep is the median step.
  train({ task, optimizer: optimizer(), steps: WARMUP, seed: 1 });
  const ms = train({ task, optimizer: optimizer(), steps, seed: 0 }).msPerStep;
  backend.setThreads?.(1);
  return ms;
}

/** Each round's median step per configuration (`lopt nhwc 2`, `pytorch channels_last 1`, …). */
function timeRounds(python: string | undefined, dataDir: string): { rounds: Map<string, number[]>; torchVersion: string } {
  const rounds = new Map<string, number[]>();
  const push = (key: string, ms: number) => rounds.set(key, [...(rounds.get(key) ?? []), ms]);
  let torchVersion = '';
  for (let round = 0; round < ROUNDS; round++) {
    for (const threads of loptThreadCounts()) push(`lopt nhwc ${threads}`, timeLopt(STEPS, threads));
    for (const threads of python ? TORCH_THREADS : []) {
      const parsed = runTorchScript(python!, 'torch_conv_step.py', [dataDir, String(threads), String(STEPS)]);
      if (!parsed) continue;
      torchVersion = parsed.torch;
      for (const [layout, ms] of Object.entries(parsed.results as Record<string, number>)) push(`pytorch ${layout} ${threads}`, ms);
    }
  }
  return { rounds, torchVersion };
}

function main(): void {
  const dataDir = data.locateCifar10();
  if (!dataDir) throw new Error('CIFAR-10 not found: run `node scripts/install-data.mjs` (see `lopt data`)');
  const python = findTorchPython();
  if (!python) process.stderr.write('bench: PyTorch not available (apt-get install python3-torch to compare)\n');
  const { rounds, torchVersion } = timeRounds(python, dataDir);
  const rows: Row[] = [...rounds].map(([key, values]) => {
    const [who, layout, threads] = key.split(' ');
    const implementation = who === 'lopt' ? `lopt native (${threadsLabel(Number(threads))})` : `pytorch ${torchVersion} (${threadsLabel(Number(threads))})`;
    return { implementation, layout, threads: Number(threads), msPerStep: median(values) };
  });
  const best = (prefix: string) => rows.filter((r) => r.implementation.startsWith(prefix)).reduce<Row | undefined>((a, b) => (!a || b.msPerStep < a.msPerStep ? b : a), undefined);
  const native = best('lopt')!;
  const torch = best('pytorch');
  const ratios: Record<string, number> = {};
  if (torch) {
    ratios[`native best (${threadsLabel(native.threads)}) / pytorch best (${torch.layout}, ${threadsLabel(torch.threads)})`] = native.msPerStep / torch.msPerStep;
    const oneThread = (prefix: string) => rows.filter((r) => r.implementation.startsWith(prefix) && r.threads === 1).reduce((a, b) => (b.msPerStep < a.msPerStep ? b : a));
    ratios['native 1 thread / pytorch 1 thread (faster layout)'] = oneThread('lopt').msPerStep / oneThread('pytorch').msPerStep;
  }
  // Each round's fastest lopt over its fastest PyTorch: how steady the headline ratio was.
  const roundBest = (prefix: string, round: number) => Math.min(...[...rounds].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v[round]).filter((v) => v !== undefined));
  const perRound = torch ? Array.from({ length: ROUNDS }, (_, round) => roundBest('lopt', round) / roundBest('pytorch', round)).filter(Number.isFinite) : [];
  const info = getBackend('native').info();
  process.stdout.write(`cifar10-conv training step, batch 128, adam (native: ${info.simd}, ${info.blas}; ${ROUNDS} rounds of ${STEPS} steps)\n`);
  process.stdout.write(`${'implementation'.padEnd(34)}${'layout'.padEnd(15)}median ms/step\n`);
  for (const row of rows) {
    process.stdout.write(`${row.implementation.padEnd(34)}${row.layout.padEnd(15)}${row.msPerStep.toFixed(3)}\n`);
  }
  for (const [name, value] of Object.entries(ratios)) process.stdout.write(`ratio ${name}: ${value.toFixed(3)}\n`);
  if (perRound.length) process.stdout.write(`ratio native best / pytorch best, each round: ${perRound.map((r) => r.toFixed(3)).join(', ')}\n`);
  process.stdout.write(`${JSON.stringify({
    bench: 'cifar10-conv-step', batchSize: 128, optimizer: 'adam', steps: STEPS, rounds: Object.fromEntries(rounds), rows, ratios, ratioPerRound: perRound,
    openblasCoretype: process.env.OPENBLAS_CORETYPE ?? null,
  })}\n`);
}

main();
