// Opening a role's Redis connection: the URL checked, one stderr line per failed attempt (password
// masked), and a RedisUnreachableError naming the URL once the retry policy is spent — at start-up
// or later, when a running role loses Redis for good.
import { BullRedisClient } from './bullmq-client.js';
import { DEFAULT_RETRY, formatDelay, RedisUnreachableError } from './redis-client.js';
import { parseRedisUrl } from './redis-url.js';
import type { RoleOptions } from './settings.js';

export const defaultLog = (line: string): void => { process.stderr.write(`lopt: ${line}\n`); };

export interface RoleConnection {
  client: BullRedisClient;
  /** Rejects with RedisUnreachableError when any connection of this role gives up. */
  lost: Promise<never>;
}

/**
 * `maxReplyBytes` bounds any one reply (a job with its data included): room for the largest
 * legitimate message of this run, so an oversized one drops the connection instead of filling memory.
 */
export async function connectRedis(o: RoleOptions, role: string, maxReplyBytes = 64 * 1024 * 1024): Promise<RoleConnection> {
  const log = o.log ?? defaultLog;
  const target = parseRedisUrl(o.redis, o.redisTls ?? {});
  const retry = o.retry ?? DEFAULT_RETRY;
  const client = new BullRedisClient(target, {
    retry,
    connectionName: `lopt:${o.runId}:${role}`,
    maxReplyBytes,
    onRetry: ({ attempt, maxAttempts, delayMs, reason }) =>
      log(`Redis at ${target.display} unreachable (${reason}); attempt ${attempt}/${maxAttempts}, retrying in ${formatDelay(delayMs)}`),
  });
  const lost = new Promise<never>((_, reject) => client.once('giveup', (error: Error) => reject(error)));
  lost.catch(() => {});
  await client.connect();
  return { client, lost };
}

/**
 * Logs a BullMQ object's 'error' events as single lines, each distinct message once in a row (a
 * Redis outage repeats the same one), instead of BullMQ's stack traces on stderr.
 */
export function logErrors(emitter: { on(event: 'error', listener: (error: Error) => void): unknown }, label: string, log: (line: string) => void): void {
  let last = '';
  emitter.on('error', (error: Error) => {
    if (error.message !== last) log(`${label}: ${error.message}`);
    last = error.message;
  });
}

export { RedisUnreachableError };
