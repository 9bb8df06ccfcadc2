// Where Redis is: `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS), parsed and
// checked once, with a form safe to print (the password masked) for every message that names it.
import type { ConnectionOptions } from 'node:tls';

export interface RedisTarget {
  /** The URL as given. */
  url: string;
  /** The URL with the password replaced by `***`: the only form that is ever printed. */
  display: string;
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  /** TLS options for `rediss://` (null: plain TCP). */
  tls: ConnectionOptions | null;
}

/** Parses a Redis URL; `tls` options (e.g. `ca`) are passed through to `tls.connect` for `rediss://`. */
export function parseRedisUrl(url: string, tls: ConnectionOptions = {}): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--redis "${maskPassword(url)}" is not a URL: use redis://HOST:PORT, redis://:PASSWORD@HOST:PORT or rediss://HOST:PORT`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`--redis must start with redis:// or rediss:// (TLS), got "${u.protocol}//"`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new Error('--redis has no host: use redis://HOST:PORT');
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 65535) throw new Error(`--redis database "${dbText}" must be a number (redis://HOST:PORT/DB)`);
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const secure = u.protocol === 'rediss:';
  const display = `${u.protocol}//${u.username ? `${u.username}:` : ''}${password !== undefined ? (u.username ? '***@' : ':***@') : ''}${u.host}${dbText ? `/${dbText}` : ''}`;
  return {
    url, display, host, port, db, username, password,
    tls: secure ? { servername: isIp(host) ? undefined : host, ...tls } : null,
  };
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** Masks the password part (`:secret@`) of anything URL-like (for messages about bad URLs). */
export function maskPassword(text: string): string {
  return text.replace(/:[^:@/\s]*@/g, ':***@');
}
