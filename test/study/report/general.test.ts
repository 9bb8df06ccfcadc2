// The general-purpose weights' report table (src/study/report/general.ts): read and validated from
// summary.json (scripts/general-eval.mjs), the goal of beating Adam at 1e-3 everywhere checked per task.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsDb } from '../../../src/study/db.js';
import { writeReport } from '../../../src/study/report/index.js';
import { generalGoalMet, generalHeaders, generalSection, generalTable, readGeneral, type GeneralSummary } from '../../../src/study/report/general.js';

const entry = (meanLoss: number, diverged = 0) => ({ meanLoss, diverged });
const SUMMARY: GeneralSummary = {
  steps: 1000, seeds: [1, 2, 3], adamGrid: [0.0003, 0.001, 0.003], nadamwEntries: [0, 3],
  tasks: [
    { name: 'fmnist-mlp', heldOut: false,
      // The general weights' column comes first whatever the order of the runs.
      optimizers: { 'lopt-fmnist': entry(0.28), 'lopt-general': entry(0.3), 'adam 0.0003': entry(0.42), 'adam 0.001': entry(0.4), 'adam 0.003': entry(0.41123), 'nadamw #0': entry(0.39), 'nadamw #3': entry(0.35) },
      tunedAdam: { choice: 'adam 0.001', ...entry(0.4) }, tunedNadamw: { choice: 'nadamw #3', ...entry(0.35) } },
    // The learned row loses to Adam at 1e-3 here.
    { name: 'cifar10-conv', heldOut: true,
      optimizers: { 'lopt-general': entry(1.5), 'adam 0.0003': entry(1.6), 'adam 0.001': entry(1.45), 'adam 0.003': entry(1.41234), 'nadamw #0': entry(1.5), 'nadamw #3': entry(1.42) },
      tunedAdam: { choice: 'adam 0.003', ...entry(1.41234) }, tunedNadamw: { choice: 'nadamw #3', ...entry(1.42) } },
    // Lower than Adam but one run diverged; only learned rows were run (no tuned baselines).
    { name: 'quadratic', heldOut: true, optimizers: { 'lopt-general': entry(0.01, 1), 'adam 0.001': entry(0.02) }, tunedAdam: null, tunedNadamw: null },
  ],
};

function folderWith(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-general-'));
  writeFileSync(join(dir, 'summary.json'), content);
  return dir;
}

test('the table has one column per learned optimizer, Adam 1e-3 and the tuned baselines with their choice', (t) => {
  const dir = folderWith(JSON.stringify(SUMMARY));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const summary = readGeneral(dir);
  assert.deepEqual(generalHeaders(summary), ['task', 'held out', 'lopt-general', 'lopt-fmnist', 'Adam 1e-3', 'tuned Adam', 'tuned NAdamW']);
  assert.deepEqual(generalTable(summary), [
    ['fmnist-mlp', '', '0.3000', '0.2800', '0.4000', '0.4000 (lr 0.001)', '0.3500 (#3)'],
    ['cifar10-conv', 'yes', '1.5000', '–', '1.4500', '1.4123 (lr 0.003)', '1.4200 (#3)'],
    ['quadratic', 'yes', '0.0100 (1 diverged)', '–', '0.0200', '–', '–'],
  ]);
});

test('the goal: lower mean loss than Adam at 1e-3 on every task and no diverged run', () => {
  const summary = SUMMARY;
  assert.deepEqual(generalGoalMet(summary, 'lopt-general'), { met: false, failures: ['cifar10-conv', 'quadratic'] });
  assert.deepEqual(generalGoalMet(summary, 'lopt-fmnist'), { met: false, failures: ['cifar10-conv', 'quadratic'] }, 'no runs is no win');
  const wins = { ...SUMMARY, tasks: SUMMARY.tasks.map((task) => ({ ...task, optimizers: { ...task.optimizers, 'lopt-general': entry(0.001) } })) };
  assert.deepEqual(generalGoalMet(wins, 'lopt-general'), { met: true, failures: [] });
  assert.match(generalSection(wins)!.section.intro, /lopt-general meets the goal/);
  const built = generalSection(summary)!;
  assert.equal(built.section.id, 'general');
  assert.match(built.section.intro, /1,000-step runs, averaged over seeds 1, 2, 3\. Tuned Adam is the best per task of the learning rates 0\.0003, 0\.001, 0\.003, tuned NAdamW the best per task of NAdamW list entries #0, #3, on the same seeds\./);
  assert.match(built.section.intro, /lopt-general does not meet the goal \(.*\) on: cifar10-conv, quadratic\.$/);
  assert.equal(generalSection(null), null);
});

test('a missing or malformed summary.json is one error naming the file and the script that writes it', (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'lopt-general-'));
  const bad = folderWith(JSON.stringify({ ...SUMMARY, tasks: [{ ...SUMMARY.tasks[0], optimizers: { 'adam 0.001': { meanLoss: 'low', diverged: 0 } } }] }));
  t.after(() => [empty, bad].forEach((d) => rmSync(d, { recursive: true, force: true })));
  assert.throws(() => readGeneral(empty), (e: Error) => e.message.startsWith(`${join(empty, 'summary.json')}: cannot read`) && /general-eval\.mjs/.test(e.message));
  assert.throws(() => readGeneral(bad), (e: Error) => e.message.startsWith(`${join(bad, 'summary.json')}: not a general-weights evaluation summary (tasks.0.optimizers.adam 0.001.meanLoss`) && /general-eval\.mjs$/.test(e.message));
});

test('a non-finite mean (null in JSON) reads as ∞ and never beats Adam', (t) => {
  const tasks = [{ ...SUMMARY.tasks[2], optimizers: { 'lopt-general': { meanLoss: null, diverged: 3 }, 'adam 0.001': entry(0.02) } }];
  const dir = folderWith(JSON.stringify({ ...SUMMARY, tasks }));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const summary = readGeneral(dir);
  assert.equal(generalTable(summary)[0][2], '∞ (3 diverged)');
  assert.deepEqual(generalGoalMet(summary, 'lopt-general'), { met: false, failures: ['quadratic'] });
});

test('writeReport adds the section after the ablation when given the folder', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'lopt-general-report-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dbPath = join(root, 'results.db');
  new ResultsDb(dbPath).close();
  const generalDir = folderWith(JSON.stringify(SUMMARY));
  t.after(() => rmSync(generalDir, { recursive: true, force: true }));
  const ablationDir = join(root, 'ablation');
  mkdirSync(ablationDir);
  writeFileSync(join(ablationDir, 'results.json'), JSON.stringify({ keys: { seed: 1, evalSeeds: 2, innerSteps: 10 }, rows: [{ variant: 'fixed', mean: 1, losses: [1, 1] }] }));
  const result = await writeReport({ dbPath, outDir: join(root, 'report'), ablationDir, generalDir });
  const html = readFileSync(result.indexPath, 'utf8');
  assert.ok(html.includes('<section id="ablation">') && html.indexOf('<section id="ablation">') < html.indexOf('<section id="general">'), 'the section follows the ablation');
  const section = html.slice(html.indexOf('<section id="general">'));
  assert.ok(html.includes('<section id="general">'), 'no general section');
  assert.ok(section.includes('<h2>General-purpose weights</h2>') && section.includes('1.4123 (lr 0.003)'), section.slice(0, 2000));
  await assert.rejects(writeReport({ dbPath, outDir: join(root, 'bad'), generalDir: root }), /summary\.json: cannot read/);
});
