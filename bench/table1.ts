// Benchmark: the paper's Table 1 on this machine (not in `npm run bench`: paper-size models take
// seconds per step and gigabytes). For each model, its parameters, the median step time of SGD and of
// small_fc_lopt over LOPT_BENCH_TIMINGS (default 10) single steps of each, alternating, and their ratio,
// beside the paper's (TPUv2). Models: the arguments (`TASK` or `TASK:key=value,…`), else the paper's
// four; LOPT_BENCH_THREADS (default 1) threads. Prints a table and one JSON line.
//   node dist/bench/table1.js                                   # the paper's models
//   node dist/bench/table1.js fmnist-mlp cifar10-conv:batchSize=32
import { getBackend } from 'lopt';
import { measureTable1Row, optimizerSpec, PAPER_TABLE1, parseTable1Model, type Table1Result } from 'lopt/study';
import { threadsLabel } from './lib.js';

const TIMINGS = Math.max(1, Number(process.env.LOPT_BENCH_TIMINGS ?? 10));
const THREADS = Math.max(1, Number(process.env.LOPT_BENCH_THREADS ?? 1));

const millions = (n: number): string => `${(n / 1e6).toFixed(1)}M`;

function line(r: Table1Result, width: number): string {
  const paper = r.paper ? `${millions(r.paper.params).padEnd(10)}${r.paper.ratio.toFixed(2)}x` : '';
  return `${r.model.padEnd(width)}${millions(r.params).padEnd(10)}${r.sgdMsPerStep.toFixed(1).padEnd(12)}${r.loptMsPerStep.toFixed(1).padEnd(18)}${`${r.ratio.toFixed(2)}x`.padEnd(8)}${paper}\n`;
}

function main(): void {
  const backend = getBackend('native');
  backend.setThreads?.(THREADS);
  const models = process.argv.length > 2 ? process.argv.slice(2).map(parseTable1Model) : [...PAPER_TABLE1];
  const lopt = optimizerSpec('small_fc_lopt');
  process.stdout.write(`Table 1 on this machine: medians of ${TIMINGS} alternating steps each, native ${backend.info().simd}, ${threadsLabel(THREADS)}\n`);
  const width = Math.max(34, ...models.map((m) => m.model.length + 2));
  process.stdout.write(`${'model'.padEnd(width)}${'params'.padEnd(10)}${'SGD ms'.padEnd(12)}${'small_fc_lopt ms'.padEnd(18)}${'ratio'.padEnd(8)}paper: params, ratio (TPUv2)\n`);
  const rows: Table1Result[] = [];
  for (const model of models) {
    const row = measureTable1Row(model, lopt, { backend, settings: { warmup: 1, rounds: TIMINGS, block: 1 } });
    rows.push(row);
    process.stdout.write(line(row, width));
  }
  process.stdout.write(`${JSON.stringify({ bench: 'table1', timings: TIMINGS, threads: THREADS, rows })}\n`);
}

main();
