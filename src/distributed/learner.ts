// The learner role: holds θ and its clipped-Adam state (the local MetaLearner), publishes θ with a
// version, keeps the unroll queue stocked for the live workers, averages `metaBatch` estimates no
// older than `staleness` versions (each job applied at most once), updates θ, checkpoints, and
// publishes θ for evaluators, keeping theta-latest and theta-best in its folder.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
// BullMQ is loaded when a role runs, not when lopt is imported (it takes about half a second).
import type { Job, Queue, Worker } from 'bullmq';
import { hasCheckpoint } from '../meta/checkpoint.js';
import { MetaLearner, type MetricsRow } from '../meta/learner.js';
import { buildLopt } from '../meta/problem.js';
import { checkResumable, type MetaRunOptions, type MetaRunResult } from '../meta/run.js';
import { thetaFromFlat } from '../meta/slots.js';
import { saveTheta, type ThetaProvenance } from '../meta/theta-file.js';
import { countLive } from './agents.js';
import { EstimateBatcher, type Verdict } from './batcher.js';
import {
  hasDistributedCheckpoint, loadDistributedCheckpoint, saveDistributedCheckpoint, type DistributedCheckpoint,
} from './checkpoint.js';
import { connectRedis, defaultLog, logErrors } from './connect.js';
import {
  encodeRunConfig, encodeRunState, encodeThetaRecord, MessageRejected, parseResult, type EstimateMessage, type EvalMessage,
} from './messages.js';
import { MetricsLog } from './metrics-log.js';
import { namespace, type Namespace } from './namespace.js';
import { jobWorkerOptions, queueOptions } from './queues.js';
import { DEFAULT_REISSUE_AFTER_MS, runSettings, settingsDigest, type RoleOptions } from './settings.js';
import { DISTRIBUTED, importOptional } from './optional.js';

/** The local run's `resume`, `checkpointEvery` and `command`, and what only the distributed learner has. */
export interface LearnerOptions extends RoleOptions, Pick<MetaRunOptions, 'resume' | 'checkpointEvery' | 'command'> {
  /** Estimates made at θ versions more than this many updates old are dropped. */
  staleness: number;
  /** How long to wait at the end for outstanding evaluations while an evaluator is alive (default 300 s). */
  evalWaitMs?: number;
  onUpdate?: (row: UpdateRow) => void;
}

/** One estimate of an update, as the learner's metrics row lists it (per-worker metrics). */
export interface EstimateSummary {
  jobId: string;
  workerId: string;
  thetaVersion: number;
  staleness: number;
  fresh: boolean;
  reissued: boolean;
  attempt: number;
  innerSteps: number;
  seconds: number;
  innerStepsPerSec: number;
  metaLoss: number;
}

export interface UpdateRow extends MetricsRow {
  /** Seconds since the previous update (innerStepsPerSec = innerSteps / seconds: the whole cluster). */
  seconds: number;
  /** The B job ids averaged into this update: each appears in one row only. */
  jobIds: string[];
  estimates: EstimateSummary[];
  maxStaleness: number;
  /** Estimates from fresh estimators (zero PES accumulators: truncated-ES estimates). */
  freshCount: number;
  /** Unroll jobs waiting in the queue when the last one of this batch arrived. */
  queueDepth: number;
  liveWorkers: number;
  /** Results received since the previous update and not applied, by reason. */
  dropped: Record<Exclude<Verdict, 'accepted'> | 'rejected', number>;
  droppedJobs: { jobId: string; workerId: string; verdict: string }[];
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
/** θ kept for evaluations in flight; older ones are dropped (their results can no longer count). */
const MAX_PENDING_EVALS = 64;
const EVAL_THETA_TTL_MS = 7 * 24 * 3600 * 1000;
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
  const batcher = new EstimateBatcher<EstimateMessage>(batchSize, o.staleness, restored?.applied ?? []);
  const lopt = buildLopt(opts.problem);
  const count = learner.snap.theta.length;
  const settings = runSettings(opts);
  const digest = settingsDigest(settings);
  const latestFile = join(o.out, 'theta-latest');
  const bestFile = join(o.out, 'theta-best');
  const evalEvery = opts.evalEvery ?? 0;
  const evalThetas = new Map<number, { outerStep: number; theta: Float32Array; tag: string }>();
  const evaluated = new Set<number>(restored?.evaluated ?? []);
  let initialEvalLoss = restored?.initialEvalLoss ?? null;
  let lastEval = restored?.lastEvalLoss ?? null;

