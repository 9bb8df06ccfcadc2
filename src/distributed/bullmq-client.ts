// BullMQ's Redis client interface (IRedisClient) over lopt's own connection (redis-client.ts), so
// BullMQ needs neither ioredis nor node-redis: Lua scripts by EVALSHA (loaded on every connection),
// pipelines and MULTI/EXEC, blocking BZPOPMIN on its own duplicated connection, and the status and
// events BullMQ's RedisConnection waits on.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import type { IRedisClient, IRedisTransaction } from 'bullmq';
import { RedisClient, type RedisClientOptions } from './redis-client.js';
import { RedisReplyError, type RespArg, type RespValue } from './resp.js';
import type { RedisTarget } from './redis-url.js';

interface Script { sha: string; lua: string; numberOfKeys: number }

/** Keys first, then arguments; undefined and null become '' (as ioredis does). */
function scriptArgs(script: Script, args: unknown[]): RespArg[] {
  const flat = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  const out: RespArg[] = [script.sha, script.numberOfKeys];
  for (const a of flat) out.push(Buffer.isBuffer(a) ? a : a === undefined || a === null ? '' : String(a));
  return out;
}

function pairsToObject(list: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(list)) return out;
  for (let i = 0; i + 1 < list.length; i += 2) out[String(list[i])] = String(list[i + 1]);
  return out;
}

function hsetArgs(key: string, data: Record<string, string | number>): RespArg[] {
  const args: RespArg[] = ['HSET', key];
  for (const [f, v] of Object.entries(data)) args.push(f, Buffer.isBuffer(v) ? v : String(v));
  return args;
}

/** The adapter BullMQ sees; `raw` is the underlying connection (for lopt's own commands). */
export class BullRedisClient extends EventEmitter implements IRedisClient {
  readonly isCluster = false;
  readonly raw: RedisClient;
  private readonly scripts: Map<string, Script>;
  private statusOverride: string | null = null;
  /** A structural marker some BullMQ code checks. */
  readonly __lopt = true;

  constructor(readonly target: RedisTarget, private readonly clientOptions: RedisClientOptions = {}, scripts?: Map<string, Script>) {
    super();
    this.setMaxListeners(64);
    this.scripts = scripts ? new Map(scripts) : new Map();
    this.raw = new RedisClient(target, {
      ...clientOptions,
      onHandshake: async (send) => {
        await clientOptions.onHandshake?.(send);
        // Scripts live in the server's cache, which a restart empties: load them on every connection.
        for (const s of this.scripts.values()) await send(['SCRIPT', 'LOAD', s.lua]);
      },
    });
    this.raw.on('ready', () => { this.statusOverride = null; this.emit('ready'); });
    this.raw.on('close', () => this.emit('close'));
    this.raw.on('end', () => this.emit('end'));
    this.raw.on('reconnecting', () => this.emit('reconnecting'));
    this.raw.on('error', (error: Error) => { if (this.listenerCount('error') > 0) this.emit('error', error); });
    this.raw.on('giveup', (error: Error) => this.emit('giveup', error));
  }

  get status(): string { return this.statusOverride ?? this.raw.status; }
  set status(value: string) { this.statusOverride = value === 'end' ? 'end' : null; }

  get options(): Record<string, any> {
    return { host: this.target.host, port: this.target.port, db: this.target.db };
  }
  set options(_value: Record<string, any>) { /* BullMQ may assign; the target is fixed */ }

  async connect(): Promise<void> {
    this.statusOverride = null;
    await this.raw.connect();
  }

  disconnect(reconnect = false): void {
    this.raw.disconnect();
    if (reconnect) {
      this.emit('reconnecting');
      this.raw.connect().catch(() => {});
    }
  }

  async quit(): Promise<string> {
    await this.raw.quit();
    return 'OK';
  }

  duplicate(...args: any[]): BullRedisClient {
    const opts = args[0] as { connectionName?: string } | undefined;
    const copy = new BullRedisClient(this.target, { ...this.clientOptions, onRetry: undefined, connectionName: opts?.connectionName }, this.scripts);
    for (const name of this.scripts.keys()) (copy as any)[name] = (...a: unknown[]) => copy.runCommand(name, a);
    // A duplicate that gives up takes the whole client down with it (same Redis, same fate).
    copy.on('giveup', (error: Error) => this.emit('giveup', error));
    return copy;
  }

