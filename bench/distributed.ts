// Benchmark of distributed meta-training throughput (issue 7): inner steps/s of 1 vs 2 worker
// processes (one slot thread each) feeding one learner over Redis, PES small_fc_lopt on fmnist-mlp at
// the paper's settings (8 tasks, truncation 20, σ 0.01, meta-batch 2). Every role is a real
// `lopt meta-train --redis … --role …` process. Throughput is the learner's: inner optimizer updates
// of the applied estimates per second of wall time (each PES copy counted), the first two updates
// (start-up: data loading, threads) left out; each worker's own rate is shown beside it.
//
// Not part of `npm run bench`: it needs Redis. Run `npx tsc -p tsconfig.json && node dist/bench/distributed.js`
// with LOPT_REDIS_URL=redis://HOST:PORT, or with redis-server installed (a private one is started on
// a free loopback port). LOPT_BENCH_OUTER_STEPS (default 16) sets the updates per measurement.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUTER_STEPS = Number(process.env.LOPT_BENCH_OUTER_STEPS ?? 16);
const WARMUP = 2;
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function redisUrl(): Promise<{ url: string; server: ChildProcess | null }> {
  if (process.env.LOPT_REDIS_URL) return { url: process.env.LOPT_REDIS_URL, server: null };
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.error('bench/distributed: set LOPT_REDIS_URL=redis://HOST:PORT or install redis-server (apt-get install redis-server)');
    process.exit(2);
  }
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, server };
}

function role(args: string[], out: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += String(d); });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

function metrics(dir: string): Record<string, any>[] {
  const file = join(dir, 'metrics.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)) : [];
}

async function measure(url: string, workers: number): Promise<{ workers: number; innerStepsPerSec: number; perWorker: number[]; maxStaleness: number }> {
  const root = mkdtempSync(join(tmpdir(), 'lopt-bench-dist-'));
  const runId = `bench-${workers}-${process.pid}`;
  const args = (r: string) => ['meta-train', '--lopt', 'small_fc_lopt', '--task', 'fmnist-mlp', '--estimator', 'pes',
    '--num-tasks', '8', '--trunc-length', '20', '--inner-steps', '2000', '--std', '0.01', '--meta-lr', '1e-4',
    '--outer-steps', String(OUTER_STEPS), '--meta-batch', '2', '--seed', '12', '--eval-every', '0', '--staleness', '2',
    '--workers', '1', '--redis', url, '--run-id', runId, '--role', r];
  try {
    const running = Array.from({ length: workers }, (_, k) => role(args('worker'), join(root, `w${k}`)));
    const learner = await role(args('learner'), join(root, 'learner'));
    const done = await Promise.all(running);
    for (const r of [learner, ...done]) if (r.code !== 0) throw new Error(`a role failed (${r.code}): ${r.stderr.trim()}`);
    const ups = metrics(join(root, 'learner')).filter((r) => Array.isArray(r.jobIds)).slice(WARMUP);
    const steps = ups.reduce((a, r) => a + r.innerSteps, 0);
    const seconds = ups.reduce((a, r) => a + r.seconds, 0);
    const perWorker = Array.from({ length: workers }, (_, k) => {
      const rows = metrics(join(root, `w${k}`)).filter((r) => r.kind === 'estimate').slice(1);
      return rows.reduce((a, r) => a + r.innerSteps, 0) / Math.max(1e-9, rows.reduce((a, r) => a + r.seconds, 0));
    });
    return { workers, innerStepsPerSec: steps / seconds, perWorker, maxStaleness: Math.max(...ups.map((r) => r.maxStaleness)) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const { url, server } = await redisUrl();
try {
  const rows = [];
  for (const workers of [1, 2]) rows.push(await measure(url, workers));
  console.log(`distributed meta-training throughput, PES small_fc_lopt on fmnist-mlp, 8 tasks × 2 copies × truncation 20, meta-batch 2, ${OUTER_STEPS} updates (first ${WARMUP} left out)`);
  for (const r of rows) {
    console.log(`  ${r.workers} worker process${r.workers === 1 ? '  ' : 'es'}: ${r.innerStepsPerSec.toFixed(0).padStart(6)} inner steps/s at the learner; per worker ${r.perWorker.map((x) => x.toFixed(0)).join(', ')}; max staleness ${r.maxStaleness}`);
  }
  const load = loadavg()[0];
  console.log(`  scaling ${(rows[1].innerStepsPerSec / rows[0].innerStepsPerSec).toFixed(2)}x; load average ${load.toFixed(2)} (other work on the machine lowers both rates)`);
  console.log(JSON.stringify({ bench: 'distributed', outerSteps: OUTER_STEPS, loadAverage: load, rows }));
} finally {
  server?.kill('SIGTERM');
}