  const saveState = async () => saveDistributedCheckpoint(checkpointDir, {
    snap: await learner.snapshot(), applied: batcher.appliedIds(), metricsBytes: metrics.bytes(),
    evalThetas: [...evalThetas].map(([version, e]) => ({ version, outerStep: e.outerStep, theta: e.theta, tag: e.tag })),
    evaluated: [...evaluated], initialEvalLoss, lastEvalLoss: lastEval,
  });

  const link = await connectRedis(o, 'learner');
  const { client, lost } = link;
  const where = link.target.display;
  const leaseToken = randomBytes(12).toString('hex');
  let leaseHeld = false;
  const queues: Queue[] = [];
  let results: Worker | null = null;
  let timer: NodeJS.Timeout | null = null;
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
    await client.set(ns.keys.config, encodeRunConfig(digest, settings));
    const unroll = new Queue(ns.queues.unroll, queueOptions(client, ns));
    const evalQueue = new Queue(ns.queues.eval, queueOptions(client, ns));
    queues.push(unroll, evalQueue);
    logErrors(unroll, 'unroll queue', log);
    logErrors(evalQueue, 'eval queue', log);

    // ---- publishing θ ----
    let currentTag = '';
    const publish = async (status: 'running' | 'done', newTag = true) => {
      const s = learner.snap;
      if ((status === 'running' && newTag) || !currentTag) {
        currentTag = randomBytes(8).toString('hex');
        batcher.publish(s.thetaVersion, currentTag);
      }
      const record = encodeThetaRecord({ version: s.thetaVersion, tag: currentTag, outerStep: s.outerStep, status, configDigest: digest, theta: s.theta });
      // Together: a worker never sees the state of one θ and the record of another.
      const replies = await client.multi()
        .set(ns.keys.theta, record)
        .set(ns.keys.state, encodeRunState({ version: s.thetaVersion, outerStep: s.outerStep, status }))
        .exec();
      const failed = replies?.find(([error]) => error);
      if (!replies || failed) throw failed?.[0] ?? new Error('publishing θ: transaction aborted');
    };
    const publishEval = async (version: number, outerStep: number, theta: Float32Array, tag: string) => {
      evalThetas.set(version, { outerStep, theta, tag });
      while (evalThetas.size > MAX_PENDING_EVALS) {
        const oldest = Math.min(...evalThetas.keys());
        evalThetas.delete(oldest);
        await client.del(ns.evalTheta(oldest));
      }
      const record = encodeThetaRecord({ version, tag, outerStep, status: 'running', configDigest: digest, theta });
      await client.set(ns.evalTheta(version), record, 'PX', EVAL_THETA_TTL_MS);
      await evalQueue.add('eval', { kind: 'eval', thetaVersion: version, outerStep }, {
        jobId: `e${incarnation}.${version}`, removeOnComplete: true, removeOnFail: 100,
      });
    };

    // ---- checkpoints and θ files ----
    const provenance = (evalLoss: number | null): ThetaProvenance => ({
      task: learner.taskName, estimator: opts.estimator,
      settings: {
        numTasks: opts.numTasks, truncLength: opts.truncLength, innerSteps: opts.innerSteps, std: opts.std, metaLr: opts.metaLr,
        metaBatch: opts.metaBatch, seed: opts.seed, distributed: true, staleness: o.staleness,
      },
      outerSteps: learner.outerStep, evalLoss, date: new Date().toISOString(), command: o.command,
    });
    const checkpoint = async () => {
      await saveState();
      saveTheta(latestFile, lopt, learner.theta(), provenance(lastEval?.loss ?? null));
    };

    // ---- keeping workers busy ----
    let queueDepth = 0;
    let liveWorkers = 0;
    let seq = 0;
    let topping: Promise<void> | null = null;
    let phase: 'training' | 'final' | 'closing' = 'training';
    const topUp = () => {
      topping ??= (async () => {
        try {
          if (phase !== 'training') return;
          const counts = await unroll.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
          queueDepth = counts.waiting ?? 0;
          const outstanding = Object.values(counts).reduce((a, b) => a + b, 0);
          liveWorkers = await countLive(client, ns.keys.workers);
          const target = batchSize + Math.max(1, liveWorkers);
          const jobs = [];
          for (let k = outstanding; k < target; k++) {
            const jobId = `${incarnation}.${seq++}`;
            jobs.push({
              name: 'unroll', data: { kind: 'unroll', issuedVersion: learner.snap.thetaVersion, incarnation },
              opts: { jobId, removeOnComplete: true, removeOnFail: 100 },
            });
          }
          if (jobs.length) await unroll.addBulk(jobs);
        } finally {
          topping = null;
        }
      })();
      return topping;
    };

