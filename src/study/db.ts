// The results database of the study: schema, transactional inserts, resume and read queries.
//
// One SQLite file (better-sqlite3), `--db FILE` (default `results/lopt.db`), WAL journal,
// `PRAGMA user_version = 1`. The study writes it; the report reads it (open with `{ readonly: true }`).
// Hyperparameters, task options and machine descriptions are JSON text (objects with sorted keys).
//
// runs         one finished inner training run (search or eval). `config_key` is the sha256 of the
//              canonical JSON of everything that defines the run (purpose, task, task_opts, optimizer,
//              hparams, weights checksum, seed, steps): a resumed study skips every key already here.
//              `label` is the display name of the optimizer configuration (`adam`, `adam@2x`,
//              `feature_mlp_lopt[features=m_0.9,hidden=4]`); `trained` is 1 for hand-designed
//              optimizers and learned ones with meta-trained weights, 0 for an untrained learned
//              optimizer (kept off the Pareto frontier); `weights` is the weights file's data sha256
//              (NULL for hand-designed optimizers; `untrained:<seed>` for an untrained θ);
//              `mean_loss` is the mean raw training loss over all steps, NULL when the run diverged
//              (a NaN/Inf loss: status 'diverged'; `final_loss` is then NULL too).
// curves       the per-step training loss of eval runs (loss NULL where it was NaN/Inf) with the wall
//              time since the run started; inserted with its run in one transaction.
// best_configs the search result per (task, optimizer, steps): the hparams with the lowest mean over
//              search seeds of mean raw training loss, among configurations that diverged on no seed;
//              `configs_tried` counts every configuration, `configs_diverged` those that diverged on
//              at least one seed.
// timings      median step time of one optimizer measured interleaved with SGD in the same process;
//              overhead = ms_per_step / sgd_ms_per_step. Rows with task_opts '{}' (the task's defaults)
//              are the Fig. 1 numbers and the point of both Fig. 4 sweeps at the default batch size and
//              width; rows with task_opts {"batchSize":B} or {"width":W} / {"channelMult":m} are the
//              Fig. 4 sweeps. `width` is the MLP hidden width or the ConvNet's first-layer channels
//              (32 × channelMult); NULL for tasks without a width sweep.
// memory       exact optimizer-state bytes (`optimizer.stateBytes(params)`) and the peak RSS of a short
//              training run in its own child process (measured after the data set is loaded: the
//              smallest over a few children of the peak while initialising and training), relative to
//              SGD's on the same task (SGD's own row has ratio 1); engine_bytes = bytes of the
//              Float32Arrays of params + optimizer state + gradients.
// variants     Fig. 2 (sweep 'features') and Fig. 3 (sweep 'width') points: a feature_mlp_lopt variant
//              meta-trained for a stated budget, then evaluated.
// table1       the paper's Table 1 on this machine: per model (a task at some task_opts), its parameter
//              count, the median step time of SGD and of a learned optimizer (`label`, small_fc_lopt)
//              measured interleaved, their ratio, the thread count, and the paper's numbers (TPUv2) where
//              the row is one of its models (NULL otherwise).
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { requireOptional } from '../util/optional.js';

/** better-sqlite3, loaded when a database is opened (an optional package: the core runs without it). */
function sqlite(): typeof Database {
  return requireOptional<typeof Database>('better-sqlite3', 'the lopt study results database');
}

