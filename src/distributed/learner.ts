// The learner role: holds θ and its clipped-Adam state (the local MetaLearner), publishes θ with a
// version, keeps the unroll queue stocked for the live workers, averages `metaBatch` estimates no
// older than `staleness` versions (each job applied at most once), updates θ, checkpoints, and
// publishes θ for evaluators, keeping theta-latest and theta-best in its folder. It composes four
// parts, each with its own unit test: θ publication (theta-publisher.ts), the job stock
// (job-stock.ts), the batch judge (batch-judge.ts) and the update and checkpoint (learner-update.ts);
// what stays here is the lease, the Redis connection and queues, and the order of events.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
// BullMQ is loaded when a role runs, not when lopt is imported (it takes about half a second).
import type { Job, Queue, Worker } from 'bullmq';
import { hasCheckpoint } from '../meta/checkpoint.js';
import { MetaLearner } from '../meta/learner.js';
import { buildLopt } from '../meta/problem.js';
import { checkResumable, type MetaRunOptions, type MetaRunResult } from '../meta/run.js';
import { thetaFromFlat } from '../meta/slots.js';
import { saveTheta, type ThetaProvenance } from '../meta/theta-file.js';
import { countLive } from './agents.js';
import { BatchJudge } from './batch-judge.js';
import {
  hasDistributedCheckpoint, loadDistributedCheckpoint, saveDistributedCheckpoint, type DistributedCheckpoint,
} from './checkpoint.js';
import { connectRedis, defaultLog, logErrors } from './connect.js';
import { JobStock } from './job-stock.js';
import { LearnerUpdate, type UpdateRow } from './learner-update.js';
import { encodeRunConfig } from './messages.js';
import { MetricsLog } from './metrics-log.js';
import { namespace, type Namespace } from './namespace.js';
import { jobWorkerOptions, queueOptions } from './queues.js';
import { DEFAULT_REISSUE_AFTER_MS, runSettings, settingsDigest, type RoleOptions } from './settings.js';
import { DISTRIBUTED, importOptional } from './optional.js';
import { ThetaPublisher } from './theta-publisher.js';

export type { UpdateRow, EstimateSummary } from './learner-update.js';

/** The local run's `resume`, `checkpointEvery` and `command`, and what only the distributed learner has. */
export interface LearnerOptions extends RoleOptions, Pick<MetaRunOptions, 'resume' | 'checkpointEvery' | 'command'> {
  /** Estimates made at θ versions more than this many updates old are dropped. */
  staleness: number;
  /** How long to wait at the end for outstanding evaluations while an evaluator is alive (default 300 s). */
  evalWaitMs?: number;
  onUpdate?: (row: UpdateRow) => void;
}

/** The local run's result (innerStepsPerSec: of the applied estimates, all workers together), and the drop counts. */
export interface DistributedLearnerResult extends MetaRunResult {
  dropped: UpdateRow['dropped'];
}

// Renews our lease: 1 renewed, 2 re-taken (the key was gone: Redis restarted empty), 0 held by another learner.
const LEASE_RENEW = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0`;
const LEASE_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Holds the run's learner lease; waits for a crashed learner's lease to expire. */
async function acquireLease(client: Redis, ns: Namespace, token: string, ttlMs: number, log: (l: string) => void, where: string): Promise<void> {
  const deadline = Date.now() + ttlMs + 2000;
  let told = false;
  for (;;) {
    const ok = await client.set(ns.keys.lease, token, 'PX', ttlMs, 'NX');
    if (ok === 'OK') return;
    if (Date.now() > deadline) throw new Error(`another learner holds run "${ns.runId}" on ${where}: stop it, or use another --run-id`);
    if (!told) log(`run "${ns.runId}" has a live learner lease; waiting up to ${Math.ceil((ttlMs + 2000) / 1000)} s for it to expire`);
    told = true;
    await sleep(500);
  }
}

/** A fresh run starts from empty queues and keys (the folder had no checkpoint to resume). */
async function clearRun(client: Redis, ns: Namespace): Promise<void> {
  const { Queue } = await importOptional<typeof import('bullmq')>('bullmq', DISTRIBUTED);
  for (const name of Object.values(ns.queues)) {
    const q = new Queue(name, queueOptions(client, ns));
    q.on('error', () => {});
    await q.obliterate({ force: true });
    await q.close();
  }
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${ns.prefix}:eval-theta:*`, 'COUNT', 200);
    if (keys.length) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await client.del(ns.keys.theta, ns.keys.state, ns.keys.config);
}