    // ---- the learner loop: one result at a time ----
    const dropped = () => ({ duplicate: 0, stale: 0, 'unknown-theta': 0, rejected: 0 });
    let droppedNow = dropped();
    const droppedTotal = dropped();
    let droppedJobs: UpdateRow['droppedJobs'] = [];
    let lastUpdateAt = process.hrtime.bigint();
    let invocationSteps = 0;
    let invocationSeconds = 0;
    let metaLoss = NaN;
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((r) => { resolveDone = r; });
    if (learner.outerStep >= opts.outerSteps) phase = 'final';

    const recordEval = async (m: EvalMessage) => {
      const pending = evalThetas.get(m.thetaVersion);
      if (evaluated.has(m.thetaVersion)) { log(`ignored a second evaluation of θ version ${m.thetaVersion} (from ${m.evaluatorId})`); return; }
      if (!pending || pending.tag !== m.thetaTag || pending.outerStep !== m.outerStep) {
        log(`rejected an evaluation of θ version ${m.thetaVersion} from ${m.evaluatorId}: not a θ this learner published for evaluation`);
        droppedNow.rejected++; droppedTotal.rejected++;
        return;
      }
      const seeds = m.rows.map((r) => r.evalSeed).sort((a, b) => a - b);
      const expected = Array.from({ length: opts.evalSeeds ?? 2 }, (_, i) => i);
      if (m.evalTask !== learner.taskName || JSON.stringify(seeds) !== JSON.stringify(expected)) {
        log(`rejected an evaluation of θ version ${m.thetaVersion} from ${m.evaluatorId}: task or seeds differ from the run's`);
        droppedNow.rejected++; droppedTotal.rejected++;
        return;
      }
      metrics.append(...m.rows.map((r) => ({
        outerStep: m.outerStep, thetaVersion: m.thetaVersion, evalTask: m.evalTask, evalSeed: r.evalSeed, evalLoss: r.evalLoss, evaluator: m.evaluatorId,
      })));
      const mean = m.rows.reduce((a, r) => a + r.evalLoss, 0) / m.rows.length;
      evaluated.add(m.thetaVersion);
      evalThetas.delete(m.thetaVersion);
      await client.del(ns.evalTheta(m.thetaVersion));
      if (m.thetaVersion === 0) initialEvalLoss = mean;
      if (!lastEval || m.thetaVersion >= lastEval.version) lastEval = { version: m.thetaVersion, loss: mean };
      const best = learner.snap.best;
      if (!best || mean < best.evalLoss) {
        learner.snap.best = { theta: pending.theta.slice(), evalLoss: mean, outerStep: m.outerStep };
        saveTheta(bestFile, lopt, thetaFromFlat(pending.theta.slice(), learner.shapes), { ...provenance(mean), outerSteps: m.outerStep });
      }
      await checkpoint();
    };

    const applyBatch = async () => {
      const batch = batcher.take();
      const grad = new Float64Array(count);
      let lossSum = 0;
      let nanCount = 0;
      let innerSteps = 0;
      for (const e of batch) {
        for (let j = 0; j < count; j++) grad[j] += e.grad[j] / batch.length;
        lossSum += e.metaLoss;
        nanCount += e.nanCount;
        innerSteps += e.innerSteps;
      }
      const now = process.hrtime.bigint();
      const seconds = Number(now - lastUpdateAt) / 1e9;
      lastUpdateAt = now;
      const base = learner.applyGradient({ grad, metaLoss: lossSum / batch.length, nanCount, innerSteps, seconds });
      const estimates: EstimateSummary[] = batch.map((e) => ({
        jobId: e.jobId, workerId: e.workerId, thetaVersion: e.thetaVersion, staleness: base.thetaVersion - e.thetaVersion,
        fresh: e.fresh, reissued: e.reissued, attempt: e.attempt, innerSteps: e.innerSteps, seconds: e.seconds,
        innerStepsPerSec: e.seconds > 0 ? e.innerSteps / e.seconds : 0, metaLoss: e.metaLoss,
      }));
      const row: UpdateRow = {
        ...base, seconds, jobIds: batch.map((e) => e.jobId), estimates,
        maxStaleness: Math.max(...estimates.map((e) => e.staleness)), freshCount: batch.filter((e) => e.fresh).length,
        queueDepth, liveWorkers, dropped: droppedNow, droppedJobs,
      };
      droppedNow = dropped();
      droppedJobs = [];
      metrics.append(row);
      o.onUpdate?.(row);
      invocationSteps += innerSteps;
      invocationSeconds += seconds;
      metaLoss = row.metaLoss;
      const s = learner.snap;
      const finished = s.outerStep >= opts.outerSteps;
      await publish('running');
      if (evalEvery > 0 && (s.outerStep % evalEvery === 0 || finished)) await publishEval(s.thetaVersion, s.outerStep, s.theta.slice(), currentTag);
      if (checkpointEvery > 0 && s.outerStep % checkpointEvery === 0) await checkpoint();
      if (finished) {
        phase = 'final';
        resolveDone();
      }
    };

