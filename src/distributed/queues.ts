// How every role uses BullMQ: queues under the run's prefix on the role's ioredis connection, and
// job workers that take one job at a time and hold it by a lock renewed while they work, so a job
// whose process stops renewing for `reissueAfter` ms goes back to the queue for another one.
import type { Redis } from 'ioredis';
import type { QueueOptions, WorkerOptions } from 'bullmq';
import type { Namespace } from './namespace.js';

export function queueOptions(client: Redis, ns: Namespace): QueueOptions {
  return { connection: client, prefix: ns.prefix };
}

export function jobWorkerOptions(client: Redis, ns: Namespace, reissueAfterMs: number): WorkerOptions {
  return {
    ...queueOptions(client, ns), concurrency: 1, drainDelay: 1,
    lockDuration: reissueAfterMs, stalledInterval: Math.max(500, Math.floor(reissueAfterMs / 2)), maxStalledCount: 5,
  };
}
