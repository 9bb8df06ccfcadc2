// Role processes for the distributed tests: `lopt meta-train … --role R` as real child processes,
// with their output kept, a wait for exit with a deadline, and readers for their metrics.jsonl.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
