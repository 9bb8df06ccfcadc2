// lopt's own reads of its records in Redis (θ records, the run state, the run config), bounded in
// size before anything decodes them: the server measures the value (TYPE and STRLEN in the same
// script as the GET) and sends a value over the limit as just its length, and the bytes that arrive
// are measured again before they are decoded as text, parsed and validated (messages.ts). ioredis
// itself bounds no reply, so this is where the size of what lopt reads is enforced.
import type { Redis } from 'ioredis';
import {
  MessageRejected, parseRunConfig, parseRunState, parseThetaRecord, RUN_CONFIG_LIMIT, RUN_STATE_LIMIT, thetaRecordLimit,
  type RunConfigRecord, type RunState, type ThetaRecord,
} from './messages.js';

// nil: no such key; -1: not a string; a number: the length of a value over the limit; else the value.
const BOUNDED_GET = `local t = redis.call('TYPE', KEYS[1])['ok']
if t == 'none' then return false end
if t ~= 'string' then return -1 end
local n = redis.call('STRLEN', KEYS[1])
if n > tonumber(ARGV[1]) then return n end
return redis.call('GET', KEYS[1])`;

const COMMAND = 'loptBoundedGet';
type BoundedClient = Redis & { [K in `${typeof COMMAND}Buffer`]: (key: string, maxBytes: number) => Promise<Buffer | number | null> };

/** The text at `key` if it is a string of at most `maxBytes` bytes; null when there is no such key. */
export async function readBounded(client: Redis, key: string, maxBytes: number, what: string): Promise<string | null> {
  const c = client as BoundedClient;
  // EVALSHA of a script defined once per connection (ioredis falls back to EVAL after a restart).
  if (typeof c[`${COMMAND}Buffer`] !== 'function') client.defineCommand(COMMAND, { numberOfKeys: 1, lua: BOUNDED_GET, readOnly: true });
  const reply = await c[`${COMMAND}Buffer`](key, maxBytes);
  if (reply === null) return null;
  if (typeof reply === 'number') {
    throw new MessageRejected(reply < 0 ? `${what}: not a string value` : `${what}: ${reply} bytes, over the ${maxBytes}-byte limit`);
  }
  if (!Buffer.isBuffer(reply)) throw new MessageRejected(`${what}: unexpected reply`);
  if (reply.length > maxBytes) throw new MessageRejected(`${what}: ${reply.length} bytes, over the ${maxBytes}-byte limit`);
  return reply.toString('utf8');
}

/** A θ record of exactly `count` values at `key` (the current θ or one to evaluate), or null. */
export async function readThetaRecord(client: Redis, key: string, count: number): Promise<ThetaRecord | null> {
  const text = await readBounded(client, key, thetaRecordLimit(count), 'θ record');
  return text === null ? null : parseThetaRecord(text, count);
}

/** The run state (`<ns>:state`), or null when no learner has published one. */
export async function readRunState(client: Redis, key: string): Promise<RunState | null> {
  const text = await readBounded(client, key, RUN_STATE_LIMIT, 'run state');
  return text === null ? null : parseRunState(text);
}

/** The run config (`<ns>:config`), or null when no learner has published one. */
export async function readRunConfig(client: Redis, key: string): Promise<RunConfigRecord | null> {
  const text = await readBounded(client, key, RUN_CONFIG_LIMIT, 'run config');
  return text === null ? null : parseRunConfig(text);
}