export const SCHEMA_VERSION = 1;
export const DEFAULT_DB_PATH = 'results/lopt.db';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  purpose TEXT NOT NULL CHECK (purpose IN ('search','eval')),
  config_key TEXT NOT NULL UNIQUE,
  task TEXT NOT NULL,
  task_opts TEXT NOT NULL,
  optimizer TEXT NOT NULL,
  label TEXT NOT NULL,
  hparams TEXT NOT NULL,
  weights TEXT,
  trained INTEGER NOT NULL,
  step_multiplier REAL NOT NULL DEFAULT 1,
  seed INTEGER NOT NULL,
  steps INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('done','diverged')),
  mean_loss REAL,
  final_loss REAL,
  wall_seconds REAL NOT NULL,
  ms_per_step REAL NOT NULL,
  backend TEXT NOT NULL,
  machine TEXT NOT NULL,
  finished_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS curves (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  step INTEGER NOT NULL,
  loss REAL,
  wall_seconds REAL NOT NULL,
  PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS best_configs (
  task TEXT,
  optimizer TEXT,
  steps INTEGER,
  hparams TEXT NOT NULL,
  mean_loss REAL NOT NULL,
  configs_tried INTEGER NOT NULL,
  configs_diverged INTEGER NOT NULL,
  PRIMARY KEY (task, optimizer, steps)
);
CREATE TABLE IF NOT EXISTS timings (
  id INTEGER PRIMARY KEY,
  task TEXT NOT NULL,
  task_opts TEXT NOT NULL,
  optimizer TEXT NOT NULL,
  label TEXT NOT NULL,
  batch_size INTEGER NOT NULL,
  width INTEGER,
  ms_per_step REAL NOT NULL,
  sgd_ms_per_step REAL NOT NULL,
  overhead REAL NOT NULL,
  repeats INTEGER NOT NULL,
  backend TEXT NOT NULL,
  machine TEXT NOT NULL,
  measured_at TEXT NOT NULL,
  UNIQUE (task, task_opts, label)
);
CREATE TABLE IF NOT EXISTS memory (
  id INTEGER PRIMARY KEY,
  task TEXT NOT NULL,
  optimizer TEXT NOT NULL,
  label TEXT NOT NULL,
  param_count INTEGER NOT NULL,
  state_bytes INTEGER NOT NULL,
  state_bytes_per_param REAL NOT NULL,
  peak_rss_bytes INTEGER NOT NULL,
  sgd_peak_rss_bytes INTEGER NOT NULL,
  peak_rss_ratio REAL NOT NULL,
  engine_bytes INTEGER NOT NULL,
  backend TEXT NOT NULL,
  machine TEXT NOT NULL,
  measured_at TEXT NOT NULL,
  UNIQUE (task, label)
);
CREATE TABLE IF NOT EXISTS variants (
  id INTEGER PRIMARY KEY,
  sweep TEXT NOT NULL CHECK (sweep IN ('features','width')),
  features TEXT NOT NULL,
  hidden INTEGER NOT NULL,
  task TEXT NOT NULL,
  meta_budget_minutes REAL NOT NULL,
  outer_steps INTEGER NOT NULL,
  run_dir TEXT NOT NULL,
  weights TEXT NOT NULL,
  mean_loss REAL,
  seeds INTEGER NOT NULL,
  ms_per_step REAL NOT NULL,
  overhead REAL NOT NULL,
  state_bytes_per_param REAL NOT NULL,
  finished_at TEXT NOT NULL,
  UNIQUE (sweep, features, hidden, task, meta_budget_minutes)
);
CREATE TABLE IF NOT EXISTS table1 (
  id INTEGER PRIMARY KEY,
  model TEXT NOT NULL,
  task TEXT NOT NULL,
  task_opts TEXT NOT NULL,
  label TEXT NOT NULL,
  params INTEGER NOT NULL,
  sgd_ms_per_step REAL NOT NULL,
  lopt_ms_per_step REAL NOT NULL,
  ratio REAL NOT NULL,
  timings INTEGER NOT NULL,
  threads INTEGER NOT NULL,
  paper_params REAL,
  paper_ratio REAL,
  backend TEXT NOT NULL,
  machine TEXT NOT NULL,
  measured_at TEXT NOT NULL,
  UNIQUE (task, task_opts, label)
);
`;

export type RunPurpose = 'search' | 'eval';
export type RunStatus = 'done' | 'diverged';

/** A row of `runs`; JSON columns are text (parse with `parseJson`). */
export interface RunRow {
  id: number;
  purpose: RunPurpose;
  config_key: string;
  task: string;
  task_opts: string;
  optimizer: string;
  label: string;
  hparams: string;
  weights: string | null;
  trained: 0 | 1;
  step_multiplier: number;
  seed: number;
  steps: number;
  status: RunStatus;
  mean_loss: number | null;
  final_loss: number | null;
  wall_seconds: number;
  ms_per_step: number;
  backend: string;
  machine: string;
  finished_at: string;
}
export type NewRun = Omit<RunRow, 'id'>;

export interface CurveRow {
  run_id: number;
  step: number;
  loss: number | null;
  wall_seconds: number;
}
export type CurvePoint = Omit<CurveRow, 'run_id'>;

export interface BestConfigRow {
  task: string;
  optimizer: string;
  steps: number;
  hparams: string;
  mean_loss: number;
  configs_tried: number;
  configs_diverged: number;
}

export interface TimingRow {
  id: number;
  task: string;
  task_opts: string;
  optimizer: string;
  label: string;
  batch_size: number;
  width: number | null;
  ms_per_step: number;
  sgd_ms_per_step: number;
  overhead: number;
  repeats: number;
  backend: string;
  machine: string;
  measured_at: string;
}
export type NewTiming = Omit<TimingRow, 'id'>;

export interface MemoryRow {
  id: number;
  task: string;
  optimizer: string;
  label: string;
  param_count: number;
  state_bytes: number;
  state_bytes_per_param: number;
  peak_rss_bytes: number;
  sgd_peak_rss_bytes: number;
  peak_rss_ratio: number;
  engine_bytes: number;
  backend: string;
  machine: string;
  measured_at: string;
}
export type NewMemory = Omit<MemoryRow, 'id'>;

export type VariantSweep = 'features' | 'width';
export interface VariantRow {
  id: number;
  sweep: VariantSweep;
  features: string;
  hidden: number;
  task: string;
  meta_budget_minutes: number;
  outer_steps: number;
  run_dir: string;
  weights: string;
  mean_loss: number | null;
  seeds: number;
  ms_per_step: number;
  overhead: number;
  state_bytes_per_param: number;
  finished_at: string;
}
export type NewVariant = Omit<VariantRow, 'id'>;

export interface Table1Row {
  id: number;
  model: string;
  task: string;
  task_opts: string;
  label: string;
  params: number;
  sgd_ms_per_step: number;
  lopt_ms_per_step: number;
  ratio: number;
  timings: number;
  threads: number;
  paper_params: number | null;
  paper_ratio: number | null;
  backend: string;
  machine: string;
  measured_at: string;
}
export type NewTable1 = Omit<Table1Row, 'id'>;

/** Filters for `runs()`; every given field must match. */
export interface RunFilter {
  purpose?: RunPurpose;
  task?: string;
  optimizer?: string;
  label?: string;
  steps?: number;
}

/** JSON with object keys sorted at every level, so equal values give equal text (and equal keys). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const inner = (value as Record<string, unknown>)[key];
      if (inner !== undefined) out[key] = sortKeys(inner);
    }
    return out;
  }
  return value;
}

export function parseJson<T = Record<string, unknown>>(text: string): T {
  return JSON.parse(text) as T;
}

/** What defines a run; its hash is `config_key`. */
export interface RunIdentity {
  purpose: RunPurpose;
  task: string;
  taskOpts: Record<string, unknown>;
  optimizer: string;
  hparams: Record<string, unknown>;
  /** Checksum of the weights (data sha256), `untrained:<seed>`, or null for hand-designed optimizers. */
  weights: string | null;
  seed: number;
  steps: number;
}

export function configKey(identity: RunIdentity): string {
  const text = canonicalJson({
    purpose: identity.purpose,
    task: identity.task,
    task_opts: identity.taskOpts,
    optimizer: identity.optimizer,
    hparams: identity.hparams,
    weights: identity.weights,
    seed: identity.seed,
    steps: identity.steps,
  });
  return createHash('sha256').update(text).digest('hex');
}

export interface OpenOptions {
  /** Open an existing database for reading only (the report). */
  readonly?: boolean;
}

/** The results database: typed inserts (each one transaction) and queries. */
export class ResultsDb {
  readonly db: Database.Database;
  readonly path: string;
  readonly readonly: boolean;

  constructor(path: string, options: OpenOptions = {}) {
    this.path = path;
    this.readonly = options.readonly ?? false;
    if (this.readonly) {
      const Sqlite = sqlite();
      this.db = new Sqlite(path, { readonly: true, fileMustExist: true });
      checkVersion(this.db, path);
      return;
    }
    const Sqlite = sqlite();
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Sqlite(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    // Several study processes may share a file (a killed study's rerun, a report reading it).
    this.db.pragma('busy_timeout = 10000');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version === 0) {
      this.db.transaction(() => {
        this.db.exec(SCHEMA);
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    } else {
      checkVersion(this.db, path);
    }
  }

  close(): void {
    this.db.close();
  }

  // ---- runs and curves ----

  /** Insert a finished run and its curve in one transaction; returns the run id. */
  insertRun(run: NewRun, curve: CurvePoint[] = []): number {
    const insertRun = this.db.prepare(
      `INSERT INTO runs (purpose, config_key, task, task_opts, optimizer, label, hparams, weights, trained,
         step_multiplier, seed, steps, status, mean_loss, final_loss, wall_seconds, ms_per_step, backend, machine,
         finished_at)
       VALUES (@purpose, @config_key, @task, @task_opts, @optimizer, @label, @hparams, @weights, @trained,
         @step_multiplier, @seed, @steps, @status, @mean_loss, @final_loss, @wall_seconds, @ms_per_step, @backend,
         @machine, @finished_at)`,
    );
    const insertPoint = this.db.prepare(
      'INSERT INTO curves (run_id, step, loss, wall_seconds) VALUES (?, ?, ?, ?)',
    );
    return this.db.transaction(() => {
      const id = Number(insertRun.run(run).lastInsertRowid);
      for (const point of curve) insertPoint.run(id, point.step, finiteOrNull(point.loss), point.wall_seconds);
      return id;
    })();
  }

  hasRun(configKey: string): boolean {
    return this.db.prepare('SELECT 1 FROM runs WHERE config_key = ?').get(configKey) !== undefined;
  }

  /** Every config_key already finished: what a resumed study skips. */
  finishedKeys(): Set<string> {
    const rows = this.db.prepare('SELECT config_key FROM runs').pluck().all() as string[];
    return new Set(rows);
  }

  runByKey(configKey: string): RunRow | undefined {
    return this.db.prepare('SELECT * FROM runs WHERE config_key = ?').get(configKey) as RunRow | undefined;
  }

  runs(filter: RunFilter = {}): RunRow[] {
    const clauses: string[] = [];
    const values: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(filter)) {
      if (value === undefined) continue;
      clauses.push(`${name} = @${name}`);
      values[name] = value;
    }
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    return this.db.prepare(`SELECT * FROM runs ${where} ORDER BY id`).all(values) as RunRow[];
  }

  /** Deletes runs and their curves in one transaction. */
  deleteRuns(ids: readonly number[]): void {
    const curves = this.db.prepare('DELETE FROM curves WHERE run_id = ?');
    const runs = this.db.prepare('DELETE FROM runs WHERE id = ?');
    this.db.transaction(() => {
      for (const id of ids) {
        curves.run(id);
        runs.run(id);
      }
    })();
  }

  curve(runId: number): CurveRow[] {
    return this.db.prepare('SELECT * FROM curves WHERE run_id = ? ORDER BY step').all(runId) as CurveRow[];
  }

  countRuns(purpose?: RunPurpose): number {
    const sql = purpose ? 'SELECT COUNT(*) FROM runs WHERE purpose = ?' : 'SELECT COUNT(*) FROM runs';
    const statement = this.db.prepare(sql).pluck();
    return (purpose ? statement.get(purpose) : statement.get()) as number;
  }

  // ---- best configurations ----

  upsertBestConfig(row: BestConfigRow): void {
    this.db
      .prepare(
        `INSERT INTO best_configs (task, optimizer, steps, hparams, mean_loss, configs_tried, configs_diverged)
         VALUES (@task, @optimizer, @steps, @hparams, @mean_loss, @configs_tried, @configs_diverged)
         ON CONFLICT (task, optimizer, steps) DO UPDATE SET hparams = excluded.hparams,
           mean_loss = excluded.mean_loss, configs_tried = excluded.configs_tried,
           configs_diverged = excluded.configs_diverged`,
      )
      .run(row);
  }

  bestConfig(task: string, optimizer: string, steps: number): BestConfigRow | undefined {
    return this.db
      .prepare('SELECT * FROM best_configs WHERE task = ? AND optimizer = ? AND steps = ?')
      .get(task, optimizer, steps) as BestConfigRow | undefined;
  }

  bestConfigs(): BestConfigRow[] {
    return this.db.prepare('SELECT * FROM best_configs ORDER BY task, optimizer, steps').all() as BestConfigRow[];
  }

  // ---- timings, memory, variants ----

  upsertTiming(row: NewTiming): void {
    this.db
      .prepare(
        `INSERT INTO timings (task, task_opts, optimizer, label, batch_size, width, ms_per_step, sgd_ms_per_step,
           overhead, repeats, backend, machine, measured_at)
         VALUES (@task, @task_opts, @optimizer, @label, @batch_size, @width, @ms_per_step, @sgd_ms_per_step,
           @overhead, @repeats, @backend, @machine, @measured_at)
         ON CONFLICT (task, task_opts, label) DO UPDATE SET optimizer = excluded.optimizer,
           batch_size = excluded.batch_size, width = excluded.width, ms_per_step = excluded.ms_per_step,
           sgd_ms_per_step = excluded.sgd_ms_per_step, overhead = excluded.overhead, repeats = excluded.repeats,
           backend = excluded.backend, machine = excluded.machine, measured_at = excluded.measured_at`,
      )
      .run(row);
  }

  hasTiming(task: string, taskOpts: string, label: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM timings WHERE task = ? AND task_opts = ? AND label = ?').get(task, taskOpts, label) !==
      undefined
    );
  }

  timings(task?: string): TimingRow[] {
    const sql = `SELECT * FROM timings ${task ? 'WHERE task = ?' : ''} ORDER BY task, batch_size, width, label`;
    return (task ? this.db.prepare(sql).all(task) : this.db.prepare(sql).all()) as TimingRow[];
  }

  upsertMemory(row: NewMemory): void {
    this.db
      .prepare(
        `INSERT INTO memory (task, optimizer, label, param_count, state_bytes, state_bytes_per_param, peak_rss_bytes,
           sgd_peak_rss_bytes, peak_rss_ratio, engine_bytes, backend, machine, measured_at)
         VALUES (@task, @optimizer, @label, @param_count, @state_bytes, @state_bytes_per_param, @peak_rss_bytes,
           @sgd_peak_rss_bytes, @peak_rss_ratio, @engine_bytes, @backend, @machine, @measured_at)
         ON CONFLICT (task, label) DO UPDATE SET optimizer = excluded.optimizer, param_count = excluded.param_count,
           state_bytes = excluded.state_bytes, state_bytes_per_param = excluded.state_bytes_per_param,
           peak_rss_bytes = excluded.peak_rss_bytes, sgd_peak_rss_bytes = excluded.sgd_peak_rss_bytes,
           peak_rss_ratio = excluded.peak_rss_ratio, engine_bytes = excluded.engine_bytes, backend = excluded.backend,
           machine = excluded.machine, measured_at = excluded.measured_at`,
      )
      .run(row);
  }

  hasMemory(task: string, label: string): boolean {
    return this.db.prepare('SELECT 1 FROM memory WHERE task = ? AND label = ?').get(task, label) !== undefined;
  }

  memory(task?: string): MemoryRow[] {
    const sql = `SELECT * FROM memory ${task ? 'WHERE task = ?' : ''} ORDER BY task, label`;
    return (task ? this.db.prepare(sql).all(task) : this.db.prepare(sql).all()) as MemoryRow[];
  }

  upsertVariant(row: NewVariant): void {
    this.db
      .prepare(
        `INSERT INTO variants (sweep, features, hidden, task, meta_budget_minutes, outer_steps, run_dir, weights,
           mean_loss, seeds, ms_per_step, overhead, state_bytes_per_param, finished_at)
         VALUES (@sweep, @features, @hidden, @task, @meta_budget_minutes, @outer_steps, @run_dir, @weights,
           @mean_loss, @seeds, @ms_per_step, @overhead, @state_bytes_per_param, @finished_at)
         ON CONFLICT (sweep, features, hidden, task, meta_budget_minutes) DO UPDATE SET
           outer_steps = excluded.outer_steps, run_dir = excluded.run_dir, weights = excluded.weights,
           mean_loss = excluded.mean_loss, seeds = excluded.seeds, ms_per_step = excluded.ms_per_step,
           overhead = excluded.overhead, state_bytes_per_param = excluded.state_bytes_per_param,
           finished_at = excluded.finished_at`,
      )
      .run(row);
  }

  hasVariant(sweep: VariantSweep, features: string, hidden: number, task: string, metaBudgetMinutes: number): boolean {
    return (
      this.db
        .prepare(
          'SELECT 1 FROM variants WHERE sweep = ? AND features = ? AND hidden = ? AND task = ? AND meta_budget_minutes = ?',
        )
        .get(sweep, features, hidden, task, metaBudgetMinutes) !== undefined
    );
  }

  variants(sweep?: VariantSweep): VariantRow[] {
    const sql = `SELECT * FROM variants ${sweep ? 'WHERE sweep = ?' : ''} ORDER BY sweep, task, features, hidden`;
    return (sweep ? this.db.prepare(sql).all(sweep) : this.db.prepare(sql).all()) as VariantRow[];
  }

  // ---- Table 1 ----

  upsertTable1(row: NewTable1): void {
    this.db
      .prepare(
        `INSERT INTO table1 (model, task, task_opts, label, params, sgd_ms_per_step, lopt_ms_per_step, ratio, timings,
           threads, paper_params, paper_ratio, backend, machine, measured_at)
         VALUES (@model, @task, @task_opts, @label, @params, @sgd_ms_per_step, @lopt_ms_per_step, @ratio, @timings,
           @threads, @paper_params, @paper_ratio, @backend, @machine, @measured_at)
         ON CONFLICT (task, task_opts, label) DO UPDATE SET model = excluded.model, params = excluded.params,
           sgd_ms_per_step = excluded.sgd_ms_per_step, lopt_ms_per_step = excluded.lopt_ms_per_step,
           ratio = excluded.ratio, timings = excluded.timings, threads = excluded.threads,
           paper_params = excluded.paper_params, paper_ratio = excluded.paper_ratio, backend = excluded.backend,
           machine = excluded.machine, measured_at = excluded.measured_at`,
      )
      .run(row);
  }

  hasTable1(task: string, taskOpts: string, label: string): boolean {
    return this.db.prepare('SELECT 1 FROM table1 WHERE task = ? AND task_opts = ? AND label = ?').get(task, taskOpts, label) !== undefined;
  }

  /** Table 1's rows in the order measured; none from a database written before the table existed. */
  table1(): Table1Row[] {
    const exists = this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'table1'`).get() !== undefined;
    return exists ? (this.db.prepare('SELECT * FROM table1 ORDER BY id').all() as Table1Row[]) : [];
  }
}

/** Open (and, unless readonly, create or migrate-check) the results database at `path`. */
export function openResultsDb(path: string = DEFAULT_DB_PATH, options: OpenOptions = {}): ResultsDb {
  return new ResultsDb(path, options);
}

function checkVersion(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== SCHEMA_VERSION) {
    db.close();
    throw new Error(
      `${path} is not a lopt results database of schema version ${SCHEMA_VERSION} (found ${version}); pass another --db FILE`,
    );
  }
}

function finiteOrNull(value: number | null): number | null {
  return value === null || !Number.isFinite(value) ? null : value;
}
