// A role's Redis connections, on ioredis: the checked URL (password, database, TLS options), the
// retry policy as ioredis' retryStrategy (one log line per failed attempt, the password masked),
// commands waiting through an outage (maxRetriesPerRequest: null, which BullMQ's blocking
// connections require anyway), and one RedisUnreachableError naming the URL once the policy is
// spent or the credentials are refused — at start-up or later, on the role's own connection or on
// any connection BullMQ duplicated from it. Leaving drops every one of them, so no reconnect timer
// outlives the role.
import type { Redis, RedisOptions } from 'ioredis';
import { DEFAULT_RETRY, formatDelay, RedisUnreachableError, retryDelayMs, type RetryPolicy } from './retry.js';
import { parseRedisUrl, type RedisTarget } from './redis-url.js';
import type { RoleOptions } from './settings.js';
import { DISTRIBUTED, importOptional } from './optional.js';

export const defaultLog = (line: string): void => { process.stderr.write(`lopt: ${line}\n`); };

export interface RetryInfo { attempt: number; maxAttempts: number; delayMs: number; reason: string }

export interface OpenOptions {
  retry?: RetryPolicy;
  /** CLIENT SETNAME of the first connection (BullMQ names its duplicates itself). */
  connectionName?: string;
  /** Each failed attempt of the first connection that will be retried (duplicates retry quietly). */
  onRetry?: (info: RetryInfo) => void;
  /** Until the TCP (or TLS) connection is up, per attempt (default 10 s). */
  connectTimeoutMs?: number;
}

export interface RedisLink {
  /** lopt's own commands, and BullMQ's `connection` (it duplicates it for blocking reads). */
  client: Redis;
  target: RedisTarget;
  /** Resolves once the first connection is ready; rejects like `lost`. */
  ready: Promise<void>;
  /** Rejects with RedisUnreachableError when any connection of this link gives up. */
  lost: Promise<never>;
  /**
   * Leaves: runs `cleanup` (closing BullMQ objects; removing our keys when `alive`, i.e. Redis
   * answers) and then QUIT when alive, within `timeoutMs` in all; then drops every connection still
   * open, so nothing retries or keeps the process alive.
   */
  close(cleanup?: (alive: boolean) => Promise<unknown>, timeoutMs?: number): Promise<void>;
}

/** An error's text for one line (a dual-stack connect fails with an AggregateError and no message). */
function describeError(error: Error | null): string {
  if (!error) return 'connection closed';
  if (error.message) return error.message;
  const inner = (error as Error & { errors?: Error[] }).errors;
  if (Array.isArray(inner) && inner.length) return inner.map((e) => e.message).join('; ');
  return (error as NodeJS.ErrnoException).code ?? error.name;
}

/** Why a connection should stop retrying after `attempt` failed attempts, or null to retry. */
export function giveUpError(target: RedisTarget, policy: RetryPolicy, attempt: number, error: Error | null): RedisUnreachableError | null {
  const reason = describeError(error);
  // Credentials do not get better with retries.
  const code = /^[A-Z]+/.exec(error?.message ?? '')?.[0];
  if (code === 'NOAUTH') {
    return new RedisUnreachableError(`Redis at ${target.display} requires a password (${reason}): give it in --redis as redis://:PASSWORD@HOST:PORT`, false);
  }
  if (code === 'WRONGPASS' || code === 'NOPERM') {
    return new RedisUnreachableError(`Redis at ${target.display} refused the credentials (${reason}): fix the password in --redis`, false);
  }
  if (attempt < policy.maxAttempts) return null;
  const hint = target.tls && /certificate|self.signed|SSL|TLS/i.test(reason)
    ? 'give the CA of its certificate with --redis-ca, or fix --redis'
    : 'start redis-server or fix --redis';
  return new RedisUnreachableError(`Redis at ${target.display} unreachable after ${attempt} attempt${attempt === 1 ? '' : 's'} (${reason}): ${hint}`, true);
}

