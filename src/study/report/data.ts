// Everything the report reads from the results database, read once through a read-only connection.
import { existsSync } from 'node:fs';
import {
  ResultsDb, type BestConfigRow, type CurveRow, type MemoryRow, type RunRow, type Table1Row, type TimingRow, type VariantRow,
} from '../db.js';

export interface ReportData {
  dbPath: string;
  evalRuns: RunRow[];
  /** Number of search runs, and how many of them diverged (shown, never dropped silently). */
  searchRuns: number;
  searchDiverged: number;
  /** Per eval run id, its curve in step order. */
  curves: Map<number, CurveRow[]>;
  bestConfigs: BestConfigRow[];
  timings: TimingRow[];
  memory: MemoryRow[];
  variants: VariantRow[];
  table1: Table1Row[];
  /** Distinct backend and machine descriptions of the runs and measurements (JSON text). */
  machines: string[];
}

/** Opens `dbPath` read-only and loads every table. Errors are one line naming the fix. */
export function loadReportData(dbPath: string): ReportData {
  if (!existsSync(dbPath)) {
    throw new Error(`no results database at ${dbPath}: run \`lopt study --db ${dbPath}\` (or \`lopt study --preset smoke --db ${dbPath}\`) first, or pass --db FILE`);
  }
  let results: ResultsDb;
  try {
    results = new ResultsDb(dbPath, { readonly: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // A file that is not SQLite at all fails inside better-sqlite3 with a terse message.
    if (/not a database|file is encrypted/i.test(message)) throw new Error(`${dbPath} is not a SQLite database; pass the --db FILE that \`lopt study\` wrote`);
    throw error;
  }
  try {
    const db = results.db;
    const evalRuns = results.runs({ purpose: 'eval' });
    const search = db.prepare(`SELECT COUNT(*) AS n, COALESCE(SUM(status = 'diverged'), 0) AS diverged FROM runs WHERE purpose = 'search'`)
      .get() as { n: number; diverged: number };
    const curves = new Map<number, CurveRow[]>();
    const points = db.prepare(`SELECT c.* FROM curves c JOIN runs r ON r.id = c.run_id WHERE r.purpose = 'eval' ORDER BY c.run_id, c.step`)
      .all() as CurveRow[];
    for (const p of points) {
      const list = curves.get(p.run_id);
      if (list) list.push(p);
      else curves.set(p.run_id, [p]);
    }
    const machines = db.prepare(`SELECT DISTINCT backend || ' · ' || machine AS m FROM (
        SELECT backend, machine FROM runs UNION SELECT backend, machine FROM timings UNION SELECT backend, machine FROM memory)
      ORDER BY m`).pluck().all() as string[];
    return {
      dbPath, evalRuns, searchRuns: search.n, searchDiverged: search.diverged, curves,
      bestConfigs: results.bestConfigs(), timings: results.timings(), memory: results.memory(), variants: results.variants(),
      table1: results.table1(),
      machines,
    };
  } finally {
    results.close();
  }
}
