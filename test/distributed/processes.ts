// Role processes for the distributed tests: `lopt meta-train … --role R` as real child processes,
// with their output kept, a wait for exit with a deadline, and readers for their metrics.jsonl; and
// a whole test run (a private Redis, a temporary folder, the roles started on it with the same
// meta-training flags, everything stopped and removed at the end).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis, type RedisServer } from './redis-server.js';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface Role {
  name: string;
  child: ChildProcess;
  out: string;
  stdout(): string;
  stderr(): string;
  /** Exit code (or the signal's name), failing after `ms`. */
  exited(ms: number): Promise<number | string>;
}

export function startRole(name: string, args: string[], out: string): Role {
  const child = spawn(process.execPath, [CLI, ...args, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout += String(d); });
  child.stderr!.on('data', (d) => { stderr += String(d); });
  const exit = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    name, child, out, stdout: () => stdout, stderr: () => stderr,
    exited: (ms) => Promise.race([exit, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${name} still running after ${ms} ms; stderr:\n${stderr}`)), ms).unref())]),
  };
}

export function rows(out: string): Record<string, any>[] {
  const file = join(out, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).flatMap((l) => {
    try { return [JSON.parse(l) as Record<string, any>]; } catch { return []; } // a line being written
  });
}

export const updates = (out: string) => rows(out).filter((r) => Array.isArray(r.jobIds));
export const evals = (out: string) => rows(out).filter((r) => r.evalTask !== undefined);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `predicate` holds, failing after `ms`. */
export async function until(what: string, predicate: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** What differs between the test runs; the rest of the meta-training flags is common. */
export interface RunSpec {
  runId: string;
  seed: number;
  /** Quadratic dimension: an estimate costs ~0.1 s at 20000 (8 tasks × 20 steps × 2 copies). */
  dim: number;
  outerSteps: number;
  /** More flags for every role (e.g. `--eval-every 20`). */
  flags?: string[];
}

/** The flags every role of a test run gets: learnable_lr_sgd on the quadratic family, meta-batch 2. */
export function runArgs(spec: RunSpec, url: string, role: string, extra: string[] = []): string[] {
  return [
    'meta-train', '--lopt', 'learnable_lr_sgd', '--family', 'quadratic-family', '--task-opt', `dim=${spec.dim}`,
    '--num-tasks', '8', '--trunc-length', '20', '--inner-steps', '100', '--std', '0.01', '--meta-lr', '0.05',
    '--outer-steps', String(spec.outerSteps), '--meta-batch', '2', '--seed', String(spec.seed), '--staleness', '2',
    '--workers', '1', '--reissue-after', '1500', ...(spec.flags ?? []),
    '--redis', url, '--run-id', spec.runId, '--role', role, '--json', ...extra,
  ];
}

export interface TestRun {
  /** The current Redis (restartRedis replaces it on the same port). */
  server: RedisServer;
  root: string;
  /** Starts `lopt meta-train … --role role` with its --out in root/dir. */
  start(name: string, role: string, dir: string, extra?: string[]): Role;
  /** Stops Redis (its data is lost: no persistence), waits `downMs`, starts an empty one on the same port. */
  restartRedis(downMs: number): Promise<void>;
  /** Kills the roles still running, stops Redis, removes the folder. */
  close(): Promise<void>;
}

export async function startTestRun(spec: RunSpec): Promise<TestRun> {
  const roles: Role[] = [];
  const run: TestRun = {
    server: await startRedis(),
    root: mkdtempSync(join(tmpdir(), `lopt-dist-${spec.runId}-`)),
    start(name, role, dir, extra = []) {
      const r = startRole(name, runArgs(spec, run.server.url, role, extra), join(run.root, dir));
      roles.push(r);
      return r;
    },
    async restartRedis(downMs) {
      const port = run.server.port;
      await run.server.stop();
      await sleep(downMs);
      run.server = await startRedis({ port });
    },
    async close() {
      for (const r of roles) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      await run.server.stop();
      rmSync(run.root, { recursive: true, force: true });
    },
  };
  return run;
}