export async function runDistributedLearner(o: LearnerOptions): Promise<DistributedLearnerResult> {
  const { Queue, Worker } = await importOptional<typeof import('bullmq')>('bullmq', DISTRIBUTED);
  const log = o.log ?? defaultLog;
  const ns = namespace(o.runId);
  const reissueAfter = o.reissueAfterMs ?? DEFAULT_REISSUE_AFTER_MS;
  const checkpointEvery = o.checkpointEvery ?? 10;
  mkdirSync(o.out, { recursive: true });
  const checkpointDir = join(o.out, 'checkpoint');
  const metrics = new MetricsLog(join(o.out, 'metrics.jsonl'));

  // Local state first: a bad folder is reported before anything touches Redis.
  let learner: MetaLearner;
  let restored: DistributedCheckpoint | null = null;
  if (o.resume) {
    restored = loadDistributedCheckpoint(checkpointDir);
    checkResumable(restored.snap.options, o.train);
    restored.snap.options.outerSteps = o.train.outerSteps;
    learner = await MetaLearner.fromSnapshot(restored.snap);
  } else {
    if (hasDistributedCheckpoint(checkpointDir) || hasCheckpoint(checkpointDir)) {
      throw new Error(`${o.out} already holds a run: add --resume to continue it, or choose another --out`);
    }
    learner = await MetaLearner.create({ ...o.train, evalEvery: o.train.evalEvery ?? 0 });
  }
  const opts = learner.options;
  const batchSize = opts.metaBatch ?? 1;
  const count = learner.snap.theta.length;
  const judge = new BatchJudge({ batchSize, staleness: o.staleness, applied: restored?.applied ?? [], count, log });
  const lopt = buildLopt(opts.problem);
  const settings = runSettings(opts);
  const digest = settingsDigest(settings);
  const latestFile = join(o.out, 'theta-latest');
  const bestFile = join(o.out, 'theta-best');
  const evalEvery = opts.evalEvery ?? 0;
  const provenance = (evalLoss: number | null): ThetaProvenance => ({
    task: learner.taskName, estimator: opts.estimator,
    settings: {
      numTasks: opts.numTasks, truncLength: opts.truncLength, innerSteps: opts.innerSteps, std: opts.std, metaLr: opts.metaLr,
      metaBatch: opts.metaBatch, seed: opts.seed, distributed: true, staleness: o.staleness,
    },
    outerSteps: learner.outerStep, evalLoss, date: new Date().toISOString(), command: o.command,
  });

  const link = await connectRedis(o, 'learner');
  const { client, lost } = link;
  const where = link.target.display;
  const leaseToken = randomBytes(12).toString('hex');
  let leaseHeld = false;
  const queues: Queue[] = [];
  let results: Worker | null = null;
  let timer: NodeJS.Timeout | null = null;
  let update: LearnerUpdate | null = null;
  let fatal: Error | null = null;
  let failFatal: (e: Error) => void = () => {};
  const fatalPromise = new Promise<never>((_, reject) => { failFatal = reject; });
  fatalPromise.catch(() => {});
  const fail = (error: Error) => { if (!fatal) { fatal = error; failFatal(error); } };

  try {
    await acquireLease(client, ns, leaseToken, reissueAfter, log, where);
    leaseHeld = true;
    const incarnation = await client.incr(ns.keys.incarnation);
    if (restored) {
      metrics.truncate(restored.metricsBytes);
    } else {
      await clearRun(client, ns);
      metrics.reset();
    }
    const unroll = new Queue(ns.queues.unroll, queueOptions(client, ns));
    const evalQueue = new Queue(ns.queues.eval, queueOptions(client, ns));
    queues.push(unroll, evalQueue);
    logErrors(unroll, 'unroll queue', log);
    logErrors(evalQueue, 'eval queue', log);

    // The parts: θ publication, the job stock, the batch judge (above), the update and checkpoint.
    const publisher = new ThetaPublisher({
      client, evalQueue, ns, configDigest: digest, config: encodeRunConfig(digest, settings), incarnation,
      onTag: (version, tag) => judge.publish(version, tag),
    });
    await publisher.publishConfig();
    let phase: 'training' | 'final' | 'closing' = 'training';
    const stock = new JobStock({
      queue: unroll, countLiveWorkers: () => countLive(client, ns.keys.workers), batchSize, incarnation,
      version: () => learner.snap.thetaVersion, issuing: () => phase === 'training',
    });
    const up = update = new LearnerUpdate({
      learner, metrics, appliedIds: () => judge.appliedIds(), evals: publisher,
      saveCheckpoint: (ck) => saveDistributedCheckpoint(checkpointDir, ck),
      saveLatest: (evalLoss) => saveTheta(latestFile, lopt, learner.theta(), provenance(evalLoss)),
      saveBest: (theta, evalLoss, outerStep) => saveTheta(bestFile, lopt, thetaFromFlat(theta, learner.shapes), { ...provenance(evalLoss), outerSteps: outerStep }),
      log, outerSteps: opts.outerSteps, evalEvery, evalSeeds: opts.evalSeeds ?? 2, checkpointEvery, onUpdate: o.onUpdate, restored,
    });

    // ---- the learner loop: one result at a time ----
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((r) => { resolveDone = r; });
    if (learner.outerStep >= opts.outerSteps) phase = 'final';

    const applyBatch = async () => {
      up.apply(judge.take(), stock.queueDepth, stock.liveWorkers);
      const s = learner.snap;
      const finished = up.finished;
      await publisher.publish(s, 'running');
      if (up.evalDue) await publisher.publishEval(s.thetaVersion, s.outerStep, s.theta.slice(), publisher.tag);
      if (up.checkpointDue) await up.checkpoint();
      if (finished) {
        phase = 'final';
        resolveDone();
      }
    };

    const processor = async (job: Job) => {
      if (phase === 'closing') return;
      const m = judge.parse(job.data, job.id);
      if (!m) return;
      if (m.kind === 'eval') {
        if ((await up.recordEval(m)) === 'rejected') judge.reject();
        return;
      }
      if (phase !== 'training') return;
      judge.offer(m);
      if (judge.full()) await applyBatch();
      await stock.topUp().catch((error: Error) => log(`cannot issue unroll jobs: ${error.message}`));
    };

    // ---- start ----
    await publisher.publish(learner.snap, 'running');
    if (restored) {
      // Evaluations in flight when the checkpoint was taken are asked for again.
      for (const e of restored.evalThetas) {
        await publisher.publishEval(e.version, e.outerStep, e.theta, e.tag);
      }
    } else if (evalEvery > 0) {
      await publisher.publishEval(0, 0, learner.snap.theta.slice(), publisher.tag);
    }
    results = new Worker(ns.queues.results, processor, jobWorkerOptions(client, ns, reissueAfter));
    logErrors(results, 'results queue', log);
    results.on('failed', (job, error) => log(`result ${String(job?.id).slice(0, 80)} failed: ${error.message}`));
    let stopped = false;
    let ticking = false;
    timer = setInterval(() => {
      if (o.shouldStop?.() && !stopped) { stopped = true; resolveDone(); return; }
      if (ticking) return;
      ticking = true;
      client.eval(LEASE_RENEW, 1, ns.keys.lease, leaseToken, reissueAfter).then(async (renewed) => {
        if (Number(renewed) === 0) fail(new Error(`run "${ns.runId}" on ${where} was taken over by another learner: this one stops`));
        // A Redis that restarted without its data: publish the run again (queues refill by topUp).
        if (Number(renewed) === 2 || (await client.exists(ns.keys.theta, ns.keys.config)) < 2) {
          log(`run "${ns.runId}" was missing from Redis at ${where}; publishing it again`);
          await publisher.republish(learner.snap, phase === 'training' ? 'running' : 'done');
        }
      }).catch(() => {}).finally(() => { ticking = false; });
      stock.topUp().catch(() => {});
    }, Math.max(200, Math.min(1000, Math.floor(reissueAfter / 3))));
    await stock.topUp();
    if (phase === 'final') resolveDone(); // resumed a run that had already finished

    await Promise.race([done, lost, fatalPromise]);

    // ---- the end: final evaluation results, then close ----
    let donePublished = false;
    const finish = async () => {
      if (donePublished) return;
      donePublished = true;
      await publisher.publish(learner.snap, 'done');
      await unroll.drain(true);
    };
    if (!stopped && phase === 'final') {
      await finish();
      const waitUntil = Date.now() + (o.evalWaitMs ?? 300_000);
      while (publisher.pendingCount > 0 && Date.now() < waitUntil && !fatal) {
        if ((await countLive(client, ns.keys.evaluators)) === 0) {
          const n = publisher.pendingCount;
          log(`no evaluator alive: ${n} evaluation${n === 1 ? '' : 's'} not recorded`);
          break;
        }
        await Promise.race([sleep(250), lost, fatalPromise]);
      }
    }
    phase = 'closing';
    clearInterval(timer);
    timer = null;
    await results.close();
    results = null;
    // A stop that came with the last update still finishes the run (workers are told to leave).
    if (learner.outerStep >= opts.outerSteps) {
      await finish();
      stopped = false;
    }
    await up.checkpoint();
    return {
      outerSteps: learner.outerStep, metaLoss: up.metaLoss, innerStepsPerSec: up.innerStepsPerSec,
      totalInnerSteps: learner.snap.totalInnerSteps, initialEvalLoss: up.initialEvalLoss, bestEvalLoss: learner.bestEvalLoss(),
      lastEvalLoss: up.lastEvalLoss, weights: { latest: latestFile, best: existsSync(bestFile) ? bestFile : null },
      stopped, dropped: judge.totals,
    };
  } catch (error) {
    // Redis gone for good: the local state still goes to disk so --resume can continue.
    if (update && learner.outerStep > (restored?.snap.outerStep ?? 0)) {
      try { await update.saveState(); } catch { /* the original error matters more */ }
    }
    throw error;
  } finally {
    if (timer) clearInterval(timer);
    await link.close(async (alive) => {
      if (results) await results.close(true);
      for (const q of queues) await q.close();
      if (alive && leaseHeld) await client.eval(LEASE_RELEASE, 1, ns.keys.lease, leaseToken);
    });
  }
}
