import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend } from '../../src/engine/select.js';
import { budgetFor, deadlineFrom, formatDuration, measureStepTimes, memorySeconds, runSeconds, stepTimeKey, timingSeconds } from '../../src/study/budget.js';
import { openResultsDb } from '../../src/study/db.js';
import { handDesignedSpec } from '../../src/study/optimizer-spec.js';
import { timingPoints } from '../../src/study/overhead.js';
import { TaskCache } from '../../src/study/run-job.js';

test('budgets: --budget wins; else the whole grid and a per-task NAdamW budget', () => {
  assert.equal(budgetFor('cifar10-conv', 'nadamw', 7), 7);
  assert.equal(budgetFor('cifar10-conv', 'sgd', 7), 7);
  assert.equal(budgetFor('cifar10-conv', 'adam'), 15);
  assert.equal(budgetFor('fmnist-mlp', 'nadamw'), 1000);
  assert.equal(budgetFor('cifar10-conv', 'nadamw'), 10);
  assert.equal(budgetFor('quadratic', 'nadamw'), 10);
});

test('--max-hours deadline and durations', () => {
  assert.equal(deadlineFrom(undefined), null);
  assert.equal(deadlineFrom(0.5, 1000), 1000 + 1_800_000);
  assert.throws(() => deadlineFrom(0), /positive/);
  assert.deepEqual([5, 125, 3720, Number.NaN].map(formatDuration), ['5 s', '2 min', '1 h 02 min', '?']);
});

test('ETA arithmetic: steps × ms per step over the workers; 2x labels priced as their optimizer', () => {
  const times = new Map([[stepTimeKey('t', 'adam'), 2], [stepTimeKey('t', 'sgd'), 1]]);
  const jobs = [{ task: 't', steps: 1000, spec: { label: 'adam' } }, { task: 't', steps: 2000, spec: { label: 'adam@2x' } }, { task: 't', steps: 500, spec: { label: 'sgd' } }];
  assert.equal(runSeconds(jobs, times, 2), (2000 + 4000 + 500) / 1000 / 2);
  const [defaults, batch] = timingPoints('fmnist-mlp', 128, { sweeps: true, batchSizes: [256], widthValues: [] });
  // Each timing runs warmup + rounds × block steps of the optimizer and of SGD; batch 256 is twice the work.
  const settings = { warmup: 1, rounds: 2, block: 2 };
  assert.equal(timingSeconds([[{ ...defaults, task: 't' }, { label: 'adam' }], [{ ...batch, task: 't' }, { label: 'adam' }]], times, settings), (5 * 3 + 5 * 3 * 2) / 1000);
  assert.equal(memorySeconds([{ task: 't', label: 'adam' }], 100, times, 1), 2 + 0.2);
});

test('measureStepTimes: recorded timings are used as they are; missing ones are measured now', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-budget-'));
  const db = openResultsDb(join(dir, 'lopt.db'));
  try {
    db.upsertTiming({ task: 'fmnist-mlp', task_opts: '{}', optimizer: 'adam', label: 'adam', batch_size: 128, width: 128, ms_per_step: 123,
      sgd_ms_per_step: 1, overhead: 123, repeats: 1, backend: 'native', machine: '{}', measured_at: 'now' });
    const backend = getBackend();
    const times = measureStepTimes(db, new TaskCache(backend), ['fmnist-mlp'], [handDesignedSpec('adam'), handDesignedSpec('sgdm')]);
    assert.equal(times.get(stepTimeKey('fmnist-mlp', 'adam')), 123);
    const sgdm = times.get(stepTimeKey('fmnist-mlp', 'sgdm'))!;
    assert.ok(sgdm > 0 && sgdm < 123, `measured sgdm ${sgdm} ms`);
    assert.ok(times.get(stepTimeKey('fmnist-mlp', 'sgd'))! > 0, 'SGD measured alongside');
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
