// One connection to Redis: commands answered in order over one socket (TCP or TLS), the handshake
// (AUTH, SELECT, CLIENT SETNAME), commands queued while (re)connecting, and reconnection with
// exponential backoff that gives up, with one clear error naming the URL, after a stated number of
// attempts. lopt talks to Redis only through this (BullMQ through the adapter in bullmq-client.ts).
import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { encodeCommand, RedisReplyError, RespDecoder, type RespArg, type RespValue } from './resp.js';
import type { RedisTarget } from './redis-url.js';

/** BullMQ recognises this exact message as "the connection went away" (not a job failure). */
export const CONNECTION_CLOSED = 'Connection is closed.';

export interface RetryPolicy {
  /** Consecutive failed connection attempts before giving up (≥ 1). */
  maxAttempts: number;
  /** Delay before retry k (1-based): min(maxDelayMs, baseDelayMs·2^(k−1)). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 10, baseDelayMs: 250, maxDelayMs: 5000 };

/** The total time a policy waits before giving up (for messages and docs). */
export function retryBudgetMs(p: RetryPolicy): number {
  let total = 0;
  for (let k = 1; k < p.maxAttempts; k++) total += retryDelayMs(p, k);
  return total;
}

/** "250 ms", "2.0 s": for messages about waits. */
export function formatDelay(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function retryDelayMs(p: RetryPolicy, attempt: number): number {
  return Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1));
}

/** Redis could not be reached within the retry policy, or refused our credentials. */
export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
}

export interface RedisClientOptions {
  retry?: RetryPolicy;
  /** CLIENT SETNAME after connecting (BullMQ names its connections). */
  connectionName?: string;
  /** Runs after the handshake and before 'ready' on every (re)connection (e.g. loading scripts). */
  onHandshake?: (send: (args: RespArg[]) => Promise<RespValue>) => Promise<void>;
  /** Called for each failed attempt that will be retried (for one log line per attempt). */
  onRetry?: (info: { attempt: number; maxAttempts: number; delayMs: number; reason: string }) => void;
  /** Largest reply accepted (bytes); larger ones drop the connection. */
  maxReplyBytes?: number;
  /** Connection attempt timeout in ms (default 10 s). */
  connectTimeoutMs?: number;
}

export type ClientStatus = 'wait' | 'connecting' | 'connect' | 'ready' | 'reconnecting' | 'end';

interface Pending { resolve: (v: RespValue) => void; reject: (e: Error) => void }

function closedError(): Error {
  return new Error(CONNECTION_CLOSED);
}

/**
 * Events: 'ready' (usable), 'close' (socket closed), 'reconnecting', 'end' (closed for good),
 * 'error' (only emitted when someone listens), 'giveup' (RedisUnreachableError: the retry budget ran out).
 */
export class RedisClient extends EventEmitter {
  status: ClientStatus = 'wait';
  private socket: Socket | null = null;
  private decoder: RespDecoder;
  private pending: Pending[] = [];
  /** Commands issued while not ready, sent once the handshake is done. */
  private offline: { args: RespArg[]; p: Pending }[] = [];
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;
  private ended = false;
  readonly retry: RetryPolicy;

  constructor(readonly target: RedisTarget, readonly options: RedisClientOptions = {}) {
    super();
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.decoder = new RespDecoder(options.maxReplyBytes);
  }

  /** Connects (retrying per the policy); resolves when ready, rejects with RedisUnreachableError. */
  connect(): Promise<void> {
    if (this.status === 'ready') return Promise.resolve();
    if (this.connecting) return this.connecting;
    if (this.status === 'end') {
      this.ended = false;
      this.attempt = 0;
    }
    this.connecting = new Promise<void>((resolve, reject) => {
      const onReady = () => { cleanup(); resolve(); };
      const onGiveUp = (error: Error) => { cleanup(); reject(error); };
      const cleanup = () => { this.off('ready', onReady); this.off('giveup', onGiveUp); this.connecting = null; };
      this.on('ready', onReady);
      this.on('giveup', onGiveUp);
    });
    this.connecting.catch(() => {});
    this.open();
    return this.connecting;
  }

