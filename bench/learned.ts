// Benchmark of the learned optimizers, side by side in one run (native backend):
// - the Fashion-MNIST MLP training step (batch 128) with SGD, Adam and every learned optimizer: median
//   ms per step, the optimizer update alone, optimizer state bytes per parameter; the small_fc_lopt / Adam
//   step-time ratio (goal ≤ 1.5);
// - the width sweep of the paper's Fig. 3b: small_fc_lopt's update with hidden 2 … 128, elementwise and
//   gemm MLP paths;
// - a straightforward PyTorch small_fc_lopt update (tensor ops, one thread) when `import torch` works,
//   against ours on the same shapes (goal: ours ≥ 50x faster).
// The optimizers take turns: ROUNDS rounds, each running every optimizer for its share of the steps
// (and updates), so that a machine shared with other work slows them alike; the step-time ratios are
// medians of the per-round ratios. Prints a table and one JSON line. θ is an untrained initialisation:
// speed does not depend on it.
import { getBackend, getOptimizer, learned, random, tasks, train, type Optimizer, type Params } from 'lopt';
import { findTorchPython, median, runTorchScript } from './lib.js';

const STEPS = Number(process.env.LOPT_BENCH_STEPS ?? 500);
const UPDATES = 200;
const ROUNDS = Number(process.env.LOPT_BENCH_ROUNDS ?? 5);

const backend = getBackend('native');
const task = tasks.get('fmnist-mlp', { backend });

function makeOptimizer(spec: string): Optimizer<unknown> {
  const [name, json] = spec.split(' ');
  if (!learned.has(name)) return getOptimizer(name, {}, { backend });
  const lo = learned.get(name, json ? JSON.parse(json) : {}, { backend });
  return lo.optFn(lo.init(random.keyFromSeed(0)));
}

/** Median ms of one full training step (batch, loss and gradient, update) per spec and round. */
function stepMs(specs: string[]): number[][] {
  for (const spec of specs) train({ task, optimizer: makeOptimizer(spec), steps: 30, seed: 1 });
  const perRound = Math.max(10, Math.round(STEPS / ROUNDS));
  const out = specs.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    specs.forEach((spec, i) => out[i].push(train({ task, optimizer: makeOptimizer(spec), steps: perRound, seed: round }).msPerStep));
  }
  return out;
}

