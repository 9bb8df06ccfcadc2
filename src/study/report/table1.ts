// Table 1: small_fc_lopt's step time over SGD's for large models, measured here (the table1 table)
// beside the paper's numbers on a TPUv2.
import type { Table1Row } from '../db.js';
import { table, type Section } from './html.js';

const millions = (n: number | null): string | null => (n === null ? null : `${(n / 1e6).toFixed(1)}M`);

/** The section, or none when nothing was measured: the table1 phase runs only when asked for (paper-size models). */
export function table1Section(rows: readonly Table1Row[]): { section: Section; plots: string[] } | null {
  const base = {
    id: 'table1', title: 'Table 1: learned-optimizer step time on large models',
    intro: 'Per model: its parameters, the median time of a full training step (batch, loss and gradient, update) with SGD and with small_fc_lopt, single steps of each alternating in one process from the same parameters and batches, and their ratio, beside the paper\'s numbers (TPUv2). On a CPU core the model\'s convolutions and matrix products run at tens of GFLOP/s on the same vector units as the optimizer, and the optimizer\'s per-parameter pass (its state read and written once or twice, a small MLP) is small beside them; on a TPU the products run on the matrix unit, hundreds of times faster, while the per-parameter pass stays bound by memory bandwidth and the vector unit, so it weighs more.',
  };
  if (rows.length === 0) return null;
  const body = table(
    ['model', 'task', 'task options', 'parameters', 'SGD ms/step', 'small_fc_lopt ms/step', 'ratio', 'timings', 'threads', 'paper: parameters', 'paper: ratio (TPUv2)'],
    rows.map((r) => [
      r.model, r.task, r.task_opts, millions(r.params), r.sgd_ms_per_step, r.lopt_ms_per_step, `${r.ratio.toFixed(2)}x`,
      r.timings, r.threads, millions(r.paper_params), r.paper_ratio === null ? null : `${r.paper_ratio.toFixed(2)}x`,
    ]),
  );
  return { section: { ...base, body }, plots: [] };
}
