// Every message that crosses Redis, as zod schemas: what the learner publishes (θ records, the run
// config), the jobs it issues (unroll, eval) and what workers and evaluators send back (estimates,
// evaluation rows). Nothing read from Redis is used before it passes here: text is size-checked
// before it is parsed, then shape-checked, then the vectors are decoded to exactly the expected size.
// (What lopt reads itself is bounded before it is even decoded as text: see redis-read.ts.)
import { z } from 'zod';
import { decodeFloat32, encodeFloat32, encodedLength } from './codec.js';

/** A message that failed validation: logged and dropped, never acted on. */
export class MessageRejected extends Error {
  override name = 'MessageRejected';
}

const int = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const hex = (min: number, max: number) => z.string().regex(new RegExp(`^[0-9a-f]{${min},${max}}$`));
/** Job ids: BullMQ ids of the unroll queue (`<incarnation>.<seq>`). */
export const JOB_ID = /^[0-9]{1,12}\.[0-9]{1,15}$/;
/** Worker and evaluator ids: host-pid-random, safe in keys, file names and logs. */
export const AGENT_ID = /^[A-Za-z0-9_.-]{1,96}$/;
/** Room for the fields of a message around its vector. */
const ENVELOPE_BYTES = 16 * 1024;
/** The largest run state and run config records. */
export const RUN_STATE_LIMIT = 1024;
export const RUN_CONFIG_LIMIT = 64 * 1024;

/** Finite numbers travel as numbers; ±Infinity (a diverged loss) as null (JSON has no Infinity). */
const lossValue = z.number().nullable();
export const fromWire = (x: number | null): number => (x === null ? Infinity : x);
export const toWire = (x: number): number | null => (Number.isFinite(x) ? x : Number.isNaN(x) ? 20 : null);

/** Reads a JSON text of at most `maxBytes` characters and checks it against `schema`. */
function parseText<T>(text: unknown, maxBytes: number, schema: z.ZodType<T>, what: string): T {
  if (typeof text !== 'string') throw new MessageRejected(`${what}: not a string`);
  if (text.length > maxBytes) throw new MessageRejected(`${what}: ${text.length} characters, over the ${maxBytes}-character limit`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MessageRejected(`${what}: not JSON`);
  }
  return check(value, schema, what);
}

function check<T>(value: unknown, schema: z.ZodType<T>, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new MessageRejected(`${what}: ${issue.path.join('.') || 'message'}: ${issue.message}`);
  }
  return r.data;
}

function vector(text: string, count: number, what: string): Float32Array {
  try {
    return decodeFloat32(text, count);
  } catch (error) {
    throw new MessageRejected(`${what}: ${(error as Error).message}`);
  }
}

// ---- θ records: `<ns>:theta` (the current θ) and `<ns>:eval-theta:<version>` (θ to evaluate) ----

const thetaRecordSchema = z.object({
  format: z.literal('lopt-theta/1'),
  version: int,
  tag: hex(16, 64),
  outerStep: int,
  status: z.enum(['running', 'done']),
  configDigest: hex(64, 64),
  count: z.number().int().positive(),
  data: z.string(),
}).strict();

export interface ThetaRecord {
  version: number;
  /** Random per publication: tells two θ of the same version apart (a resumed learner republishes). */
  tag: string;
  outerStep: number;
  status: 'running' | 'done';
  configDigest: string;
  theta: Float32Array;
}

export function encodeThetaRecord(r: ThetaRecord): string {
  const { theta, ...rest } = r;
  return JSON.stringify({ format: 'lopt-theta/1', ...rest, count: theta.length, data: encodeFloatSafe(theta) });
}

/** The largest θ record of `count` values. */
export function thetaRecordLimit(count: number): number {
  return encodedLength(count) + ENVELOPE_BYTES;
}

/** A θ record of exactly `count` values (the receiver's own learned optimizer decides the count). */
export function parseThetaRecord(text: unknown, count: number): ThetaRecord {
  const what = 'θ record';
  const m = parseText(text, thetaRecordLimit(count), thetaRecordSchema, what);
  if (m.count !== count) throw new MessageRejected(`${what}: ${m.count} values, the learned optimizer has ${count}`);
  const theta = vector(m.data, count, what);
  for (let i = 0; i < theta.length; i++) if (!Number.isFinite(theta[i])) throw new MessageRejected(`${what}: value ${i} is not finite`);
  return { version: m.version, tag: m.tag, outerStep: m.outerStep, status: m.status, configDigest: m.configDigest, theta };
}

// ---- the run state: `<ns>:state` ----

const runStateSchema = z.object({
  format: z.literal('lopt-state/1'),
  version: int,
  outerStep: int,
  status: z.enum(['running', 'done']),
}).strict();

export type RunState = Omit<z.infer<typeof runStateSchema>, 'format'>;

export function encodeRunState(s: RunState): string {
  return JSON.stringify({ format: 'lopt-state/1', ...s });
}

export function parseRunState(text: unknown): RunState {
  const { format: _format, ...rest } = parseText(text, RUN_STATE_LIMIT, runStateSchema, 'run state');
  return rest;
}

