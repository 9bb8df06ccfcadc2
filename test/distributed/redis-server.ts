// A private redis-server for one test file: a free loopback port, no persistence, optional password
// and TLS; fails with a clear message when redis-server is not installed (tests never skip).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { openRedis } from '../../src/distributed/connect.js';
import { parseRedisUrl } from '../../src/distributed/redis-url.js';

export interface RedisServer {
  port: number;
  url: string;
  process: ChildProcess;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function requireRedisServer(): void {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error('redis-server is not installed: the distributed tests need it (apt-get install redis-server; .ci/run installs it)');
  }
}

export interface StartOptions {
  password?: string;
  /** PEM files: serve TLS only (rediss://) on the port. */
  tls?: { cert: string; key: string; ca: string };
  port?: number;
}

export async function startRedis(o: StartOptions = {}): Promise<RedisServer> {
  requireRedisServer();
  const port = o.port ?? await freePort();
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
  if (o.tls) {
    args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', o.tls.cert, '--tls-key-file', o.tls.key,
      '--tls-ca-cert-file', o.tls.ca, '--tls-auth-clients', 'no');
  } else {
    args.push('--port', String(port));
  }
  if (o.password) args.push('--requirepass', o.password);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += String(d); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const scheme = o.tls ? 'rediss' : 'redis';
  const url = `${scheme}://${o.password ? `:${encodeURIComponent(o.password)}@` : ''}127.0.0.1:${port}`;
  const ca = o.tls ? readFileSync(o.tls.ca) : undefined;
  const probe = await openRedis(parseRedisUrl(url, ca ? { ca } : {}), { retry: { maxAttempts: 40, baseDelayMs: 50, maxDelayMs: 100 } });
  try {
    await probe.ready;
    await probe.client.ping();
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${port}: ${(error as Error).message} ${stderr.trim()}`);
  } finally {
    await probe.close();
  }
  return {
    port, url, process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
