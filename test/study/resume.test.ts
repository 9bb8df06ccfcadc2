import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openResultsDb, type RunRow } from '../../src/study/db.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
// sgd and adam over 8 learning rates of the grid on one search seed (16 runs), then sgd, adam,
// adam@2x and adam@3x on 2 evaluation seeds (8 runs).
const STUDY = ['study', '--tasks', 'fmnist-mlp', '--optimizers', 'sgd,adam', '--steps', '100', '--budget', '8', '--seeds', '2',
  '--phases', 'search,eval', '--workers', '2', '--json'];
const TOTAL = 24;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function snapshot(db: string): Map<string, Pick<RunRow, 'id' | 'finished_at' | 'mean_loss'>> {
  if (!existsSync(db)) return new Map();
  let results;
  try {
    results = openResultsDb(db, { readonly: true });
  } catch {
    return new Map(); // the study has created the file but not yet its schema
  }
  try {
    return new Map(results.runs().map((r) => [r.config_key, { id: r.id, finished_at: r.finished_at, mean_loss: r.mean_loss }]));
  } finally {
    results.close();
  }
}

function finish(db: string) {
  const result = spawnSync(process.execPath, [CLI, ...STUDY, '--db', db], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!);
}

function assertKept(before: Map<string, unknown>, after: Map<string, unknown>): void {
  for (const [key, row] of before) assert.deepEqual(after.get(key), row, 'a run finished before the interruption is kept as it was');
}

test('resume after a killed study: no finished run is lost or repeated, and the result set completes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-resume-kill-'));
  try {
    const db = join(dir, 'lopt.db');
    const child = spawn(process.execPath, [CLI, ...STUDY, '--db', db], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let seen = 0;
    for (let i = 0; i < 4800 && seen < 4; i++) { // up to 4 min on a loaded machine
      await sleep(50);
      seen = snapshot(db).size;
    }
    child.kill('SIGKILL');
    await exited;
    const before = snapshot(db);
    assert.ok(before.size >= 4 && before.size < TOTAL, `killed mid-way (${before.size} of ${TOTAL} runs done)`);

    const summary = finish(db);
    assert.equal(summary.search.ran + summary.eval.ran, TOTAL - before.size, 'only the missing runs ran');
    const after = snapshot(db);
    assert.equal(after.size, TOTAL);
    assertKept(before, after);
    const again = finish(db);
    assert.equal(again.search.ran + again.eval.ran, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--max-hours stops cleanly between runs; rerunning the command completes the study', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-resume-hours-'));
  try {
    const db = join(dir, 'lopt.db');
    // 0.0004 h = 1.44 s: less than the study needs.
    const stopped = spawnSync(process.execPath, [CLI, ...STUDY, '--db', db, '--max-hours', '0.0004'], { encoding: 'utf8' });
    assert.equal(stopped.status, 0, stopped.stderr);
    assert.match(stopped.stderr, /stopped after --max-hours 0.0004; every finished run is saved: rerun the same command to continue/);
    const partial = JSON.parse(stopped.stdout.trim().split('\n').at(-1)!);
    assert.equal(partial.stopped, true);
    assert.equal(partial.stopReason, 'max-hours');
    const before = snapshot(db);
    assert.equal(before.size, partial.search.ran + partial.eval.ran);
    assert.ok(before.size < TOTAL);

    const summary = finish(db);
    assert.equal(summary.stopped, false);
    assert.equal(summary.search.ran + summary.eval.ran, TOTAL - before.size);
    const after = snapshot(db);
    assert.equal(after.size, TOTAL);
    assertKept(before, after);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
