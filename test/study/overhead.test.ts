import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend } from '../../src/engine/select.js';
import type { Optimizer } from '../../src/optimizers/optimizer.js';
import { optimizers } from '../../src/optimizers/registry.js';
import { getTask } from '../../src/tasks/registry.js';
import type { Task } from '../../src/tasks/task.js';
import { openResultsDb } from '../../src/study/db.js';
import { handDesignedSpec, learnedSpec } from '../../src/study/optimizer-spec.js';
import { measureOverhead, runOverhead, timingPoints } from '../../src/study/overhead.js';
import { TaskCache } from '../../src/study/run-job.js';

const backend = getBackend();

test('measureOverhead: optimizer and SGD steps alternate in blocks, order flipping every round', () => {
  const inner = getTask('fmnist-mlp', { width: 32, batchSize: 16, backend });
  const calls: string[] = [];
  // Every step computes a gradient (g); only the timed optimizer's steps also call its update (u).
  const task = Object.create(inner, {
    lossAndGrad: { value: (params: never, batch: never) => { calls.push('g'); return inner.lossAndGrad(params, batch); } },
  }) as Task<any>;
  const adam = optimizers.get('adam', {}, { backend }) as Optimizer<unknown>;
  const logged: Optimizer<unknown> = { ...adam, update: (s, g, c) => { calls.push('u'); return adam.update(s, g, c); } };
  const m = measureOverhead(task, logged, backend, { warmup: 1, rounds: 3, block: 2 });
  const steps = calls.join('').replace(/gu/g, 'O').replace(/g/g, 'S');
  assert.equal(steps, 'OS' + 'OOSS' + 'SSOO' + 'OOSS');
  assert.equal(m.repeats, 6);
  assert.ok(m.msPerStep > 0 && m.sgdMsPerStep > 0);
  assert.equal(m.overhead, m.msPerStep / m.sgdMsPerStep);
});

test('timingPoints: the defaults, then batch sizes and widths without repeating the default point', () => {
  const mlp = timingPoints('fmnist-mlp', 128, { sweeps: true });
  assert.deepEqual(mlp[0], { task: 'fmnist-mlp', taskOpts: {}, batchSize: 128, width: 128 });
  assert.deepEqual(mlp.filter((p) => 'batchSize' in p.taskOpts).map((p) => p.batchSize), [8, 16, 32, 64, 256, 512, 1024]);
  assert.deepEqual(mlp.filter((p) => 'width' in p.taskOpts).map((p) => p.width), [32, 64, 256, 512, 1024]);
  const conv = timingPoints('cifar10-conv', 128, { sweeps: true, batchSizes: [8, 128] });
  assert.deepEqual(conv.map((p) => p.taskOpts), [{}, { batchSize: 8 }, { channelMult: 0.25 }, { channelMult: 0.5 }, { channelMult: 2 }, { channelMult: 4 }]);
  assert.deepEqual(conv.map((p) => p.width), [32, 32, 8, 16, 64, 128]);
  assert.deepEqual(timingPoints('text-lstm-lm', 128, { sweeps: true, batchSizes: [64] }).map((p) => [p.taskOpts, p.width]), [[{}, null], [{ batchSize: 64 }, null]]);
  assert.equal(timingPoints('fmnist-mlp', 128, { sweeps: false }).length, 1);
  // A short sweep: the neighbours of the defaults.
  assert.deepEqual(timingPoints('fmnist-mlp', 128, { sweeps: true, near: 1 }).map((p) => p.taskOpts), [{}, { batchSize: 64 }, { batchSize: 256 }, { width: 64 }, { width: 256 }]);
  assert.deepEqual(timingPoints('cifar10-conv', 128, { sweeps: true, near: 1 }).map((p) => p.taskOpts), [{}, { batchSize: 64 }, { batchSize: 256 }, { channelMult: 0.5 }, { channelMult: 2 }]);
});

test('runOverhead: one row per (point, optimizer), overhead = ms / SGD ms; a rerun measures nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-overhead-'));
  const db = openResultsDb(join(dir, 'lopt.db'));
  try {
    const tasks = new TaskCache(backend);
    const points = timingPoints('fmnist-mlp', 128, { sweeps: true, batchSizes: [32], widthValues: [32] });
    const specs = [handDesignedSpec('sgd'), handDesignedSpec('adam'), learnedSpec('small_fc_lopt')];
    const where = { backend: backend.name, machine: '{}' };
    const settings = { warmup: 1, rounds: 2, block: 2 };
    const first = runOverhead(db, tasks, points, specs, { where, settings });
    assert.deepEqual(first, { measured: 9, remaining: 0 });
    const rows = db.timings('fmnist-mlp');
    assert.equal(rows.length, 9);
    for (const r of rows) {
      assert.ok(r.ms_per_step > 0 && r.sgd_ms_per_step > 0);
      assert.ok(Math.abs(r.overhead - r.ms_per_step / r.sgd_ms_per_step) < 1e-12);
      assert.equal(r.repeats, 4);
    }
    assert.deepEqual(rows.filter((r) => r.task_opts === '{"batchSize":32}').map((r) => [r.batch_size, r.width]), [[32, 128], [32, 128], [32, 128]]);
    assert.deepEqual(rows.filter((r) => r.task_opts === '{"width":32}').map((r) => [r.batch_size, r.width]), [[128, 32], [128, 32], [128, 32]]);
    assert.deepEqual(runOverhead(db, tasks, points, specs, { where, settings }), { measured: 0, remaining: 0 });
    let polls = 0;
    const stopped = runOverhead(db, tasks, timingPoints('fmnist-mlp', 128, { sweeps: true, batchSizes: [16, 64], widthValues: [] }), specs, {
      where, settings, shouldStop: () => polls++ >= 2,
    });
    assert.deepEqual(stopped, { measured: 2, remaining: 4 });
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
