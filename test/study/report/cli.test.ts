import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResultsDb } from '../../../src/study/db.js';
import { metaTrain } from '../../../src/meta/run.js';

const CLI = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
const lopt = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

let root: string;
let dbPath: string;
let runDir: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'lopt-report-cli-'));
  dbPath = join(root, 'results.db');
  new ResultsDb(dbPath).close();
  runDir = join(root, 'run');
  await metaTrain({
    out: runDir, problem: { lopt: 'small_fc_lopt', task: 'quadratic', taskOptions: {} },
    estimator: 'pes', numTasks: 2, truncLength: 4, innerSteps: 8, std: 0.01, metaLr: 1e-3,
    outerSteps: 4, seed: 1, evalEvery: 2, evalSeeds: 1, checkpointEvery: 0,
  });
});

after(() => rmSync(root, { recursive: true, force: true }));

function assertOneLineError(result: ReturnType<typeof lopt>, pattern: RegExp): void {
  assert.equal(result.status, 2, result.stderr);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0], /^lopt: error: /);
  assert.match(lines[0], pattern);
}

test('lopt report writes index.html and, with --json, a summary as the last stdout line', () => {
  const out = join(root, 'report');
  const result = lopt('report', '--db', dbPath, '--out', out, '--runs', runDir, runDir, '--json');
  assert.equal(result.status, 0, result.stderr);
  const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { indexPath: string; plots: string[]; missing: string[] };
  assert.equal(summary.indexPath, join(out, 'index.html'));
  assert.ok(existsSync(summary.indexPath));
  // The empty database fills nothing; the two run folders fill the meta-training curves.
  assert.deepEqual(summary.plots, ['meta: training curves']);
  assert.ok(summary.missing.some((m) => m.startsWith('Fig. 1')));
  assert.match(result.stdout, /^report: .*index\.html \(1 plot\)\nno data yet for: /);
  const html = readFileSync(summary.indexPath, 'utf8');
  assert.ok(html.includes('run (2)'), 'the same folder twice is shown as two runs');
  // No temporary file is left beside the report.
  assert.deepEqual(readdirSync(out), ['index.html']);
});

test('a missing database is one line with the fix, exit code 2', () => {
  const missing = join(root, 'nope.db');
  const result = lopt('report', '--db', missing, '--out', join(root, 'x'));
  assertOneLineError(result, new RegExp(`no results database at ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: run \`lopt study --db`));
  assert.equal(existsSync(join(root, 'x', 'index.html')), false);
});

test('a file that is not a results database, and an unreadable run folder, are one line each', () => {
  const notDb = join(root, 'not-a-db.db');
  writeFileSync(notDb, 'hello, not SQLite\n');
  assertOneLineError(lopt('report', '--db', notDb, '--out', join(root, 'y')), /is not a SQLite database; pass the --db FILE/);
  assertOneLineError(lopt('report', '--db', dbPath, '--out', join(root, 'y'), '--runs', join(root, 'missing-run')), /--runs .*missing-run: no such folder; pass a folder written by `lopt meta-train --out DIR`/);
  mkdirSync(join(root, 'not-a-run'));
  assertOneLineError(lopt('report', '--db', dbPath, '--out', join(root, 'y'), '--runs', join(root, 'not-a-run')), /no metrics\.jsonl \(or metrics-thin\.jsonl\) in it/);
  assert.equal(existsSync(join(root, 'y', 'index.html')), false);
});

test('--out is required (commander usage error, exit code 2)', () => {
  const result = lopt('report', '--db', dbPath);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /--out/);
});