  private emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  private open(): void {
    if (this.ended) return;
    this.status = this.attempt === 0 ? 'connecting' : 'reconnecting';
    this.decoder = new RespDecoder(this.options.maxReplyBytes);
    const t = this.target;
    const socket = t.tls
      ? tlsConnect({ host: t.host, port: t.port, ...t.tls })
      : netConnect({ host: t.host, port: t.port });
    this.socket = socket;
    // Events of a socket this client has let go of (disconnect, then a new connect) are ignored:
    // its replies would be matched to the new socket's commands.
    const current = () => this.socket === socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const connectTimeoutMs = this.options.connectTimeoutMs ?? 10_000;
    const timeout = setTimeout(() => socket.destroy(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    let lastError: Error | null = null;
    socket.on('data', (chunk: Buffer) => { if (current()) this.onData(chunk); });
    socket.on('error', (error) => { lastError = error; });
    socket.once(t.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timeout);
      if (!current()) return;
      this.status = 'connect';
      this.handshake().then(() => {
        if (!current()) return;
        this.attempt = 0;
        this.status = 'ready';
        const queued = this.offline;
        this.offline = [];
        for (const q of queued) this.write(q.args, q.p);
        this.emit('ready');
      }, (error: Error) => {
        if (!current()) return;
        if (error instanceof RedisReplyError && /^(WRONGPASS|NOAUTH|NOPERM)/.test(error.code)) {
          // Wrong credentials do not get better with retries.
          this.socket = null;
          socket.destroy();
          this.giveUp(new RedisUnreachableError(`Redis at ${t.display} refused the credentials (${error.message}): fix the password in --redis`));
          return;
        }
        lastError = error;
        socket.destroy();
      });
    });
    socket.once('close', () => {
      clearTimeout(timeout);
      if (!current()) return;
      const wasReady = this.status === 'ready';
      this.socket = null;
      const inFlight = this.pending;
      this.pending = [];
      for (const p of inFlight) p.reject(closedError());
      this.emit('close');
      if (this.ended) return;
      if (wasReady) this.attempt = 0;
      this.attempt += 1;
      const reason = lastError ? lastError.message : 'connection closed';
      if (lastError) this.emitError(lastError);
      if (this.attempt >= this.retry.maxAttempts) {
        this.giveUp(new RedisUnreachableError(
          `Redis at ${t.display} unreachable after ${this.attempt} attempt${this.attempt === 1 ? '' : 's'} (${reason}): ${
            t.tls && /certificate|self.signed|SSL|TLS/i.test(reason) ? 'give the CA of its certificate with --redis-ca, or fix --redis' : 'start redis-server or fix --redis'}`,
        ));
        return;
      }
      const delayMs = retryDelayMs(this.retry, this.attempt);
      this.options.onRetry?.({ attempt: this.attempt, maxAttempts: this.retry.maxAttempts, delayMs, reason });
      this.status = 'reconnecting';
      this.emit('reconnecting');
      this.retryTimer = setTimeout(() => { this.retryTimer = null; this.open(); }, delayMs);
    });
  }

  private async handshake(): Promise<void> {
    const t = this.target;
    if (t.password !== undefined) {
      await this.send(t.username !== undefined ? ['AUTH', t.username, t.password] : ['AUTH', t.password]);
    }
    if (t.db !== 0) await this.send(['SELECT', t.db]);
    if (this.options.connectionName) await this.send(['CLIENT', 'SETNAME', this.options.connectionName]);
    await this.options.onHandshake?.((args) => this.send(args));
  }

  private giveUp(error: RedisUnreachableError): void {
    this.ended = true;
    this.status = 'end';
    const queued = this.offline;
    this.offline = [];
    for (const q of queued) q.p.reject(error);
    this.emitError(error);
    this.emit('giveup', error);
    this.emit('end');
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      let value: RespValue | undefined;
      try {
        value = this.decoder.next();
      } catch (error) {
        this.emitError(error as Error);
        this.socket?.destroy(error as Error);
        return;
      }
      if (value === undefined) return;
      const p = this.pending.shift();
      if (!p) continue;
      if (value instanceof RedisReplyError) p.reject(value);
      else p.resolve(value);
    }
  }

  private write(args: RespArg[], p: Pending): void {
    if (!this.socket) { p.reject(closedError()); return; }
    this.pending.push(p);
    this.socket.write(encodeCommand(args));
  }

  /** Sends now (during the handshake, or when ready). */
  private send(args: RespArg[]): Promise<RespValue> {
    return new Promise((resolve, reject) => this.write(args, { resolve, reject }));
  }

  /** One command; queued while (re)connecting, rejected once the client has ended. */
  command<T = RespValue>(args: RespArg[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { resolve: resolve as (v: RespValue) => void, reject };
      if (this.status === 'ready') this.write(args, p);
      else if (this.ended || this.status === 'end') reject(closedError());
      else {
        this.offline.push({ args, p });
        if (this.status === 'wait') this.connect().catch(() => {});
      }
    });
  }

  /** Several commands sent together; each result in order, an error reply as an Error value. */
  async batch(commands: RespArg[][]): Promise<(RespValue | Error)[]> {
    return Promise.all(commands.map((c) => this.command(c).then((v) => v as RespValue | Error, (e: Error) => e)));
  }

  /** Closes now: in-flight and queued commands are rejected with "Connection is closed.". */
  disconnect(): void {
    this.ended = true;
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = null; }
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    const rejected = [...this.pending, ...this.offline.map((q) => q.p)];
    this.pending = [];
    this.offline = [];
    for (const p of rejected) p.reject(closedError());
    const previous = this.status;
    this.status = 'end';
    // Synchronously: a caller may connect() again at once, and must not see this close's events later.
    if (previous !== 'end') {
      this.emit('close');
      this.emit('end');
    }
  }

  /** Closes after the server has answered everything sent so far. */
  async quit(): Promise<void> {
    if (this.status === 'ready') {
      try { await this.command(['QUIT']); } catch { /* closing anyway */ }
    }
    this.disconnect();
  }
}
