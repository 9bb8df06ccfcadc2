import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetaRun, readMetaRuns, RunFolderError } from '../../../src/study/report/meta-runs.js';
import { metaTrainingSection, transfer } from '../../../src/study/report/meta.js';
import type { FillCommands } from '../../../src/study/report/commands.js';

const lines = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n');
const trainRow = (outerStep: number, metaLoss: number | null) => ({ outerStep, thetaVersion: outerStep, metaLoss, gradNorm: 1, innerStepsPerSec: 100, nanCount: 0 });
const evalRow = (outerStep: number, evalTask: string, evalSeed: number, evalLoss: number | null) => ({ outerStep, thetaVersion: outerStep, evalTask, evalSeed, evalLoss });

function folder(root: string, name: string, metrics: string, metagen?: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'metrics.jsonl'), metrics);
  if (metagen !== undefined) writeFileSync(join(dir, 'metagen.jsonl'), metagen);
  return dir;
}

test('metrics.jsonl: training and evaluation rows, null losses, a cut-short last line', () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-report-runs-'));
  try {
    const dir = folder(root, 'run', `${lines([evalRow(0, 'fmnist-mlp', 0, 2.1), trainRow(0, 1.5), trainRow(1, null), evalRow(2, 'fmnist-mlp', 0, null)])}\n{"outerStep": 2, "thetaV`);
    const run = readMetaRun(dir);
    assert.equal(run.train.length, 2);
    assert.ok(Number.isNaN(run.train[1].metaLoss));
    assert.deepEqual(run.evals.map((e) => e.evalLoss), [2.1, Infinity]);
    // No θ file yet: the meta-training task is the only evaluation task.
    assert.equal(run.metaTrainTask, 'fmnist-mlp');
    assert.equal(run.optimizer, null);
    assert.deepEqual(run.metagen, []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a committed compact run: metrics-thin.jsonl serves when metrics.jsonl is absent; baselines.json gives dashed lines', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-report-runs-'));
  try {
    const dir = join(root, 'campaign');
    mkdirSync(dir);
    writeFileSync(join(dir, 'metrics-thin.jsonl'), `${lines([evalRow(0, 'fmnist-mlp', 0, 0.34), trainRow(0, 0.3), evalRow(500, 'fmnist-mlp', 0, 0.338), trainRow(100, 0.29)])}\n`);
    writeFileSync(join(dir, 'baselines.json'), JSON.stringify({ baselines: [{ name: 'nadamw (LO list #8)', evalLoss: 0.3351 }, { name: 'adam', evalLoss: 0.3713, hparams: {} }] }));
    const run = readMetaRun(dir);
    assert.equal(run.metricsFile, 'metrics-thin.jsonl');
    assert.deepEqual(run.train.map((t) => t.outerStep), [0, 100]);
    assert.deepEqual(run.evals.map((e) => e.outerStep), [0, 500]);
    assert.deepEqual(run.baselines, [{ name: 'nadamw (LO list #8)', evalLoss: 0.3351 }, { name: 'adam', evalLoss: 0.3713 }]);
    const { section } = await metaTrainingSection([run], { metaRuns: 'lopt meta-train --out DIR' } as unknown as FillCommands);
    assert.match(section.body, /nadamw \(LO list #8\)/);
    assert.match(section.body, /stroke-dasharray/);
    // Where both logs are there, the full one wins.
    writeFileSync(join(dir, 'metrics.jsonl'), `${lines([trainRow(0, 0.3), trainRow(1, 0.31)])}\n`);
    assert.deepEqual(readMetaRun(dir).train.map((t) => t.outerStep), [0, 1]);
    writeFileSync(join(dir, 'baselines.json'), JSON.stringify({ baselines: [{ evalLoss: 1 }] }));
    assert.throws(() => readMetaRun(dir), /baselines\.json: baselines\.0\.name: .*scripts\/baselines-on-keys\.mjs/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a folder that is not a run, or a broken row, is one line naming the fix', () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-report-runs-'));
  try {
    assert.throws(() => readMetaRun(join(root, 'nope')), (e: Error) => e instanceof RunFolderError && /no such folder/.test(e.message) && !e.message.includes('\n'));
    mkdirSync(join(root, 'empty'));
    assert.throws(() => readMetaRun(join(root, 'empty')), /no metrics\.jsonl \(or metrics-thin\.jsonl\) in it; pass a folder written by `lopt meta-train --out DIR`/);
    const broken = folder(root, 'broken', `${lines([trainRow(0, 1)])}\nnot json\n${lines([trainRow(1, 1)])}\n`);
    assert.throws(() => readMetaRun(broken), /metrics\.jsonl line 2 is not JSON/);
    const wrong = folder(root, 'wrong', `${lines([{ outerStep: 'a', thetaVersion: 0, metaLoss: 1, gradNorm: 1, innerStepsPerSec: 1, nanCount: 0 }])}\n`);
    assert.throws(() => readMetaRun(wrong), /metrics\.jsonl line 1: outerStep:/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('transfer: meta-eval rows at the most common run length, best checkpoint chosen on the meta-training task only', () => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-report-runs-'));
  try {
    const metrics = lines([0, 5, 10].map((s) => evalRow(s, 'A', 0, 3 - s / 10)));
    const gen = (outerStep: number, task: string, loss: number, steps = 100) => ({ outerStep, evalTask: task, evalSeed: 0, steps, evalLoss: loss, seconds: 1 });
    const metagen = lines([
      gen(0, 'A', 2.0), gen(0, 'B', 5.0), gen(5, 'A', 1.5), gen(5, 'B', 4.0), gen(10, 'A', 1.2), gen(10, 'B', 6.0),
      gen(10, 'B', 0.1, 7), // another run length: not mixed in
    ]);
    const run = readMetaRun(folder(root, 'run', `${metrics}\n`, `${metagen}\n`));
    const t = transfer(run)!;
    assert.deepEqual(t.tasks, ['A', 'B']);
    assert.deepEqual(t.checkpoints.map((c) => c.outerStep), [0, 5, 10]);
    assert.equal(t.best?.outerStep, 10);
    assert.equal(t.best?.loss.get('B'), 6.0);
    assert.match(t.source, /100-step runs/);
    // Without meta-eval rows for the training task, its loss comes from the run's own evaluations.
    const only = readMetaRun(folder(root, 'only-b', `${metrics}\n`, `${lines([gen(5, 'B', 4), gen(10, 'B', 3)])}\n`));
    const u = transfer(only)!;
    assert.deepEqual(u.checkpoints.map((c) => [c.outerStep, c.loss.get('A'), c.loss.get('B')]), [[5, 2.5, 4], [10, 2, 3]]);
    assert.match(u.source, /A from the run's own evaluations/);
    // One task only: nothing to transfer.
    assert.equal(transfer(readMetaRun(folder(root, 'single', `${metrics}\n`))), null);
    // The same folder name twice gets distinct display names.
    assert.deepEqual(readMetaRuns([join(root, 'run'), join(root, 'run')]).map((r) => r.name), ['run', 'run (2)']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
