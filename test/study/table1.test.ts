// Table 1 (src/study/table1.ts and the study's table1 phase) on small tasks: the shape of each row
// (parameters, both step times, their ratio, the timings and threads, the paper's numbers where the row
// is one of its models), the rows in the database and the report, and resuming. Timings are not judged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBackend } from '../../src/engine/select.js';
import { openResultsDb } from '../../src/study/db.js';
import { learnedSpec } from '../../src/study/optimizer-spec.js';
import { writeReport } from '../../src/study/report/index.js';
import { measureTable1Row, PAPER_TABLE1, parseTable1Model } from '../../src/study/table1.js';
import { getTask } from '../../src/tasks/registry.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const FAST = { warmup: 1, rounds: 2, block: 1 };

test('parseTable1Model: a task with options; the paper\'s rows are recognised with their numbers', () => {
  assert.deepEqual(parseTable1Model('fmnist-mlp'), { model: 'fmnist-mlp', task: 'fmnist-mlp', taskOpts: {} });
  assert.deepEqual(parseTable1Model('cifar10-conv:batchSize=32,channelMult=0.5'), {
    model: 'cifar10-conv:batchSize=32,channelMult=0.5', task: 'cifar10-conv', taskOpts: { batchSize: 32, channelMult: 0.5 },
  });
  const transformer = parseTable1Model('transformer-byte:seqLen=512,batchSize=2,layers=6,width=768,heads=12');
  assert.deepEqual(transformer, PAPER_TABLE1[3]);
  assert.equal(transformer.paper?.ratio, 2.39);
  assert.throws(() => parseTable1Model('cifar10-conv:batchSize'), /"batchSize" is not key=value/);
  assert.throws(() => parseTable1Model(':batchSize=2'), /expected TASK or TASK:key=value/);
});

test('measureTable1Row: parameters, SGD and small_fc_lopt medians, their ratio, over the timings asked for', () => {
  const backend = getBackend();
  for (const spec of ['fmnist-mlp', 'cifar10-conv:batchSize=8']) {
    const model = parseTable1Model(spec);
    const row = measureTable1Row(model, learnedSpec('small_fc_lopt'), { backend, settings: FAST });
    assert.equal(row.model, spec);
    assert.equal(row.params, getTask(model.task, { ...model.taskOpts, backend }).paramCount);
    assert.ok(row.sgdMsPerStep > 0 && row.loptMsPerStep > 0);
    assert.equal(row.ratio, row.loptMsPerStep / row.sgdMsPerStep);
    assert.equal(row.timings, 2);
    assert.equal(row.threads, backend.threads?.() ?? 1);
    assert.equal(row.paper, undefined);
  }
});

test('lopt study --phases table1: rows in the database and the report, resumed without measuring again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-table1-'));
  try {
    const db = join(dir, 'results.db');
    const args = ['study', '--phases', 'table1', '--db', db, '--table1', 'fmnist-mlp', '--table1', 'cifar10-conv:batchSize=8', '--table1-timings', '2', '--json'];
    const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout.trim().split('\n').at(-1)!).table1, { measured: 2, remaining: 0 });
    const results = openResultsDb(db, { readonly: true });
    const rows = results.table1();
    results.close();
    assert.deepEqual(rows.map((r) => [r.model, r.task, r.task_opts, r.label, r.timings]), [
      ['fmnist-mlp', 'fmnist-mlp', '{}', 'small_fc_lopt', 2],
      ['cifar10-conv:batchSize=8', 'cifar10-conv', '{"batchSize":8}', 'small_fc_lopt', 2],
    ]);
    for (const r of rows) {
      assert.equal(r.ratio, r.lopt_ms_per_step / r.sgd_ms_per_step);
      assert.ok(r.params > 0 && r.threads >= 1);
      assert.equal(r.paper_ratio, null);
    }
    const again = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(again.stdout.trim().split('\n').at(-1)!).table1, { measured: 0, remaining: 0 });

    const report = await writeReport({ dbPath: db, outDir: join(dir, 'report') });
    const html = readFileSync(report.indexPath, 'utf8');
    const section = /<section id="table1">[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
    assert.match(section, /Table 1: learned-optimizer step time on large models/);
    assert.match(section, /cifar10-conv:batchSize=8/);
    assert.match(section, /paper: ratio \(TPUv2\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lopt study --table1 with an unknown task is one error naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-table1-'));
  try {
    const run = spawnSync(process.execPath, [CLI, 'study', '--phases', 'table1', '--db', join(dir, 'x.db'), '--table1', 'no-such-task:batchSize=2'], { encoding: 'utf8' });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /unknown task "no-such-task" in --table1 no-such-task:batchSize=2; valid: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
