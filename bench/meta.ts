// Benchmark of meta-training throughput (issue 5's goal: ≥ 1,500 inner steps/s on a 2-core machine):
// PES on fmnist-mlp with small_fc_lopt at the paper's settings (8 tasks, truncation 20, σ 0.01), with
// 1 worker (this thread) and with all cores, side by side in one run. innerStepsPerSec counts inner
// optimizer updates applied per second, each PES copy counted, evaluation excluded. The goal is a
// steady-state rate: the first WARMUP outer steps (JIT compilation, every slot's first run) are left
// out of it and reported separately; worker start-up and data loading are never timed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { metaTrain } from 'lopt';

const OUTER_STEPS = Number(process.env.LOPT_BENCH_OUTER_STEPS ?? 40);
const WARMUP = 2;
const GOAL = 1500;

interface Rate { all: number; steady: number }

/** Inner steps per second over the metrics rows of outer steps ≥ `from`. */
function rateFrom(rows: { outerStep: number; innerSteps: number; innerStepsPerSec: number }[], from: number): number {
  let steps = 0;
  let seconds = 0;
  for (const r of rows) {
    if (r.outerStep < from || r.innerStepsPerSec <= 0) continue;
    steps += r.innerSteps;
    seconds += r.innerSteps / r.innerStepsPerSec;
  }
  return steps / seconds;
}

async function innerStepsPerSec(workers: number): Promise<Rate> {
  const out = mkdtempSync(join(tmpdir(), 'lopt-bench-meta-'));
  try {
    await metaTrain({
      out, workers, checkpointEvery: 0,
      problem: { lopt: 'small_fc_lopt', task: 'fmnist-mlp' },
      estimator: 'pes', numTasks: 8, truncLength: 20, innerSteps: 2000, std: 0.01, metaLr: 1e-4,
      outerSteps: OUTER_STEPS, seed: 12, metaBatch: 1, evalEvery: 0, metaLossAfterUpdate: false,
    });
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line))
      .filter((r) => typeof r.innerStepsPerSec === 'number');
    return { all: rateFrom(rows, 0), steady: rateFrom(rows, WARMUP) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const cores = availableParallelism();
const rows: { workers: number; innerStepsPerSec: number; withWarmup: number }[] = [];
for (const workers of [1, cores]) {
  const rate = await innerStepsPerSec(workers);
  rows.push({ workers, innerStepsPerSec: rate.steady, withWarmup: rate.all });
}
console.log(`meta-training throughput, PES small_fc_lopt on fmnist-mlp, 8 tasks × 2 copies × truncation 20, ${OUTER_STEPS} outer steps`);
console.log(`  (steady state: outer steps ${WARMUP}…${OUTER_STEPS - 1}; in brackets, all ${OUTER_STEPS} outer steps)`);
for (const r of rows) {
  console.log(`  ${String(r.workers).padStart(2)} worker${r.workers === 1 ? ' ' : 's'}: ${r.innerStepsPerSec.toFixed(0).padStart(6)} inner steps/s (${r.withWarmup.toFixed(0)})`);
}
const best = rows[rows.length - 1];
console.log(`  scaling ${(best.innerStepsPerSec / rows[0].innerStepsPerSec).toFixed(2)}x on ${cores} cores; goal ≥ ${GOAL}: ${best.innerStepsPerSec >= GOAL ? 'met' : 'not met'}`);
console.log(JSON.stringify({ bench: 'meta', outerSteps: OUTER_STEPS, warmupOuterSteps: WARMUP, cores, rows }));
