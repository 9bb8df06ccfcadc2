// The recipe ablation's report table (src/study/report/ablation.ts): read and validated from
// results.json, paired differences against the reference recipe on the same evaluation keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ablationSection, ablationTable, pairedDifference, readAblation } from '../../../src/study/report/ablation.js';

const RESULTS = {
  keys: { seed: 12, evalSeeds: 3, innerSteps: 2000 },
  rows: [
    { variant: 'initial θ', mean: 0.34, losses: [0.33, 0.34, 0.35] },
    { variant: 'fixed', updates: 1000, innerSteps: 320000, mean: 0.3367, losses: [0.33, 0.335, 0.345] },
    { variant: 'tasks-16', updates: 500, innerSteps: 320000, mean: 0.3333, losses: [0.325, 0.33, 0.345] },
  ],
};

function folderWith(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-ablation-'));
  writeFileSync(join(dir, 'results.json'), content);
  return dir;
}

test('paired differences: mean and standard error of the per-key differences', () => {
  const { mean, se } = pairedDifference([0.325, 0.33, 0.345], [0.33, 0.335, 0.345]);
  assert.ok(Math.abs(mean - -0.01 / 3) < 1e-12, String(mean));
  // differences −0.005, −0.005, 0: sample sd 0.002887, se = sd/√3
  assert.ok(Math.abs(se - 0.0028867513 / Math.sqrt(3)) < 1e-9, String(se));
  assert.throws(() => pairedDifference([1], [1]), /at least 2/);
});

test('the table compares every row with the reference recipe (default fixed) on the same keys', (t) => {
  const dir = folderWith(JSON.stringify(RESULTS));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const results = readAblation(dir);
  assert.equal(results.reference, 'fixed');
  const rows = ablationTable(results);
  assert.deepEqual(rows[1], ['fixed', '1,000', '320,000', '0.3367', '']);
  assert.deepEqual(rows[2], ['tasks-16', '500', '320,000', '0.3333', '−0.0033 ± 0.0017']);
  assert.equal(rows[0][1], '', 'the initial θ spent no meta-training');
  const built = ablationSection(results);
  assert.ok(built && built.section.body.includes('tasks-16') && built.section.intro.includes('3 meta-training evaluation keys'));
  assert.equal(ablationSection(null), null);
});

test('a missing or malformed results.json is one error naming the file and the script that writes it', (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'lopt-ablation-'));
  const bad = folderWith(JSON.stringify({ ...RESULTS, rows: [{ variant: 'x', mean: 'low', losses: [] }] }));
  t.after(() => [empty, bad].forEach((d) => rmSync(d, { recursive: true, force: true })));
  assert.throws(() => readAblation(empty), (e: Error) => e.message.includes(join(empty, 'results.json')) && /ablation-score\.mjs/.test(e.message));
  assert.throws(() => readAblation(bad), /not an ablation results file \(rows\.0\.mean/);
});
