// The evaluator role: takes the θ the learner publishes for evaluation, runs full inner runs on the
// run's reserved evaluation seeds (the same as the local learner's periodic evaluation), records
// the rows in its own metrics.jsonl and sends them to the learner, which keeps theta-best.
import { Worker as Thread } from 'node:worker_threads';
import type { Job } from 'bullmq';
import type { EvalRow, MetaTrainOptions } from '../meta/learner.js';
import { readState, startAgent } from './agents.js';
import { encodeEvalResult, MessageRejected, parseEvalJob } from './messages.js';
import { readThetaRecord } from './redis-read.js';
import type { RoleOptions } from './settings.js';

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

export async function runDistributedEvaluator(o: EvaluatorOptions): Promise<EvaluatorResult> {
  const agent = await startAgent(o, 'evaluator', o.evaluatorId);
  const { id: evaluatorId, ns, client, log, shouldStop, digest, count, metrics } = agent;
  const result: EvaluatorResult = { evaluatorId, evaluations: 0, stopped: false };
  try {
    const state = await agent.join();
    if (state === null) return { ...result, stopped: true };
    const evalQueue = agent.queue(ns.queues.eval, 'eval queue');
    const resultsQueue = agent.queue(ns.queues.results, 'results queue');

    const processor = async (job: Job) => {
      let data;
      try {
        data = parseEvalJob(job.data);
      } catch (error) {
        if (!(error instanceof MessageRejected)) throw error;
        log(`rejected evaluation job ${String(job.id).slice(0, 80)}: ${error.message}`);
        return { rejected: error.message };
      }
      let rec;
      try {
        rec = await readThetaRecord(client, ns.evalTheta(data.thetaVersion), count);
      } catch (error) {
        if (!(error instanceof MessageRejected)) throw error;
        log(`rejected ${error.message}`);
        return { rejected: error.message };
      }
      if (rec === null) return { skipped: 'θ no longer published' };
      if (rec.configDigest !== digest || rec.version !== data.thetaVersion || rec.outerStep !== data.outerStep) {
        log(`rejected evaluation job ${String(job.id)}: its θ record does not match the job or this run's settings`);
        return { rejected: 'mismatched θ record' };
      }
      const rows = await evaluateInThread(o.train, rec.theta, { outerStep: rec.outerStep, thetaVersion: rec.version });
      metrics.append(...rows.map((r) => ({ ...r, evaluator: evaluatorId })));
      await resultsQueue.add('eval', encodeEvalResult({
        kind: 'eval', evaluatorId, thetaVersion: rec.version, thetaTag: rec.tag, outerStep: rec.outerStep,
        evalTask: rows[0].evalTask, rows: rows.map((r) => ({ evalSeed: r.evalSeed, evalLoss: r.evalLoss, evalScore: r.evalScore })),
      }), { jobId: `${String(job.id)}-${evaluatorId}`, removeOnComplete: true, removeOnFail: 100 });
      result.evaluations += 1;
      return { thetaVersion: rec.version };
    };
    const jobs = agent.takeJobs(ns.queues.eval, processor, 'evaluation jobs');
    jobs.on('failed', (job, error) => log(`evaluation job ${String(job?.id)} failed: ${error.message}`));

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
      await Promise.race([finished, agent.link.lost]);
    } finally {
      leaving = true;
    }
    return result;
  } finally {
    await agent.leave();
  }
}