  private cmd<T = any>(args: RespArg[]): Promise<T> {
    return this.raw.command<T>(args);
  }

  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void {
    const sha = createHash('sha1').update(definition.lua).digest('hex');
    this.scripts.set(name, { sha, lua: definition.lua, numberOfKeys: definition.numberOfKeys });
    // ioredis exposes scripts as methods; BullMQ's script loader checks for them.
    (this as any)[name] = (...a: unknown[]) => this.runCommand(name, a);
    // Sent before any EVALSHA that follows on this connection (replies come in order).
    if (this.raw.status === 'ready') this.cmd(['SCRIPT', 'LOAD', definition.lua]).catch(() => {});
  }

  async runCommand(name: string, args: any[]): Promise<any> {
    const script = this.scripts.get(name);
    if (!script) throw new Error(`BullMQ: unknown command "${name}"`);
    const argv = scriptArgs(script, args);
    try {
      return await this.cmd(['EVALSHA', ...argv]);
    } catch (error) {
      if (error instanceof RedisReplyError && error.code === 'NOSCRIPT') {
        return this.cmd(['EVAL', script.lua, ...argv.slice(1)]);
      }
      throw error;
    }
  }

  multi(): IRedisTransaction { return new Transaction(this.raw, this.scripts, true); }
  pipeline(): IRedisTransaction { return new Transaction(this.raw, this.scripts, false); }

  async hgetall(key: string) { return pairsToObject(await this.cmd(['HGETALL', key])); }
  hget(key: string, field: string) { return this.cmd<string | null>(['HGET', key, field]); }
  hmget(key: string, ...fields: string[]) { return this.cmd<(string | null)[]>(['HMGET', key, ...fields]); }
  hset(key: string, data: Record<string, string | number>) { return this.cmd<number>(hsetArgs(key, data)); }
  hdel(key: string, ...fields: string[]) { return this.cmd<number>(['HDEL', key, ...fields]); }
  hexists(key: string, field: string) { return this.cmd<number>(['HEXISTS', key, field]); }
  get(key: string) { return this.cmd<string | null>(['GET', key]); }
  set(key: string, value: string | number, options?: { PX?: number; EX?: number }) {
    const args: RespArg[] = ['SET', key, String(value)];
    if (options?.PX != null) args.push('PX', options.PX);
    else if (options?.EX != null) args.push('EX', options.EX);
    return this.cmd<string | null>(args);
  }
  async del(...keys: string[]) { return keys.length ? this.cmd<number>(['DEL', ...keys]) : 0; }
  zrange(key: string, start: number, end: number, options?: { WITHSCORES?: boolean }) {
    return this.cmd<string[]>(['ZRANGE', key, start, end, ...(options?.WITHSCORES ? ['WITHSCORES'] : [])]);
  }
  zrevrange(key: string, start: number, end: number, options?: { WITHSCORES?: boolean }) {
    return this.cmd<string[]>(['ZREVRANGE', key, start, end, ...(options?.WITHSCORES ? ['WITHSCORES'] : [])]);
  }
  zcard(key: string) { return this.cmd<number>(['ZCARD', key]); }
  zscore(key: string, member: string) { return this.cmd<string | null>(['ZSCORE', key, member]); }
  lrange(key: string, start: number, end: number) { return this.cmd<string[]>(['LRANGE', key, start, end]); }
  llen(key: string) { return this.cmd<number>(['LLEN', key]); }
  ltrim(key: string, start: number, end: number) { return this.cmd<string>(['LTRIM', key, start, end]); }
  lpos(key: string, value: string) { return this.cmd<number | null>(['LPOS', key, value]); }
  smembers(key: string) { return this.cmd<string[]>(['SMEMBERS', key]); }
  xadd(key: string, id: string, fields: Record<string, string | number>, options?: { MAXLEN?: number; approximate?: boolean }) {
    const args: RespArg[] = ['XADD', key];
    if (options?.MAXLEN != null) args.push('MAXLEN', ...(options.approximate === false ? [] : ['~']), options.MAXLEN);
    args.push(id);
    for (const [f, v] of Object.entries(fields)) args.push(f, String(v));
    return this.cmd<string>(args);
  }
  xread(streams: { key: string; id: string }[], options?: { BLOCK?: number; COUNT?: number }) {
    const args: RespArg[] = ['XREAD'];
    if (options?.COUNT != null) args.push('COUNT', options.COUNT);
    if (options?.BLOCK != null) args.push('BLOCK', options.BLOCK);
    args.push('STREAMS', ...streams.map((s) => s.key), ...streams.map((s) => s.id));
    return this.cmd(args);
  }
  xtrim(key: string, strategy: 'MAXLEN', threshold: number, options?: { approximate?: boolean }) {
    return this.cmd<number>(['XTRIM', key, strategy, ...(options?.approximate === false ? [] : ['~']), threshold]);
  }
  async bzpopmin(key: string, timeout: number): Promise<[string, string, string] | null> {
    const r = await this.cmd<RespValue[] | null>(['BZPOPMIN', key, timeout]);
    return r ? [String(r[0]), String(r[1]), String(r[2])] : null;
  }
  info() { return this.cmd<string>(['INFO']); }
  clientSetName(name: string) { return this.cmd(['CLIENT', 'SETNAME', name]); }
  clientList() { return this.cmd<string>(['CLIENT', 'LIST']); }
  clientInfo() { return this.cmd<string>(['CLIENT', 'INFO']); }
  async scan(cursor: string | number, options: { MATCH?: string; COUNT?: number }): Promise<[string, string[]]> {
    const args: RespArg[] = ['SCAN', String(cursor)];
    if (options.MATCH) args.push('MATCH', options.MATCH);
    if (options.COUNT) args.push('COUNT', options.COUNT);
    const r = await this.cmd<[string, string[]]>(args);
    return [String(r[0]), r[1]];
  }
  scanStream(options: { match: string; count?: number }): Readable {
    let cursor = '0';
    let done = false;
    const scan = (c: string) => this.scan(c, { MATCH: options.match, COUNT: options.count });
    return new Readable({
      objectMode: true,
      read() {
        if (done) { this.push(null); return; }
        scan(cursor).then(([next, keys]) => {
          cursor = next;
          if (next === '0') done = true;
          this.push(keys);
        }, (error: Error) => this.destroy(error));
      },
    });
  }
}

