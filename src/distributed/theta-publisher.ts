// The learner's θ publication: the current θ record and run state (one transaction, so a worker never
// sees the state of one θ and the record of another), the tag that tells two θ of one version apart,
// and the θ published for evaluation (kept until their evaluation is recorded; at most
// MAX_PENDING_EVALS, older ones are dropped). Redis and the eval queue come in as small interfaces.
import { randomBytes } from 'node:crypto';
import { encodeRunState, encodeThetaRecord } from './messages.js';
import type { Namespace } from './namespace.js';

/** θ kept for evaluations in flight; older ones are dropped (their results can no longer count). */
export const MAX_PENDING_EVALS = 64;
export const EVAL_THETA_TTL_MS = 7 * 24 * 3600 * 1000;

/** What the publisher needs of a Redis client (ioredis' Redis has it). */
export interface PublisherRedis {
  multi(): PublisherMulti;
  set(key: string, value: string): Promise<unknown>;
  set(key: string, value: string, px: 'PX', ms: number): Promise<unknown>;
  del(...keys: string[]): Promise<unknown>;
}
export interface PublisherMulti {
  set(key: string, value: string): PublisherMulti;
  exec(): Promise<[error: Error | null, result: unknown][] | null>;
}
/** What the publisher needs of the eval queue (BullMQ's Queue has it). */
export interface EvalJobQueue {
  add(name: string, data: { kind: 'eval'; thetaVersion: number; outerStep: number }, opts: { jobId: string; removeOnComplete: boolean; removeOnFail: number }): Promise<unknown>;
}

/** θ as the learner holds it now. */
export interface CurrentTheta {
  thetaVersion: number;
  outerStep: number;
  theta: Float32Array;
}

export interface PendingEval {
  outerStep: number;
  theta: Float32Array;
  tag: string;
}

export interface ThetaPublisherDeps {
  client: PublisherRedis;
  evalQueue: EvalJobQueue;
  ns: Namespace;
  /** The run's settings digest (in every θ record). */
  configDigest: string;
  /** The encoded run config, published at the start and again when Redis lost the run. */
  config: string;
  /** This learner start's incarnation (eval job ids). */
  incarnation: number;
  /** Told of every new tag (the batch judge accepts estimates for it). */
  onTag: (version: number, tag: string) => void;
  newTag?: () => string;
  maxPendingEvals?: number;
}

export class ThetaPublisher {
  private currentTag = '';
  private readonly evals = new Map<number, PendingEval>();
  private readonly newTag: () => string;
  private readonly maxPending: number;

  constructor(private readonly d: ThetaPublisherDeps) {
    this.newTag = d.newTag ?? (() => randomBytes(8).toString('hex'));
    this.maxPending = d.maxPendingEvals ?? MAX_PENDING_EVALS;
  }

  /** The tag of the θ published last ('' before the first publication). */
  get tag(): string { return this.currentTag; }

  async publishConfig(): Promise<void> {
    await this.d.client.set(this.d.ns.keys.config, this.d.config);
  }

  /** Publishes θ and the run state; a running θ gets a new tag unless `newTag` is false. */
  async publish(s: CurrentTheta, status: 'running' | 'done', newTag = true): Promise<void> {
    if ((status === 'running' && newTag) || !this.currentTag) {
      this.currentTag = this.newTag();
      this.d.onTag(s.thetaVersion, this.currentTag);
    }
    const record = encodeThetaRecord({
      version: s.thetaVersion, tag: this.currentTag, outerStep: s.outerStep, status, configDigest: this.d.configDigest, theta: s.theta,
    });
    const { keys } = this.d.ns;
    const replies = await this.d.client.multi()
      .set(keys.theta, record)
      .set(keys.state, encodeRunState({ version: s.thetaVersion, outerStep: s.outerStep, status }))
      .exec();
    const failed = replies?.find(([error]) => error);
    if (!replies || failed) throw failed?.[0] ?? new Error('publishing θ: transaction aborted');
  }

  /** Publishes θ for evaluation and asks for it with an eval job. */
  async publishEval(version: number, outerStep: number, theta: Float32Array, tag: string): Promise<void> {
    this.evals.set(version, { outerStep, theta, tag });
    while (this.evals.size > this.maxPending) {
      const oldest = Math.min(...this.evals.keys());
      this.evals.delete(oldest);
      await this.d.client.del(this.d.ns.evalTheta(oldest));
    }
    const record = encodeThetaRecord({ version, tag, outerStep, status: 'running', configDigest: this.d.configDigest, theta });
    await this.d.client.set(this.d.ns.evalTheta(version), record, 'PX', EVAL_THETA_TTL_MS);
    await this.d.evalQueue.add('eval', { kind: 'eval', thetaVersion: version, outerStep }, {
      jobId: `e${this.d.incarnation}.${version}`, removeOnComplete: true, removeOnFail: 100,
    });
  }

  /** Publishes the run again (a Redis that restarted without its data): config, θ under its tag, pending evaluations. */
  async republish(s: CurrentTheta, status: 'running' | 'done'): Promise<void> {
    await this.publishConfig();
    await this.publish(s, status, false);
    for (const [version, e] of [...this.evals]) await this.publishEval(version, e.outerStep, e.theta, e.tag);
  }

  /** The θ published for evaluation under `version` and not yet evaluated. */
  pendingEval(version: number): PendingEval | undefined { return this.evals.get(version); }

  /** The evaluation of `version` is recorded: its θ is no longer kept. */
  async forgetEval(version: number): Promise<void> {
    this.evals.delete(version);
    await this.d.client.del(this.d.ns.evalTheta(version));
  }

  get pendingCount(): number { return this.evals.size; }

  /** Pending evaluations, for the checkpoint. */
  pendingEvals(): { version: number; outerStep: number; theta: Float32Array; tag: string }[] {
    return [...this.evals].map(([version, e]) => ({ version, outerStep: e.outerStep, theta: e.theta, tag: e.tag }));
  }
}