/** Times (ms) of the optimizer update alone on the task's parameters with fixed gradients, per spec. */
function updateMs(specs: string[]): { ms: number; bytesPerParam: number }[] {
  const params = task.init(random.keyFromSeed(0));
  const grads: Params = {};
  for (const [name, t] of Object.entries(params)) {
    grads[name] = { shape: t.shape, data: random.normal(random.foldIn(random.keyFromSeed(1), name.length), t.data.length, 0.01) };
  }
  const runs = specs.map((spec) => {
    const optimizer = makeOptimizer(spec);
    let state = optimizer.init(params, { numSteps: UPDATES });
    for (let i = 0; i < 20; i++) state = optimizer.update(state, grads, { loss: 1 });
    return { optimizer, state, times: [] as number[] };
  });
  const perRound = Math.max(5, Math.round(UPDATES / ROUNDS));
  for (let round = 0; round < ROUNDS; round++) {
    for (const run of runs) {
      for (let i = 0; i < perRound; i++) {
        const started = process.hrtime.bigint();
        run.state = run.optimizer.update(run.state, grads, { loss: 1 });
        run.times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    }
  }
  return runs.map((run) => ({ ms: median(run.times), bytesPerParam: run.optimizer.stateBytes(params) / task.paramCount }));
}

function torchUpdateMs(): { version: string; ms: number } | undefined {
  const python = findTorchPython();
  if (!python) {
    process.stderr.write('bench: PyTorch not available (apt-get install python3-torch to compare)\n');
    return undefined;
  }
  const parsed = runTorchScript(python, 'torch_small_fc_lopt.py', ['1', '60']);
  return parsed && { version: parsed.torch, ms: parsed.msPerUpdate };
}

interface Row { optimizer: string; msPerStep: number; msPerUpdate: number; stateBytesPerParam: number }

function main(): void {
  const specs = [
    'sgd', 'adam', 'small_fc_lopt', 'small_fc_lopt {"path":"gemm"}', 'feature_mlp_lopt {"features":"grads_time_p"}',
    'feature_mlp_lopt {"features":"adafact_m_mul"}', 'feature_mlp_lopt {"features":"m_rms_all"}',
    'feature_mlp_lopt {"features":"union"}', 'fc_lopt', 'rnn_fc_lopt', 'nn_adam',
  ];
  const updates = updateMs(specs);
  const steps = stepMs(specs);
  const rows: Row[] = specs.map((spec, i) => ({
    optimizer: spec, msPerStep: median(steps[i]), msPerUpdate: updates[i].ms, stateBytesPerParam: updates[i].bytesPerParam,
  }));
  const widthSpecs: string[] = [];
  const hiddens = [2, 4, 8, 16, 32, 64, 128];
  for (const hidden of hiddens) {
    widthSpecs.push(`small_fc_lopt {"hidden":${hidden},"path":"elementwise"}`, `small_fc_lopt {"hidden":${hidden},"path":"gemm"}`);
  }
  const widthUpdates = updateMs(widthSpecs);
  const widths = hiddens.map((hidden, i) => ({ hidden, elementwise: widthUpdates[2 * i].ms, gemm: widthUpdates[2 * i + 1].ms }));
  const torch = torchUpdateMs();
  const at = (spec: string) => specs.indexOf(spec);
  /** Median over rounds of spec a's step time over spec b's in the same round. */
  const stepRatio = (a: string, b: string) => median(steps[at(a)].map((ms, round) => ms / steps[at(b)][round]));
  const ratios: Record<string, number> = {
    'small_fc_lopt / adam step time (goal <= 1.5)': stepRatio('small_fc_lopt', 'adam'),
    'small_fc_lopt / sgd step time': stepRatio('small_fc_lopt', 'sgd'),
  };
  if (torch) ratios['pytorch / lopt small_fc_lopt update time (goal >= 50)'] = torch.ms / rows[at('small_fc_lopt')].msPerUpdate;

  const info = backend.info();
  const out = process.stdout;
  out.write(`learned optimizers on the fmnist-mlp step, batch 128 (native: ${info.simd}, ${info.blas}, ${info.blasThreads} BLAS thread)\n`);
  out.write(`${'optimizer'.padEnd(48)}${'ms/step'.padStart(10)}${'ms/update'.padStart(12)}${'state B/param'.padStart(15)}\n`);
  for (const r of rows) {
    out.write(`${r.optimizer.padEnd(48)}${r.msPerStep.toFixed(3).padStart(10)}${r.msPerUpdate.toFixed(3).padStart(12)}${r.stateBytesPerParam.toFixed(2).padStart(15)}\n`);
  }
  out.write(`\nsmall_fc_lopt update by MLP width (Fig. 3b), ms/update\n${'hidden'.padEnd(10)}${'elementwise'.padStart(14)}${'gemm'.padStart(10)}\n`);
  for (const w of widths) out.write(`${String(w.hidden).padEnd(10)}${w.elementwise.toFixed(3).padStart(14)}${w.gemm.toFixed(3).padStart(10)}\n`);
  if (torch) out.write(`\npytorch ${torch.version} (1 thread) small_fc_lopt update: ${torch.ms.toFixed(3)} ms\n`);
  for (const [name, value] of Object.entries(ratios)) out.write(`ratio ${name}: ${value.toFixed(3)}\n`);
  out.write(`${JSON.stringify({ bench: 'learned-optimizers', task: 'fmnist-mlp', batchSize: 128, simd: info.simd, rows, widths, torch: torch ?? null, ratios })}\n`);
}

main();
