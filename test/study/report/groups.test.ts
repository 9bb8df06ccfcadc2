import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CurveRow, MemoryRow, RunRow, TimingRow } from '../../../src/study/db.js';
import { fig1Points } from '../../../src/study/report/fig1.js';
import { baseLabel, groupEvalRuns, seedRange, viewOf } from '../../../src/study/report/groups.js';
import { headline } from '../../../src/study/report/headline.js';
import { mean, standardError } from '../../../src/study/report/stats.js';

let nextId = 1;
function runRow(label: string, seed: number, meanLoss: number | null, o: Partial<RunRow> = {}): RunRow {
  return {
    id: nextId++, purpose: 'eval', config_key: `k${nextId}`, task: 't', task_opts: '{}', optimizer: baseLabel(label), label, hparams: '{}',
    weights: null, trained: 1, step_multiplier: 1, seed, steps: 100, status: meanLoss === null ? 'diverged' : 'done', mean_loss: meanLoss,
    final_loss: meanLoss, wall_seconds: 1, ms_per_step: 1, backend: 'native', machine: '{}', finished_at: '', ...o,
  };
}
const timingRow = (label: string, overhead: number, taskOpts = '{}'): TimingRow => ({
  id: 0, task: 't', task_opts: taskOpts, optimizer: label, label, batch_size: 128, width: 128, ms_per_step: overhead, sgd_ms_per_step: 1,
  overhead, repeats: 3, backend: 'native', machine: '{}', measured_at: '',
});
const memoryRow = (label: string, perParam: number): MemoryRow => ({
  id: 0, task: 't', optimizer: label, label, param_count: 10, state_bytes: perParam * 10, state_bytes_per_param: perParam, peak_rss_bytes: 1,
  sgd_peak_rss_bytes: 1, peak_rss_ratio: 1, engine_bytes: 1, backend: 'native', machine: '{}', measured_at: '',
});

test('evaluation runs group into views by task, options and 1x step budget; k-times runs join their 1x view', () => {
  const runs = [
    runRow('sgd', 1000, 1.0), runRow('sgd', 1001, 1.2),
    runRow('adam@2x', 1000, 0.5, { steps: 200, step_multiplier: 2 }),
    runRow('sgd', 1000, 0.9, { task_opts: '{"width":64}' }),
    runRow('sgd', 1000, 0.8, { steps: 50 }),
  ];
  const views = groupEvalRuns(runs);
  assert.deepEqual(views.map((v) => v.view.title), ['t, 50 steps', 't, 100 steps', 't {"width":64}, 100 steps']);
  const main = views[1];
  assert.deepEqual(main.groups.map((g) => g.label), ['sgd', 'adam@2x']);
  assert.equal(main.groups[0].meanLoss, 1.1);
  assert.equal(main.groups[0].stdErr, standardError([1.0, 1.2]));
  assert.equal(viewOf({ task: 't', task_opts: '{"b":1,"a":2}', steps: 300, step_multiplier: 3 }).key, 't|{"a":2,"b":1}|100');
  assert.equal(seedRange([1002, 1000, 1001]), '1000–1002');
  assert.equal(seedRange([1000, 1004]), '1000, 1004');
});

test('Fig. 1 points: diverged seeds counted and kept off the frontier, untrained off it, 2x costs twice, timings fall back to the 1x label', () => {
  const runs = [
    runRow('sgd', 1000, 2.0), runRow('sgd', 1001, 2.2),
    runRow('adam', 1000, 1.0), runRow('adam', 1001, 1.1),
    runRow('adam@2x', 1000, 0.8, { steps: 200, step_multiplier: 2 }), runRow('adam@2x', 1001, 0.9, { steps: 200, step_multiplier: 2 }),
    // Best loss of all but diverged on one seed.
    runRow('fragile', 1000, 0.1), runRow('fragile', 1001, null),
    // Cheapest and best, but untrained.
    runRow('small_fc_lopt', 1000, 0.05, { trained: 0, weights: 'untrained:0' }), runRow('small_fc_lopt', 1001, 0.06, { trained: 0, weights: 'untrained:0' }),
  ];
  const [{ groups }] = groupEvalRuns(runs);
  const timings = [timingRow('sgd', 1), timingRow('adam', 1.2), timingRow('fragile', 1.1), timingRow('small_fc_lopt', 0.5), timingRow('adam', 9, '{"batchSize":8}')];
  const memory = [memoryRow('sgd', 0), memoryRow('adam', 8), memoryRow('fragile', 4), memoryRow('small_fc_lopt', 1)];
  const points = new Map(fig1Points(groups, timings, memory).map((p) => [p.label, p]));
  assert.equal(points.get('adam@2x')!.overhead, 2.4);
  assert.equal(points.get('adam@2x')!.stateBytesPerParam, 8);
  const fragile = points.get('fragile')!;
  assert.equal(fragile.diverged, 1);
  assert.equal(fragile.loss, 0.1);
  assert.equal(fragile.onTimeFrontier || fragile.onMemoryFrontier, false);
  const lopt = points.get('small_fc_lopt')!;
  assert.equal(lopt.trained, false);
  assert.equal(lopt.onTimeFrontier || lopt.onMemoryFrontier, false);
  assert.deepEqual([...points.values()].filter((p) => p.onTimeFrontier).map((p) => p.label).sort(), ['adam', 'adam@2x', 'sgd']);
  // adam@2x has adam's memory and a lower loss: adam is dominated on memory.
  assert.deepEqual([...points.values()].filter((p) => p.onMemoryFrontier).map((p) => p.label).sort(), ['adam@2x', 'sgd']);
});

test('headline: the target is the worst final smoothed loss among trained, never-diverged 1x optimizers; times come from the mean curves', () => {
  const curve = (id: number, losses: number[], dt: number): CurveRow[] => losses.map((loss, i) => ({ run_id: id, step: i + 1, loss, wall_seconds: (i + 1) * dt }));
  const runs = [
    runRow('fast', 1000, 0), runRow('fast', 1001, 0),
    runRow('slow', 1000, 0), runRow('slow', 1001, 0),
    runRow('untrained', 1000, 0, { trained: 0 }),
    runRow('fast@2x', 1000, 0, { steps: 200, step_multiplier: 2 }),
  ];
  const curves = new Map<number, CurveRow[]>([
    [runs[0].id, curve(runs[0].id, [4, 3, 2, 1], 1)], [runs[1].id, curve(runs[1].id, [4, 3, 2, 1], 3)],
    [runs[2].id, curve(runs[2].id, [4, 4, 3, 3], 0.5)], [runs[3].id, curve(runs[3].id, [4, 4, 3, 1], 0.5)],
    [runs[4].id, curve(runs[4].id, [9, 9, 9, 9], 0.1)],
  ]);
  const [{ groups }] = groupEvalRuns(runs);
  const h = headline(groups, curves);
  // Four steps: a one-step window, so the final mean-curve losses are fast 1, slow 2 → target 2.
  assert.equal(h.target, 2);
  assert.equal(h.targetSetBy, 'slow');
  const rows = new Map(h.rows.map((r) => [r.label, r]));
  assert.equal(rows.has('fast@2x'), false);
  assert.equal(rows.get('fast')!.stepsToTarget, 3);
  assert.equal(rows.get('fast')!.secondsToTarget, mean([3, 9]));
  assert.equal(rows.get('slow')!.stepsToTarget, 4);
  assert.equal(rows.get('slow')!.secondsToTarget, 2);
  assert.equal(rows.get('untrained')!.secondsToTarget, null);
});