    const processor = async (job: Job) => {
      if (phase === 'closing') return;
      let m;
      try {
        m = parseResult(job.data, count);
      } catch (error) {
        if (!(error instanceof MessageRejected)) throw error;
        log(`rejected result ${String(job.id).slice(0, 80)}: ${error.message}`);
        droppedNow.rejected++; droppedTotal.rejected++;
        return;
      }
      if (m.kind === 'eval') { await recordEval(m); return; }
      if (phase !== 'training') return;
      const { verdict } = batcher.offer(m);
      if (verdict !== 'accepted') {
        droppedNow[verdict]++; droppedTotal[verdict]++;
        droppedJobs.push({ jobId: m.jobId, workerId: m.workerId, verdict });
        if (verdict === 'duplicate') log(`dropped a second estimate for job ${m.jobId} (from ${m.workerId}): already applied or batched`);
      }
      if (batcher.full()) await applyBatch();
      await topUp().catch((error: Error) => log(`cannot issue unroll jobs: ${error.message}`));
    };

    // ---- start ----
    await publish('running');
    if (restored) {
      // Evaluations in flight when the checkpoint was taken are asked for again.
      for (const e of restored.evalThetas) {
        await publishEval(e.version, e.outerStep, e.theta, e.tag);
      }
    } else if (evalEvery > 0) {
      await publishEval(0, 0, learner.snap.theta.slice(), currentTag);
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
          await client.set(ns.keys.config, encodeRunConfig(digest, settings));
          await publish(phase === 'training' ? 'running' : 'done', false);
          for (const [version, e] of [...evalThetas]) await publishEval(version, e.outerStep, e.theta, e.tag);
        }
      }).catch(() => {}).finally(() => { ticking = false; });
      topUp().catch(() => {});
    }, Math.max(200, Math.min(1000, Math.floor(reissueAfter / 3))));
    await topUp();
    if (phase === 'final') resolveDone(); // resumed a run that had already finished

    await Promise.race([done, lost, fatalPromise]);

    // ---- the end: final evaluation results, then close ----
    let donePublished = false;
    const finish = async () => {
      if (donePublished) return;
      donePublished = true;
      await publish('done');
      await unroll.drain(true);
    };
    if (!stopped && phase === 'final') {
      await finish();
      const waitUntil = Date.now() + (o.evalWaitMs ?? 300_000);
      while (evalThetas.size > 0 && Date.now() < waitUntil && !fatal) {
        if ((await countLive(client, ns.keys.evaluators)) === 0) {
          log(`no evaluator alive: ${evalThetas.size} evaluation${evalThetas.size === 1 ? '' : 's'} not recorded`);
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
    await checkpoint();
    return {
      outerSteps: learner.outerStep, metaLoss, innerStepsPerSec: invocationSeconds > 0 ? invocationSteps / invocationSeconds : 0,
      totalInnerSteps: learner.snap.totalInnerSteps, initialEvalLoss, bestEvalLoss: learner.bestEvalLoss(),
      lastEvalLoss: lastEval?.loss ?? null, weights: { latest: latestFile, best: existsSync(bestFile) ? bestFile : null },
      stopped, dropped: droppedTotal,
    };
  } catch (error) {
    // Redis gone for good: the local state still goes to disk so --resume can continue.
    if (learner.outerStep > (restored?.snap.outerStep ?? 0)) {
      try { await saveState(); } catch { /* the original error matters more */ }
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
