// The worker role: takes unroll jobs, answers each with one gradient estimate from its own
// persistent estimator (PES accumulators and inner states never leave this process) at the newest
// published θ, and sends it back tagged with the θ version and job id. A re-issued job (its first
// worker died or lost its lock) is answered by a fresh estimator made for it. The estimator is the
// local meta-learner's (src/meta), its slots running in worker threads so this thread stays free to
// renew job locks.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Job } from 'bullmq';
import { MetaLearner } from '../meta/learner.js';
import { workerExecutor } from '../meta/workers.js';
import { readState, SettingsMismatch, startAgent } from './agents.js';
import { encodeEstimate, JOB_ID, MessageRejected, parseUnrollJob } from './messages.js';
import { readThetaRecord } from './redis-read.js';
import type { RoleOptions } from './settings.js';

export interface WorkerOptions extends RoleOptions {
  /** Threads running this worker's task slots (default: all cores). */
  threads?: number;
  /** Default: host-pid-random. */
  workerId?: string;
}

export interface WorkerResult {
  workerId: string;
  estimates: number;
  innerSteps: number;
  seconds: number;
  /** True when stopped by shouldStop rather than by the end of the run. */
  stopped: boolean;
}

/** A worker's estimator seed: distinct per worker and per fresh estimator, derived from the run seed. */
export function estimatorSeed(runSeed: number, workerId: string, index: number): number {
  return createHash('sha256').update(`${runSeed}/${workerId}/${index}`).digest().readUInt32LE(0);
}

interface Estimator { learner: MetaLearner; estimates: number }

export async function runDistributedWorker(o: WorkerOptions): Promise<WorkerResult> {
  const threads = o.threads ?? availableParallelism();
  const agent = await startAgent(o, 'worker', o.workerId);
  const { id: workerId, ns, client, log, shouldStop, digest, count, metrics } = agent;
  let own: Estimator | null = null;
  let made = 0;
  const makeEstimator = async (): Promise<Estimator> => {
    const learner = await MetaLearner.create(
      { ...o.train, metaBatch: 1, evalEvery: 0, seed: estimatorSeed(o.train.seed, workerId, made++) },
      workerExecutor(threads),
    );
    return { learner, estimates: 0 };
  };
  let timer: NodeJS.Timeout | null = null;
  const result: WorkerResult = { workerId, estimates: 0, innerSteps: 0, seconds: 0, stopped: false };
  let failFatal: (e: Error) => void = () => {};
  const fatal = new Promise<never>((_, reject) => { failFatal = reject; });
  fatal.catch(() => {});

  try {
    const state = await agent.join();
    if (state === null) return { ...result, stopped: true };
    if (state.status === 'done') return result;

    const unroll = agent.queue(ns.queues.unroll, 'unroll queue');
    const resultsQueue = agent.queue(ns.queues.results, 'results queue');
    let finished = false;
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((r) => { resolveDone = r; });

    const processor = async (job: Job) => {
      let data;
      try {
        data = parseUnrollJob(job.data);
        if (!JOB_ID.test(String(job.id))) throw new MessageRejected(`unroll job: id "${String(job.id).slice(0, 40)}" is not <incarnation>.<seq>`);
      } catch (error) {
        if (!(error instanceof MessageRejected)) throw error;
        log(`rejected job ${String(job.id).slice(0, 80)}: ${error.message}`);
        metrics.append({ kind: 'rejected', workerId, jobId: String(job.id).slice(0, 80), reason: error.message });
        return { rejected: error.message };
      }
      let rec;
      try {
        rec = await readThetaRecord(client, ns.keys.theta, count);
      } catch (error) {
        if (!(error instanceof MessageRejected)) throw error;
        log(`rejected ${error.message}`);
        throw error;
      }
      if (rec === null) throw new Error('no θ published yet');
      if (rec.configDigest !== digest) {
        failFatal(new SettingsMismatch(`settings differ from the learner of run "${ns.runId}" (it restarted with other flags); start every role with the same meta-train flags`));
        throw new Error('settings mismatch');
      }
      if (rec.status === 'done') { finished = true; resolveDone(); return { skipped: 'run finished' }; }
      // attemptsStarted counts starts: more than one means the job was taken back from another start.
      const reissued = job.attemptsStarted > 1 || job.stalledCounter > 0;
      let est: Estimator;
      if (reissued) est = await makeEstimator();
      else est = own ??= await makeEstimator();
      const fresh = est.estimates === 0;
      est.learner.snap.theta.set(rec.theta);
      let r;
      try {
        r = await est.learner.estimate();
      } finally {
        if (reissued) await est.learner.close();
      }
      est.estimates += 1;
      const seconds = r.seconds;
      await resultsQueue.add('estimate', encodeEstimate({
        kind: 'estimate', jobId: String(job.id), workerId, thetaVersion: rec.version, thetaTag: rec.tag, fresh, reissued,
        attempt: Math.max(1, job.attemptsStarted), count, grad: Float32Array.from(r.grad), metaLoss: r.metaLoss,
        nanCount: r.nanCount, innerSteps: r.innerSteps, seconds,
      }), { jobId: `${job.id}-${workerId}-${Math.max(1, job.attemptsStarted)}`, removeOnComplete: true, removeOnFail: 100 });
      result.estimates += 1;
      result.innerSteps += r.innerSteps;
      result.seconds += seconds;
      const [now, depth] = await Promise.all([readState(client, ns).catch(() => null), unroll.getJobCounts('waiting')]);
      metrics.append({
        kind: 'estimate', workerId, jobId: String(job.id), issuedVersion: data.issuedVersion, thetaVersion: rec.version,
        staleness: now ? now.version - rec.version : null, fresh, reissued, attempt: Math.max(1, job.attemptsStarted),
        metaLoss: r.metaLoss, nanCount: r.nanCount, innerSteps: r.innerSteps, seconds,
        innerStepsPerSec: seconds > 0 ? r.innerSteps / seconds : 0, queueDepth: depth.waiting ?? 0,
      });
      return { thetaVersion: rec.version };
    };

    const jobs = agent.takeJobs(ns.queues.unroll, processor, 'unroll jobs');
    jobs.on('failed', (job, error) => { if (error.message !== 'settings mismatch') log(`job ${String(job?.id)} failed: ${error.message}`); });
    timer = setInterval(() => {
      if (shouldStop()) { result.stopped = true; resolveDone(); return; }
      readState(client, ns).then((s) => { if (s?.status === 'done') { finished = true; resolveDone(); } }, () => {});
    }, 1000);
    await Promise.race([done, agent.link.lost, fatal]);
    if (finished) result.stopped = false;
    return result;
  } finally {
    if (timer) clearInterval(timer);
    await agent.leave();
    await (own as Estimator | null)?.learner.close();
  }
}