// ---- the run config: `<ns>:config` ----

const runConfigSchema = z.object({
  format: z.literal('lopt-run-config/1'),
  digest: hex(64, 64),
  settings: z.record(z.string(), z.unknown()),
}).strict();

export type RunConfigRecord = z.infer<typeof runConfigSchema>;

export function encodeRunConfig(digest: string, settings: Record<string, unknown>): string {
  return JSON.stringify({ format: 'lopt-run-config/1', digest, settings });
}

export function parseRunConfig(text: unknown): RunConfigRecord {
  return parseText(text, RUN_CONFIG_LIMIT, runConfigSchema, 'run config');
}

// ---- jobs (BullMQ job data, already parsed by BullMQ: shape-checked here) ----

const unrollJobSchema = z.object({ kind: z.literal('unroll'), issuedVersion: int, incarnation: int }).strict();
export type UnrollJob = z.infer<typeof unrollJobSchema>;
export const parseUnrollJob = (data: unknown): UnrollJob => check(data, unrollJobSchema, 'unroll job');

const evalJobSchema = z.object({ kind: z.literal('eval'), thetaVersion: int, outerStep: int }).strict();
export type EvalJob = z.infer<typeof evalJobSchema>;
export const parseEvalJob = (data: unknown): EvalJob => check(data, evalJobSchema, 'eval job');

// ---- results (job data `{ payload }` of the results queue; the payload is JSON text) ----

const estimateSchema = z.object({
  kind: z.literal('estimate'),
  jobId: z.string().regex(JOB_ID),
  workerId: z.string().regex(AGENT_ID),
  thetaVersion: int,
  thetaTag: hex(16, 64),
  /** The first estimate of a fresh estimator (zero PES accumulators, new inner states). */
  fresh: z.boolean(),
  /** Answered for a job whose first worker died (or lost its lock). */
  reissued: z.boolean(),
  attempt: z.number().int().positive().max(1000),
  count: z.number().int().positive(),
  grad: z.string(),
  metaLoss: lossValue,
  nanCount: int,
  innerSteps: int,
  seconds: z.number().nonnegative().finite(),
}).strict();

const evalResultSchema = z.object({
  kind: z.literal('eval'),
  evaluatorId: z.string().regex(AGENT_ID),
  thetaVersion: int,
  thetaTag: hex(16, 64),
  outerStep: int,
  evalTask: z.string().min(1).max(128),
  rows: z.array(z.object({ evalSeed: int, evalLoss: lossValue, evalScore: lossValue.optional() }).strict()).min(1).max(1024),
}).strict();

const resultSchema = z.discriminatedUnion('kind', [estimateSchema, evalResultSchema]);
const envelopeSchema = z.object({ payload: z.string() }).strict();

export interface EstimateMessage extends Omit<z.infer<typeof estimateSchema>, 'grad' | 'metaLoss'> {
  grad: Float32Array;
  metaLoss: number;
}
export interface EvalMessage extends Omit<z.infer<typeof evalResultSchema>, 'rows'> {
  rows: { evalSeed: number; evalLoss: number; evalScore?: number }[];
}
export type ResultMessage = EstimateMessage | EvalMessage;

export function encodeEstimate(m: EstimateMessage): { payload: string } {
  const { grad, metaLoss, ...rest } = m;
  return { payload: JSON.stringify({ ...rest, count: grad.length, grad: encodeFloatSafe(grad), metaLoss: toWire(metaLoss) }) };
}

export function encodeEvalResult(m: EvalMessage): { payload: string } {
  return { payload: JSON.stringify({ ...m, rows: m.rows.map(({ evalSeed, evalLoss, evalScore }) => ({
    evalSeed, evalLoss: toWire(evalLoss), ...(evalScore === undefined ? {} : { evalScore: toWire(evalScore) }),
  })) }) };
}

/** The limit on one result's payload for a θ of `count` values. */
export function resultLimit(count: number): number {
  return encodedLength(count) + ENVELOPE_BYTES;
}

/** A result job's data: an estimate of exactly `count` values, or evaluation rows. */
export function parseResult(data: unknown, count: number): ResultMessage {
  const envelope = check(data, envelopeSchema, 'result');
  const m = parseText(envelope.payload, resultLimit(count), resultSchema, 'result');
  if (m.kind === 'eval') {
    return { ...m, rows: m.rows.map(({ evalSeed, evalLoss, evalScore }) => ({
      evalSeed, evalLoss: fromWire(evalLoss), ...(evalScore === undefined ? {} : { evalScore: fromWire(evalScore) }),
    })) };
  }
  if (m.count !== count) throw new MessageRejected(`estimate ${m.jobId}: ${m.count} values, θ has ${count}`);
  const grad = vector(m.grad, count, `estimate ${m.jobId}`);
  return { ...m, grad, metaLoss: fromWire(m.metaLoss) };
}

/** NaN never leaves a process (LO's rule: NaN gradient entries become 0, counted by the sender). */
function encodeFloatSafe(values: Float32Array): string {
  let clean = values;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) {
      if (clean === values) clean = values.slice();
      clean[i] = 0;
    }
  }
  return encodeFloat32(clean);
}