/** Opens a connection to `target` (and, through `duplicate`, BullMQ's further ones) under one retry policy. */
export async function openRedis(target: RedisTarget, o: OpenOptions = {}): Promise<RedisLink> {
  // ioredis is loaded when a role runs, not when lopt is imported (it takes a sizeable fraction of a second).
  const { Redis } = await importOptional<typeof import('ioredis')>('ioredis', DISTRIBUTED);
  const policy = o.retry ?? DEFAULT_RETRY;
  const connections: Redis[] = [];
  let gaveUp: RedisUnreachableError | null = null;
  let rejectLost: (error: Error) => void = () => {};
  const lost = new Promise<never>((_, reject) => { rejectLost = reject; });
  lost.catch(() => {});

  const make = (connectionName: string | undefined, onRetry?: (info: RetryInfo) => void): Redis => {
    // The error behind the next close (ioredis emits 'error', then 'close', then asks retryStrategy).
    let lastError: Error | null = null;
    const options: RedisOptions = {
      host: target.host, port: target.port, db: target.db,
      ...(target.username !== undefined ? { username: target.username } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
      ...(target.tls ? { tls: target.tls } : {}),
      connectionName,
      lazyConnect: true,
      maxRetriesPerRequest: null,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      retryStrategy: (attempt: number) => {
        const error = lastError;
        lastError = null;
        // The link gives up as a whole: a connection BullMQ opens or revives afterwards does not retry.
        if (gaveUp) return null;
        const fatal = giveUpError(target, policy, attempt, error);
        if (fatal) {
          if (!gaveUp) { gaveUp = fatal; rejectLost(fatal); }
          return null;
        }
        const delayMs = retryDelayMs(policy, attempt);
        onRetry?.({ attempt, maxAttempts: policy.maxAttempts, delayMs, reason: describeError(error) });
        return delayMs;
      },
    };
    const client = new Redis(options);
    // Always listened to: ioredis prints unhandled 'error' events on the console otherwise.
    client.on('error', (error: Error) => { lastError = error; });
    client.on('ready', () => { lastError = null; });
    // BullMQ's blocking connections: the same server and policy, quiet, counted in `lost` and `close`.
    client.duplicate = (override?: Partial<RedisOptions>) => make(override?.connectionName ?? undefined);
    connections.push(client);
    return client;
  };

  const client = make(o.connectionName, o.onRetry);
  const ready = new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    lost.catch(reject);
  });
  ready.catch(() => {});
  // connect() rejects at the first failed attempt while ioredis keeps retrying: `ready` decides.
  client.connect().catch(() => {});

  const close = async (cleanup: (alive: boolean) => Promise<unknown> = async () => {}, timeoutMs = 5000) => {
    const alive = client.status === 'ready';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
    try {
      await Promise.race([(async () => { await cleanup(alive); if (alive) await client.quit(); })().catch(() => {}), timeout]);
    } finally {
      clearTimeout(timer);
    }
    // A disconnected connection ends (its waiting commands rejected) once its socket has closed. One
    // waiting for its next attempt has no socket, and ioredis would leave it 'reconnecting' with its
    // commands pending forever: it makes that attempt now, to end it the same way.
    const open = connections.filter((c) => c.status !== 'end');
    const ended = Promise.all(open.map((c) => new Promise<void>((resolve) => c.once('end', () => resolve()))));
    for (const c of open) {
      if (c.status === 'reconnecting') c.connect().catch(() => {});
      c.disconnect();
    }
    const settle = new Promise<void>((resolve) => { timer = setTimeout(resolve, 1000); });
    await Promise.race([ended, settle]);
    clearTimeout(timer);
  };
  return { client, target, ready, lost, close };
}

/** The connection of a role: its URL checked, each failed attempt logged as one line. */
export async function connectRedis(o: RoleOptions, role: string): Promise<RedisLink> {
  const log = o.log ?? defaultLog;
  const target = parseRedisUrl(o.redis, o.redisTls ?? {});
  const link = await openRedis(target, {
    retry: o.retry,
    connectionName: `lopt:${o.runId}:${role}`,
    onRetry: ({ attempt, maxAttempts, delayMs, reason }) =>
      log(`Redis at ${target.display} unreachable (${reason}); attempt ${attempt}/${maxAttempts}, retrying in ${formatDelay(delayMs)}`),
  });
  try {
    await link.ready;
  } catch (error) {
    await link.close();
    throw error;
  }
  return link;
}

/** A lost or refused connection, which the connection's own retry lines already report. */
function isConnectionError(error: Error): boolean {
  return (error as NodeJS.ErrnoException).syscall !== undefined || error.message === 'Connection is closed.';
}

/**
 * Logs a BullMQ object's 'error' events as single lines, each distinct message once in a row,
 * instead of BullMQ's stack traces on stderr; connection errors are left to the retry lines.
 */
export function logErrors(emitter: { on(event: 'error', listener: (error: Error) => void): unknown }, label: string, log: (line: string) => void): void {
  let last = '';
  emitter.on('error', (error: Error) => {
    if (isConnectionError(error)) return;
    if (error.message !== last) log(`${label}: ${error.message}`);
    last = error.message;
  });
}

export { RedisUnreachableError };
