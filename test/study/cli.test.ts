import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { learned } from '../../src/learned/registry.js';
import { openResultsDb } from '../../src/study/db.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const lopt = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

test('lopt study --preset smoke (a smaller test configuration): every phase from real runs, the report, a rerun repeats nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-study-cli-'));
  try {
    const db = join(dir, 'lopt.db');
    const out = join(dir, 'report');
    const args = ['study', '--preset', 'smoke', '--optimizers', 'sgd,adam,small_fc_lopt', '--steps', '30', '--budget', '3',
      '--db', db, '--out', out, '--workers', '2', '--json'];
    const first = lopt(args);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /lopt study: ETA: ~/);
    // small_fc_lopt runs with the shipped pretrained weights where the package has them, else untrained.
    const shipped = learned.pretrained('small_fc_lopt') !== undefined;
    assert.equal(/small_fc_lopt: no meta-trained weights .* evaluated untrained/.test(first.stderr), !shipped);
    const summary = JSON.parse(first.stdout.trim().split('\n').at(-1)!);
    assert.equal(summary.stopped, false);
    assert.deepEqual([summary.search.ran, summary.eval.ran, summary.overhead.measured, summary.memory.measured], [6, 10, 15, 3]);
    assert.equal(summary.report.indexPath, join(out, 'index.html'));
    assert.ok(existsSync(join(out, 'index.html')));
    assert.ok(readFileSync(join(out, 'index.html'), 'utf8').includes('<svg'));

    const results = openResultsDb(db, { readonly: true });
    try {
      const search = results.runs({ purpose: 'search' });
      // The smoke grid (1e-4 … 1e-1), three values spread over it, on search seed 2000.
      assert.deepEqual(search.filter((r) => r.label === 'sgd').map((r) => [JSON.parse(r.hparams).learningRate, r.seed, r.steps]).sort((a, b) => a[0] - b[0]),
        [[1e-4, 2000, 30], [0.00316227766016838, 2000, 30], [0.1, 2000, 30]]);
      const best = results.bestConfigs();
      assert.deepEqual(best.map((b) => b.optimizer), ['adam', 'sgd']);
      for (const b of best) {
        const tried = search.filter((r) => r.label === b.optimizer && r.status === 'done').map((r) => r.mean_loss as number);
        assert.equal(b.mean_loss, Math.min(...tried));
      }
      const evals = results.runs({ purpose: 'eval' });
      assert.deepEqual([...new Set(evals.map((r) => r.label))].sort(), ['adam', 'adam@2x', 'adam@3x', 'sgd', 'small_fc_lopt']);
      assert.deepEqual([...new Set(evals.map((r) => r.seed))].sort(), [1000, 1001]);
      for (const r of evals) assert.equal(results.curve(r.id).length > 0, true);
      assert.equal(evals.find((r) => r.label === 'small_fc_lopt')!.trained, shipped ? 1 : 0);
      const adamEval = evals.find((r) => r.label === 'adam')!;
      assert.equal(adamEval.hparams, best.find((b) => b.optimizer === 'adam')!.hparams, 'evaluated at the searched best');
      const timings = results.timings('fmnist-mlp');
      assert.deepEqual([...new Set(timings.map((t) => t.task_opts))].sort(), ['{"batchSize":256}', '{"batchSize":64}', '{"width":256}', '{"width":64}', '{}']);
      assert.deepEqual(results.memory('fmnist-mlp').map((m) => m.label), ['adam', 'sgd', 'small_fc_lopt']);
      const machine = JSON.parse(evals[0].machine);
      assert.equal(typeof machine.cpu, 'string');
      assert.ok(machine.cores >= 1);
    } finally {
      results.close();
    }

    const second = lopt(args);
    assert.equal(second.status, 0, second.stderr);
    const again = JSON.parse(second.stdout.trim().split('\n').at(-1)!);
    assert.deepEqual([again.search.ran, again.eval.ran, again.overhead.measured, again.memory.measured], [0, 0, 0, 0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lopt study: bad settings are one line and exit code 2', () => {
  const cases: [string[], RegExp][] = [
    [['--preset', 'huge'], /unknown --preset "huge"; valid: smoke/],
    [['--tasks', 'no-such-task'], /unknown task "no-such-task" in --tasks/],
    [['--optimizers', 'sgd,lion'], /unknown optimizer "lion" in --optimizers/],
    [['--optimizers', 'sgd', '--weights', 'sgd=x.safetensors'], /--weights applies to learned optimizers only/],
    [['--phases', 'search,plot'], /unknown phase "plot"/],
    [['--variants', 'features=adafact'], /--variants needs --meta-budget-minutes/],
    [['--budget', '0'], /expected a positive integer/],
  ];
  const dir = mkdtempSync(join(tmpdir(), 'lopt-study-bad-'));
  try {
    for (const [flags, message] of cases) {
      const result = lopt(['study', '--db', join(dir, 'x.db'), ...flags]);
      assert.equal(result.status, 2, `${flags.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
