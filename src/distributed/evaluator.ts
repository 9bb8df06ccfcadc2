// The evaluator role: takes the θ the learner publishes for evaluation, runs full inner runs on the
// run's reserved evaluation seeds (the same as the local learner's periodic evaluation), records
// the rows in its own metrics.jsonl and sends them to the learner, which keeps theta-best.
import { join } from 'node:path';
import { Worker as Thread } from 'node:worker_threads';
// BullMQ is loaded when a role runs, not when lopt is imported (it takes about half a second).
import type { Job, Queue, Worker } from 'bullmq';
import type { EvalRow, MetaTrainOptions } from '../meta/learner.js';
import { buildLopt } from '../meta/problem.js';
import { heartbeat, HEARTBEAT_EVERY_MS, newAgentId, readState, waitForLearner } from './agents.js';
import { connectRedis, defaultLog, logErrors } from './connect.js';
import { encodeEvalResult, MessageRejected, parseEvalJob, parseThetaRecord, replyLimit } from './messages.js';
import { MetricsLog } from './metrics-log.js';
import { namespace } from './namespace.js';
import { DEFAULT_REISSUE_AFTER_MS, runSettings, settingsDigest, thetaCount, type RoleOptions } from './settings.js';

export interface EvaluatorOptions extends RoleOptions {
  evaluatorId?: string;
}

export interface EvaluatorResult {
  evaluatorId: string;
  evaluations: number;
  stopped: boolean;
}

/** Evaluates θ in a worker thread (see eval-entry.ts). */
function evaluateInThread(options: Omit<MetaTrainOptions, 'theta'>, theta: Float32Array, at: { outerStep: number; thetaVersion: number }): Promise<EvalRow[]> {
  return new Promise((resolve, reject) => {
    const thread = new Thread(new URL('./eval-entry.js', import.meta.url), { workerData: { options, theta, at } });
    thread.once('message', (m: { ok: boolean; rows?: EvalRow[]; error?: string }) => {
      if (m.ok) resolve(m.rows!);
      else reject(new Error(m.error));
      thread.terminate().catch(() => {});
    });
    thread.once('error', reject);
    thread.once('exit', (code) => { if (code !== 0) reject(new Error(`evaluation thread exited with code ${code}`)); });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runDistributedEvaluator(o: EvaluatorOptions): Promise<EvaluatorResult> {
  const { Queue, Worker } = await import('bullmq');
  const log = o.log ?? defaultLog;
  const ns = namespace(o.runId);
  const evaluatorId = o.evaluatorId ?? newAgentId();
  const reissueAfter = o.reissueAfterMs ?? DEFAULT_REISSUE_AFTER_MS;
  const settings = runSettings(o.train);
  const digest = settingsDigest(settings);
  const count = thetaCount(buildLopt(o.train.problem));
  const metrics = new MetricsLog(join(o.out, 'metrics.jsonl'));
  const shouldStop = o.shouldStop ?? (() => false);
  const result: EvaluatorResult = { evaluatorId, evaluations: 0, stopped: false };

  const { client, lost } = await connectRedis(o, `evaluator:${evaluatorId}`, replyLimit(count));
  let bull: Worker | null = null;
  const queues: Queue[] = [];
  let timer: NodeJS.Timeout | null = null;
  try {
    await heartbeat(client, ns.keys.evaluators, evaluatorId);
    timer = setInterval(() => { heartbeat(client, ns.keys.evaluators, evaluatorId).catch(() => {}); }, HEARTBEAT_EVERY_MS);
    const state = await Promise.race([waitForLearner(client, ns, settings, digest, log, shouldStop, client.target.display), lost]);
    if (state === null) return { ...result, stopped: true };
    log(`evaluator ${evaluatorId} joined run "${ns.runId}" on ${client.target.display}`);
    const evalQueue = new Queue(ns.queues.eval, { connection: client, prefix: ns.prefix });
    const resultsQueue = new Queue(ns.queues.results, { connection: client, prefix: ns.prefix });
    queues.push(evalQueue, resultsQueue);
    logErrors(evalQueue, 'eval queue', log);
    logErrors(resultsQueue, 'results queue', log);

    const processor = async (job: Job) => {
      let data;
      try {
        data = parseEvalJob(job.data);
      } catch (error) {
        if (!(error instanceof MessageRejected)) throw error;
        log(`rejected evaluation job ${String(job.id).slice(0, 80)}: ${error.message}`);
        return { rejected: error.message };
      }
      const text = await client.raw.command(['GET', ns.evalTheta(data.thetaVersion)]);
      if (text === null) return { skipped: 'θ no longer published' };
      let rec;
      try {
        rec = parseThetaRecord(text, count);
      } catch (error) {
        if (!(error instanceof MessageRejected)) throw error;
        log(`rejected ${error.message}`);
        return { rejected: error.message };
      }
      if (rec.configDigest !== digest || rec.version !== data.thetaVersion || rec.outerStep !== data.outerStep) {
        log(`rejected evaluation job ${String(job.id)}: its θ record does not match the job or this run's settings`);
        return { rejected: 'mismatched θ record' };
      }
      const rows = await evaluateInThread(o.train, rec.theta, { outerStep: rec.outerStep, thetaVersion: rec.version });
      metrics.append(...rows.map((r) => ({ ...r, evaluator: evaluatorId })));
      await resultsQueue.add('eval', encodeEvalResult({
        kind: 'eval', evaluatorId, thetaVersion: rec.version, thetaTag: rec.tag, outerStep: rec.outerStep,
        evalTask: rows[0].evalTask, rows: rows.map((r) => ({ evalSeed: r.evalSeed, evalLoss: r.evalLoss })),
      }), { jobId: `${String(job.id)}-${evaluatorId}`, removeOnComplete: true, removeOnFail: 100 });
      result.evaluations += 1;
      return { thetaVersion: rec.version };
    };
    bull = new Worker(ns.queues.eval, processor, {
      connection: client, prefix: ns.prefix, concurrency: 1, drainDelay: 1,
      lockDuration: reissueAfter, stalledInterval: Math.max(500, Math.floor(reissueAfter / 2)), maxStalledCount: 5,
    });
    logErrors(bull, 'evaluation jobs', log);
    bull.on('failed', (job, error) => log(`evaluation job ${String(job?.id)} failed: ${error.message}`));

    // Leave when the run is done and no evaluation is left, or when asked to stop.
    let leaving = false;
    const finished = new Promise<void>((resolve) => {
      const poll = async () => {
        if (leaving) return;
        if (shouldStop()) { result.stopped = true; resolve(); return; }
        try {
          const s = await readState(client, ns);
          if (s?.status === 'done') {
            const c = await evalQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
            if (Object.values(c).reduce((a, b) => a + b, 0) === 0) { resolve(); return; }
          }
        } catch { /* Redis trouble: the connection's retry policy decides */ }
        setTimeout(poll, 500);
      };
      poll();
    });
    try {
      await Promise.race([finished, lost]);
    } finally {
      leaving = true;
    }
    return result;
  } finally {
    if (timer) clearInterval(timer);
    const closing = async () => {
      if (bull) await bull.close();
      for (const q of queues) await q.close();
      await client.raw.command(['ZREM', ns.keys.evaluators, evaluatorId]);
      await client.quit();
    };
    if (client.raw.status === 'ready') await Promise.race([closing().catch(() => {}), sleep(30_000)]);
    else client.disconnect();
  }
}
