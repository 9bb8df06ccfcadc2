// Benchmark of meta-training throughput (issue 5's goal: ≥ 1,500 inner steps/s on a 2-core machine):
// PES on fmnist-mlp with small_fc_lopt at the paper's settings (8 tasks, truncation 20, σ 0.01), with
// 1 worker (this thread) and with all cores, side by side in one run. innerStepsPerSec counts inner
// optimizer updates applied per second, each PES copy counted, evaluation excluded.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { metaTrain } from 'lopt';

const OUTER_STEPS = Number(process.env.LOPT_BENCH_OUTER_STEPS ?? 40);
const GOAL = 1500;

async function innerStepsPerSec(workers: number): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), 'lopt-bench-meta-'));
  try {
    const result = await metaTrain({
      out, workers, checkpointEvery: 0,
      problem: { lopt: 'small_fc_lopt', task: 'fmnist-mlp' },
      estimator: 'pes', numTasks: 8, truncLength: 20, innerSteps: 2000, std: 0.01, metaLr: 1e-4,
      outerSteps: OUTER_STEPS, seed: 12, metaBatch: 1, evalEvery: 0, metaLossAfterUpdate: false,
    });
    return result.innerStepsPerSec;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const cores = availableParallelism();
const rows: { workers: number; innerStepsPerSec: number }[] = [];
for (const workers of [1, cores]) rows.push({ workers, innerStepsPerSec: await innerStepsPerSec(workers) });
console.log(`meta-training throughput, PES small_fc_lopt on fmnist-mlp, 8 tasks × 2 copies × truncation 20, ${OUTER_STEPS} outer steps`);
for (const r of rows) console.log(`  ${String(r.workers).padStart(2)} worker${r.workers === 1 ? ' ' : 's'}: ${r.innerStepsPerSec.toFixed(0).padStart(6)} inner steps/s`);
const best = rows[rows.length - 1];
console.log(`  scaling ${(best.innerStepsPerSec / rows[0].innerStepsPerSec).toFixed(2)}x on ${cores} cores; goal ≥ ${GOAL}: ${best.innerStepsPerSec >= GOAL ? 'met' : 'not met'}`);
console.log(JSON.stringify({ bench: 'meta', outerSteps: OUTER_STEPS, cores, rows }));
