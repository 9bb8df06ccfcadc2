// What workers and evaluators share: an id, heartbeats the learner counts, the run state they
// poll, and the wait for a learner whose settings match their own.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { BullRedisClient } from './bullmq-client.js';
import { MessageRejected, parseRunConfig, parseRunState, type RunState } from './messages.js';
import type { Namespace } from './namespace.js';
import { describeMismatch } from './settings.js';

/** A heartbeat older than this means the agent is gone. */
export const HEARTBEAT_WINDOW_MS = 10_000;
export const HEARTBEAT_EVERY_MS = 2_000;

/** Settings that disagree with the learner's: a usage error (exit 2), not a Redis failure. */
export class SettingsMismatch extends Error {
  override name = 'SettingsMismatch';
}

export function newAgentId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40) || 'host';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export async function heartbeat(client: BullRedisClient, key: string, id: string): Promise<void> {
  await client.raw.command(['ZADD', key, Date.now(), id]);
}

/** Agents whose last heartbeat is within the window (stale entries are pruned on the way). */
export async function countLive(client: BullRedisClient, key: string): Promise<number> {
  const since = Date.now() - HEARTBEAT_WINDOW_MS;
  await client.raw.command(['ZREMRANGEBYSCORE', key, '-inf', `(${since - 60_000}`]);
  return Number(await client.raw.command(['ZCOUNT', key, since, '+inf']));
}

/** The run state, or null when no learner has published one (a malformed one is rejected). */
export async function readState(client: BullRedisClient, ns: Namespace): Promise<RunState | null> {
  const text = await client.raw.command(['GET', ns.keys.state]);
  return text === null ? null : parseRunState(text);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the learner of the run has published settings equal to ours. Returns the run state,
 * or null when asked to stop first. A learner with other settings is a SettingsMismatch.
 */
export async function waitForLearner(
  client: BullRedisClient, ns: Namespace, mine: Record<string, unknown>, digest: string,
  log: (line: string) => void, shouldStop: () => boolean, where: string,
): Promise<RunState | null> {
  let told = false;
  let rejected = '';
  for (;;) {
    if (shouldStop()) return null;
    const text = await client.raw.command(['GET', ns.keys.config]);
    if (text !== null) {
      try {
        const config = parseRunConfig(text);
        if (config.digest !== digest) {
          const why = describeMismatch(mine, config.settings) ?? 'the settings digest differs';
          throw new SettingsMismatch(`settings differ from the learner of run "${ns.runId}": ${why}; start every role with the same meta-train flags`);
        }
        const state = await readState(client, ns);
        if (state) return state;
      } catch (error) {
        if (!(error instanceof MessageRejected)) throw error;
        if (error.message !== rejected) log(`rejected ${error.message}`);
        rejected = error.message;
      }
    }
    if (!told) log(`waiting for the learner of run "${ns.runId}" on ${where}`);
    told = true;
    await sleep(500);
  }
}
