// Where a distributed run lives in Redis: one prefix per run id, BullMQ queues under it, and the
// handful of plain keys the learner publishes.

export const RUN_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export interface Namespace {
  runId: string;
  /** BullMQ's key prefix for this run's queues. */
  prefix: string;
  queues: { unroll: string; results: string; eval: string };
  keys: {
    /** The current θ record (JSON, messages.ts). */
    theta: string;
    /** The run's state (version, status) without θ: small, polled by workers and evaluators. */
    state: string;
    /** The run-defining settings and their digest. */
    config: string;
    /** INCR per learner start: job ids are `<incarnation>.<seq>`, never reused. */
    incarnation: string;
    /** Held (SET NX PX, renewed) by the one live learner. */
    lease: string;
    /** Sorted sets: agent id → last heartbeat (ms since epoch). */
    workers: string;
    evaluators: string;
  };
  /** The θ record an evaluation job refers to. */
  evalTheta(version: number): string;
}

export function namespace(runId: string): Namespace {
  if (!RUN_ID.test(runId)) throw new Error(`--run-id "${runId}" must be 1-64 letters, digits, "_", "." or "-"`);
  const base = `lopt:${runId}`;
  return {
    runId,
    prefix: base,
    queues: { unroll: 'unroll', results: 'results', eval: 'eval' },
    keys: {
      theta: `${base}:theta`, state: `${base}:state`, config: `${base}:config`,
      incarnation: `${base}:incarnation`, lease: `${base}:learner-lease`,
      workers: `${base}:workers`, evaluators: `${base}:evaluators`,
    },
    evalTheta: (version) => `${base}:eval-theta:${version}`,
  };
}
