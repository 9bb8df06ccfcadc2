import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, configKey, openResultsDb, type NewRun } from '../../src/study/db.js';

const withDir = (fn: (dir: string) => void) => {
  const dir = mkdtempSync(join(tmpdir(), 'lopt-db-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

function run(overrides: Partial<NewRun> = {}): NewRun {
  return {
    purpose: 'eval', config_key: 'k1', task: 'fmnist-mlp', task_opts: '{}', optimizer: 'adam', label: 'adam',
    hparams: '{"learningRate":0.001}', weights: null, trained: 1, step_multiplier: 1, seed: 1000, steps: 3,
    status: 'done', mean_loss: 1.5, final_loss: 1.2, wall_seconds: 0.01, ms_per_step: 1, backend: 'native',
    machine: '{}', finished_at: '2025-01-01T00:00:00.000Z', ...overrides,
  };
}

const curve = [
  { step: 1, loss: 2, wall_seconds: 0.001 },
  { step: 2, loss: 1.5, wall_seconds: 0.002 },
  { step: 3, loss: Number.NaN, wall_seconds: 0.003 },
];

test('schema: the documented tables and columns, WAL, user_version 1', () => {
  withDir((dir) => {
    const path = join(dir, 'sub', 'lopt.db');
    openResultsDb(path).close();
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('user_version', { simple: true }), 1);
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    const columns = (table: string) => (raw.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    assert.deepEqual(columns('runs'), ['id', 'purpose', 'config_key', 'task', 'task_opts', 'optimizer', 'label', 'hparams', 'weights',
      'trained', 'step_multiplier', 'seed', 'steps', 'status', 'mean_loss', 'final_loss', 'wall_seconds', 'ms_per_step', 'backend',
      'machine', 'finished_at']);
    assert.deepEqual(columns('curves'), ['run_id', 'step', 'loss', 'wall_seconds']);
    assert.deepEqual(columns('best_configs'), ['task', 'optimizer', 'steps', 'hparams', 'mean_loss', 'configs_tried', 'configs_diverged']);
    assert.deepEqual(columns('timings'), ['id', 'task', 'task_opts', 'optimizer', 'label', 'batch_size', 'width', 'ms_per_step',
      'sgd_ms_per_step', 'overhead', 'repeats', 'backend', 'machine', 'measured_at']);
    assert.deepEqual(columns('memory'), ['id', 'task', 'optimizer', 'label', 'param_count', 'state_bytes', 'state_bytes_per_param',
      'peak_rss_bytes', 'sgd_peak_rss_bytes', 'peak_rss_ratio', 'engine_bytes', 'backend', 'machine', 'measured_at']);
    assert.deepEqual(columns('variants'), ['id', 'sweep', 'features', 'hidden', 'task', 'meta_budget_minutes', 'outer_steps', 'run_dir',
      'weights', 'mean_loss', 'seeds', 'ms_per_step', 'overhead', 'state_bytes_per_param', 'finished_at']);
    raw.close();
    // Reopening an existing database keeps it (no re-creation, no error).
    const again = openResultsDb(path);
    assert.equal(again.countRuns(), 0);
    again.close();
  });
});

test('runs and curves: one transaction; NaN losses stored as NULL; constraints hold', () => {
  withDir((dir) => {
    const db = openResultsDb(join(dir, 'lopt.db'));
    const id = db.insertRun(run(), curve);
    assert.deepEqual(db.curve(id).map((p) => p.loss), [2, 1.5, null]);
    assert.ok(db.hasRun('k1') && !db.hasRun('k2'));
    assert.deepEqual([...db.finishedKeys()], ['k1']);
    // The same config_key twice is refused, and nothing of the second run stays.
    assert.throws(() => db.insertRun(run({ seed: 1001 }), curve), /UNIQUE/);
    assert.equal(db.countRuns(), 1);
    // A curve that fails half-way rolls back its run too.
    assert.throws(() => db.insertRun(run({ config_key: 'k2' }), [curve[0], curve[0]]), /UNIQUE/);
    assert.equal(db.hasRun('k2'), false);
    assert.equal(db.db.prepare('SELECT COUNT(*) FROM curves').pluck().get(), 3);
    // CHECK constraints on purpose and status; NOT NULL on what a run must have.
    assert.throws(() => db.insertRun(run({ config_key: 'k3', purpose: 'other' as never })), /CHECK/);
    assert.throws(() => db.insertRun(run({ config_key: 'k4', status: 'failed' as never })), /CHECK/);
    assert.throws(() => db.insertRun(run({ config_key: 'k5', label: null as never })), /NOT NULL/);
    // A curve must belong to a run.
    assert.throws(() => db.db.prepare('INSERT INTO curves (run_id, step, loss, wall_seconds) VALUES (999, 1, 1, 0)').run(), /FOREIGN KEY/);
    // A diverged run has no mean loss.
    db.insertRun(run({ config_key: 'k6', purpose: 'search', seed: 2000, status: 'diverged', mean_loss: null, final_loss: null }));
    assert.deepEqual(db.runs({ purpose: 'search' }).map((r) => [r.status, r.mean_loss]), [['diverged', null]]);
    assert.equal(db.runs({ task: 'fmnist-mlp', label: 'adam' }).length, 2);
    db.close();
  });
});

test('best_configs, timings, memory, variants: upserts on their keys; CHECK on the sweep', () => {
  withDir((dir) => {
    const db = openResultsDb(join(dir, 'lopt.db'));
    const best = { task: 't', optimizer: 'adam', steps: 100, hparams: '{}', mean_loss: 1, configs_tried: 3, configs_diverged: 1 };
    db.upsertBestConfig(best);
    db.upsertBestConfig({ ...best, mean_loss: 0.5 });
    db.upsertBestConfig({ ...best, steps: 200 });
    assert.equal(db.bestConfigs().length, 2);
    assert.equal(db.bestConfig('t', 'adam', 100)?.mean_loss, 0.5);
    assert.throws(() => db.db.prepare("INSERT INTO best_configs (task, optimizer, steps, hparams, mean_loss, configs_tried, configs_diverged) VALUES ('t','x',1,'{}',NULL,1,0)").run(), /NOT NULL/);

    const timing = { task: 't', task_opts: '{}', optimizer: 'adam', label: 'adam', batch_size: 128, width: 128, ms_per_step: 2,
      sgd_ms_per_step: 1, overhead: 2, repeats: 20, backend: 'native', machine: '{}', measured_at: 'now' };
    db.upsertTiming(timing);
    db.upsertTiming({ ...timing, ms_per_step: 3, overhead: 3 });
    db.upsertTiming({ ...timing, task_opts: '{"batchSize":8}', batch_size: 8 });
    assert.equal(db.timings().length, 2);
    assert.ok(db.hasTiming('t', '{}', 'adam') && !db.hasTiming('t', '{}', 'sgd'));
    assert.equal(db.timings('t').find((r) => r.task_opts === '{}')?.overhead, 3);

    const memory = { task: 't', optimizer: 'adam', label: 'adam', param_count: 10, state_bytes: 80, state_bytes_per_param: 8,
      peak_rss_bytes: 100, sgd_peak_rss_bytes: 90, peak_rss_ratio: 100 / 90, engine_bytes: 160, backend: 'native', machine: '{}', measured_at: 'now' };
    db.upsertMemory(memory);
    db.upsertMemory({ ...memory, peak_rss_bytes: 120 });
    assert.equal(db.memory().length, 1);
    assert.equal(db.memory('t')[0].peak_rss_bytes, 120);

    const variant = { sweep: 'features' as const, features: 'adafact', hidden: 4, task: 't', meta_budget_minutes: 5, outer_steps: 7,
      run_dir: 'd', weights: 'w', mean_loss: null, seeds: 5, ms_per_step: 1, overhead: 1.2, state_bytes_per_param: 12, finished_at: 'now' };
    db.upsertVariant(variant);
    db.upsertVariant({ ...variant, outer_steps: 9 });
    db.upsertVariant({ ...variant, sweep: 'width' });
    assert.equal(db.variants().length, 2);
    assert.equal(db.variants('features')[0].outer_steps, 9);
    assert.ok(db.hasVariant('features', 'adafact', 4, 't', 5) && !db.hasVariant('features', 'adafact', 4, 't', 6));
    assert.throws(() => db.upsertVariant({ ...variant, sweep: 'depth' as never }), /CHECK/);
    db.close();
  });
});

test('readonly opening: reads, refuses writes; a foreign file or version is one clear error', () => {
  withDir((dir) => {
    const path = join(dir, 'lopt.db');
    const db = openResultsDb(path);
    db.insertRun(run(), curve);
    db.close();
    const reader = openResultsDb(path, { readonly: true });
    assert.equal(reader.runs().length, 1);
    assert.throws(() => reader.insertRun(run({ config_key: 'k9' })), /readonly/);
    reader.close();
    assert.throws(() => openResultsDb(join(dir, 'missing.db'), { readonly: true }));
    const other = join(dir, 'other.db');
    const raw = new Database(other);
    raw.pragma('user_version = 7');
    raw.close();
    assert.throws(() => openResultsDb(other), /not a lopt results database of schema version 1 \(found 7\)/);
  });
});

test('config_key: a hash of what defines the run, independent of key order', () => {
  const base = { purpose: 'search' as const, task: 'fmnist-mlp', taskOpts: {}, optimizer: 'adam', hparams: { learningRate: 1e-3, beta1: 0.9 }, weights: null, seed: 2000, steps: 100 };
  const key = configKey(base);
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(configKey({ ...base, hparams: { beta1: 0.9, learningRate: 1e-3 } }), key);
  for (const change of [{ seed: 2001 }, { steps: 101 }, { purpose: 'eval' as const }, { weights: 'abc' }, { taskOpts: { width: 64 } }, { hparams: { learningRate: 1e-2, beta1: 0.9 } }]) {
    assert.notEqual(configKey({ ...base, ...change }), key, JSON.stringify(change));
  }
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: undefined } }), '{"a":{"d":[1,{"e":3,"f":2}]},"b":1}');
});
