// What workers and evaluators share: an id, their connection, heartbeats the learner counts, the
// wait for a learner whose settings match their own, the run state they poll, the BullMQ queues and
// job worker they use, and leaving (everything closed, whatever state Redis is in).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Processor, Queue, Worker } from 'bullmq';
import { buildLopt } from '../meta/problem.js';
import { connectRedis, defaultLog, logErrors, type RedisLink } from './connect.js';
import { MessageRejected, type RunState } from './messages.js';
import { MetricsLog } from './metrics-log.js';
import { namespace, type Namespace } from './namespace.js';
import { jobWorkerOptions, queueOptions } from './queues.js';
import { readRunConfig, readRunState } from './redis-read.js';
import { DEFAULT_REISSUE_AFTER_MS, describeMismatch, runSettings, settingsDigest, thetaCount, type RoleOptions } from './settings.js';
import { DISTRIBUTED, importOptional } from './optional.js';

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

export async function heartbeat(client: Redis, key: string, id: string): Promise<void> {
  await client.zadd(key, Date.now(), id);
}

/** Agents whose last heartbeat is within the window (stale entries are pruned on the way). */
export async function countLive(client: Redis, key: string): Promise<number> {
  const since = Date.now() - HEARTBEAT_WINDOW_MS;
  await client.zremrangebyscore(key, '-inf', `(${since - 60_000}`);
  return client.zcount(key, since, '+inf');
}

/** The run state, or null when no learner has published one (a malformed one is rejected). */
export function readState(client: Redis, ns: Namespace): Promise<RunState | null> {
  return readRunState(client, ns.keys.state);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the learner of the run has published settings equal to ours. Returns the run state,
 * or null when asked to stop first. A learner with other settings is a SettingsMismatch.
 */
export async function waitForLearner(
  client: Redis, ns: Namespace, mine: Record<string, unknown>, digest: string,
  log: (line: string) => void, shouldStop: () => boolean, where: string,
): Promise<RunState | null> {
  let told = false;
  let rejected = '';
  for (;;) {
    if (shouldStop()) return null;
    try {
      const config = await readRunConfig(client, ns.keys.config);
      if (config) {
        if (config.digest !== digest) {
          const why = describeMismatch(mine, config.settings) ?? 'the settings digest differs';
          throw new SettingsMismatch(`settings differ from the learner of run "${ns.runId}": ${why}; start every role with the same meta-train flags`);
        }
        const state = await readState(client, ns);
        if (state) return state;
      }
    } catch (error) {
      if (!(error instanceof MessageRejected)) throw error;
      if (error.message !== rejected) log(`rejected ${error.message}`);
      rejected = error.message;
    }
    if (!told) log(`waiting for the learner of run "${ns.runId}" on ${where}`);
    told = true;
    await sleep(500);
  }
}

/** A worker or an evaluator of one run, connected, its settings digested, not yet joined. */
export interface Agent {
  id: string;
  ns: Namespace;
  link: RedisLink;
  client: Redis;
  log: (line: string) => void;
  shouldStop: () => boolean;
  digest: string;
  /** The number of values of θ (every θ and gradient message must hold exactly this many). */
  count: number;
  metrics: MetricsLog;
  /** Heartbeats from now on, then the wait for the learner: its run state, or null when asked to stop. */
  join(): Promise<RunState | null>;
  /** A queue of the run (closed on leaving); its errors are logged as `label: message`. */
  queue(name: string, label: string): Queue;
  /** The job worker taking this agent's jobs from queue `name` (closed on leaving). */
  takeJobs(name: string, processor: Processor, label: string): Worker;
  /** Stops heartbeats, closes the job worker and queues, drops the heartbeat entry and the connection. */
  leave(): Promise<void>;
}

export async function startAgent(o: RoleOptions, kind: 'worker' | 'evaluator', id: string = newAgentId()): Promise<Agent> {
  // BullMQ is loaded when a role runs, not when lopt is imported (it takes about half a second).
  const { Queue, Worker } = await importOptional<typeof import('bullmq')>('bullmq', DISTRIBUTED);
  const log = o.log ?? defaultLog;
  const ns = namespace(o.runId);
  const settings = runSettings(o.train);
  const digest = settingsDigest(settings);
  const count = thetaCount(buildLopt(o.train.problem));
  const reissueAfter = o.reissueAfterMs ?? DEFAULT_REISSUE_AFTER_MS;
  const shouldStop = o.shouldStop ?? (() => false);
  const metrics = new MetricsLog(join(o.out, 'metrics.jsonl'));
  const key = kind === 'worker' ? ns.keys.workers : ns.keys.evaluators;
  const link = await connectRedis(o, `${kind}:${id}`);
  const { client } = link;
  const where = link.target.display;
  const queues: Queue[] = [];
  let jobs: Worker | null = null;
  let timer: NodeJS.Timeout | null = null;

  return {
    id, ns, link, client, log, shouldStop, digest, count, metrics,
    async join() {
      await heartbeat(client, key, id);
      timer ??= setInterval(() => { heartbeat(client, key, id).catch(() => {}); }, HEARTBEAT_EVERY_MS);
      const state = await Promise.race([waitForLearner(client, ns, settings, digest, log, shouldStop, where), link.lost]);
      if (state) log(`${kind} ${id} joined run "${ns.runId}" on ${where} at θ version ${state.version}`);
      return state;
    },
    queue(name, label) {
      const q = new Queue(name, queueOptions(client, ns));
      logErrors(q, label, log);
      queues.push(q);
      return q;
    },
    takeJobs(name, processor, label) {
      jobs = new Worker(name, processor, jobWorkerOptions(client, ns, reissueAfter));
      logErrors(jobs, label, log);
      return jobs;
    },
    async leave() {
      if (timer) clearInterval(timer);
      // The job in hand is finished first while Redis answers; without Redis it is abandoned (re-issued).
      await link.close(async (alive) => {
        if (jobs) await jobs.close(!alive);
        for (const q of queues) await q.close();
        if (alive) await client.zrem(key, id);
      }, 30_000);
    },
  };
}