/** A pipeline (or MULTI/EXEC transaction): commands queued, sent together by exec(). */
class Transaction implements IRedisTransaction {
  private readonly commands: RespArg[][] = [];
  private readonly transforms: ((v: any) => any)[] = [];

  constructor(private readonly raw: RedisClient, private readonly scripts: Map<string, Script>, private readonly atomic: boolean) {}

  private add(args: RespArg[], transform: (v: any) => any = (v) => v): this {
    this.commands.push(args);
    this.transforms.push(transform);
    return this;
  }

  hgetall(key: string) { return this.add(['HGETALL', key], pairsToObject); }
  hset(key: string, data: Record<string, string | number>) { return this.add(hsetArgs(key, data)); }
  hscan(key: string, cursor: string | number, options?: { COUNT?: number }) {
    return this.add(['HSCAN', key, String(cursor), ...(options?.COUNT != null ? ['COUNT', options.COUNT] : [])]);
  }
  smembers(key: string) { return this.add(['SMEMBERS', key]); }
  sscan(key: string, cursor: string | number, options?: { COUNT?: number }) {
    return this.add(['SSCAN', key, String(cursor), ...(options?.COUNT != null ? ['COUNT', options.COUNT] : [])]);
  }
  zrange(key: string, start: number, end: number) { return this.add(['ZRANGE', key, start, end]); }
  lrange(key: string, start: number, end: number) { return this.add(['LRANGE', key, start, end]); }
  llen(key: string) { return this.add(['LLEN', key]); }
  del(...keys: string[]) { return keys.length ? this.add(['DEL', ...keys]) : this; }
  runCommand(name: string, args: any[]) {
    const script = this.scripts.get(name);
    if (!script) throw new Error(`BullMQ: unknown command "${name}" in transaction`);
    return this.add(['EVALSHA', ...scriptArgs(script, args)]);
  }

  async exec(): Promise<[Error | null, any][] | null> {
    if (this.commands.length === 0) return [];
    const wrap = (v: RespValue | Error, i: number): [Error | null, any] =>
      v instanceof Error ? [v, null] : [null, this.transforms[i](v)];
    if (!this.atomic) return (await this.raw.batch(this.commands)).map(wrap);
    const replies = await this.raw.batch([['MULTI'], ...this.commands, ['EXEC']]);
    const exec = replies[replies.length - 1];
    if (exec instanceof Error) throw exec;
    if (exec === null) return null;
    return (exec as (RespValue | Error)[]).map(wrap);
  }
}
