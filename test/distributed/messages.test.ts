import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeEstimate, encodeEvalResult, encodeRunState, encodeThetaRecord, MessageRejected, parseEvalJob, parseResult,
  parseRunConfig, parseRunState, parseThetaRecord, parseUnrollJob, resultLimit, type EstimateMessage,
} from '../../src/distributed/messages.js';
import { encodeFloat32 } from '../../src/distributed/codec.js';

const TAG = '0123456789abcdef';
const DIGEST = 'a'.repeat(64);

const estimate = (over: Partial<EstimateMessage> = {}): EstimateMessage => ({
  kind: 'estimate', jobId: '3.17', workerId: 'host-12-abc', thetaVersion: 5, thetaTag: TAG, fresh: false, reissued: false,
  attempt: 1, count: 3, grad: Float32Array.of(0.5, -1.25, 3e-8), metaLoss: 0.75, nanCount: 0, innerSteps: 320, seconds: 0.4, ...over,
});

/** The payload of an estimate with some fields replaced (after encoding). */
function tampered(fields: Record<string, unknown>, drop: string[] = []): { payload: string } {
  const m = JSON.parse(encodeEstimate(estimate()).payload) as Record<string, unknown>;
  for (const k of drop) delete m[k];
  return { payload: JSON.stringify({ ...m, ...fields }) };
}

const rejects = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (e: unknown) => e instanceof MessageRejected && pattern.test(e.message));

test('estimates round-trip exactly (float32 values, Infinity loss as null) and are checked against θ size', () => {
  const m = parseResult(encodeEstimate(estimate()), 3);
  assert.equal(m.kind, 'estimate');
  if (m.kind !== 'estimate') return;
  assert.deepEqual([...m.grad], [...Float32Array.of(0.5, -1.25, 3e-8)]);
  assert.equal(m.jobId, '3.17');
  assert.equal(m.metaLoss, 0.75);
  const inf = parseResult(encodeEstimate(estimate({ metaLoss: Infinity })), 3);
  assert.equal(inf.kind === 'estimate' && inf.metaLoss, Infinity);
  // NaN gradient entries are zeroed by the sender (LO's rule), NaN losses become 20.
  const nan = parseResult(encodeEstimate(estimate({ grad: Float32Array.of(NaN, 1, 2), metaLoss: NaN })), 3);
  assert.ok(nan.kind === 'estimate' && nan.grad[0] === 0 && nan.metaLoss === 20);
  rejects(() => parseResult(encodeEstimate(estimate()), 4), /3 values, θ has 4/);
});

test('malformed results are rejected with the reason', () => {
  rejects(() => parseResult({ payload: 'not json' }, 3), /not JSON/);
  rejects(() => parseResult({ nope: 1 }, 3), /payload/);
  rejects(() => parseResult({ payload: encodeEstimate(estimate()).payload, extra: 1 }, 3), /result/);
  rejects(() => parseResult('a string', 3), /result/);
  rejects(() => parseResult(tampered({ kind: 'gradient' }), 3), /kind/);
  rejects(() => parseResult(tampered({ jobId: '../../etc/passwd' }), 3), /jobId/);
  rejects(() => parseResult(tampered({ workerId: 'a b' }), 3), /workerId/);
  rejects(() => parseResult(tampered({ thetaVersion: -1 }), 3), /thetaVersion/);
  rejects(() => parseResult(tampered({ thetaVersion: 1.5 }), 3), /thetaVersion/);
  rejects(() => parseResult(tampered({ thetaTag: 'XYZ' }), 3), /thetaTag/);
  rejects(() => parseResult(tampered({ innerSteps: '320' }), 3), /innerSteps/);
  rejects(() => parseResult(tampered({ exec: 'rm -rf /' }), 3), /exec|Unrecognized/);
  rejects(() => parseResult(tampered({}, ['seconds']), 3), /seconds/);
  // Vectors: wrong length, not base64, NaN smuggled in.
  rejects(() => parseResult(tampered({ grad: encodeFloat32([1, 2]) }), 3), /expected 3 float32 values/);
  rejects(() => parseResult(tampered({ grad: '!!!!!!!!!!!!!!!!' }), 3), /not base64/);
  rejects(() => parseResult(tampered({ grad: encodeFloat32([1, NaN, 2]) }), 3), /NaN/);
});

test('oversized messages are rejected before they are parsed', () => {
  const limit = resultLimit(3);
  const huge = { payload: `{"kind":"estimate","pad":"${'x'.repeat(limit)}"}` };
  rejects(() => parseResult(huge, 3), new RegExp(`over the ${limit}-character limit`));
  // A larger θ allows a proportionally larger message: the same text fits a 1M-value θ's limit
  // (and is then rejected for its shape, not its size).
  rejects(() => parseResult(huge, 1_000_000), /^result: (?!.*limit)/);
  const record = encodeThetaRecord({ version: 1, tag: TAG, outerStep: 1, status: 'running', configDigest: DIGEST, theta: new Float32Array(100) });
  rejects(() => parseThetaRecord(record, 3), /over the .*-character limit|100 values/);
  rejects(() => parseRunState(`{"format":"lopt-state/1","version":1,"outerStep":1,"status":"running","p":"${'y'.repeat(2000)}"}`), /limit/);
  rejects(() => parseRunConfig(`{"x":"${'z'.repeat(70_000)}"}`), /limit/);
});

test('θ records: round trip, exact count, finite values, known format', () => {
  const theta = Float32Array.of(-2.5, 0.125, 7);
  const text = encodeThetaRecord({ version: 4, tag: TAG, outerStep: 4, status: 'running', configDigest: DIGEST, theta });
  const r = parseThetaRecord(text, 3);
  assert.deepEqual([...r.theta], [...theta]);
  assert.equal(r.version, 4);
  assert.equal(r.status, 'running');
  rejects(() => parseThetaRecord(text, 2), /3 values, the learned optimizer has 2/);
  const obj = JSON.parse(text) as Record<string, unknown>;
  rejects(() => parseThetaRecord(JSON.stringify({ ...obj, format: 'lopt-theta/9' }), 3), /format/);
  rejects(() => parseThetaRecord(JSON.stringify({ ...obj, status: 'paused' }), 3), /status/);
  rejects(() => parseThetaRecord(JSON.stringify({ ...obj, data: encodeFloat32([1, Infinity, 2]) }), 3), /not finite/);
  rejects(() => parseThetaRecord(JSON.stringify({ ...obj, path: '/etc/shadow' }), 3), /Unrecognized|path/);
  rejects(() => parseThetaRecord(42, 3), /not a string/);
});

test('jobs, run state and evaluation results are shape-checked', () => {
  assert.deepEqual(parseUnrollJob({ kind: 'unroll', issuedVersion: 3, incarnation: 2 }), { kind: 'unroll', issuedVersion: 3, incarnation: 2 });
  rejects(() => parseUnrollJob({ kind: 'unroll', issuedVersion: 3 }), /incarnation/);
  rejects(() => parseUnrollJob({ kind: 'unroll', issuedVersion: 3, incarnation: 2, script: 'x' }), /Unrecognized|script/);
  assert.equal(parseEvalJob({ kind: 'eval', thetaVersion: 10, outerStep: 10 }).thetaVersion, 10);
  rejects(() => parseEvalJob({ kind: 'eval', thetaVersion: '10', outerStep: 10 }), /thetaVersion/);
  assert.deepEqual(parseRunState(encodeRunState({ version: 3, outerStep: 3, status: 'done' })), { version: 3, outerStep: 3, status: 'done' });
  const ev = parseResult(encodeEvalResult({
    kind: 'eval', evaluatorId: 'ev-1', thetaVersion: 10, thetaTag: TAG, outerStep: 10, evalTask: 'quadratic-family',
    rows: [{ evalSeed: 0, evalLoss: 1.5 }, { evalSeed: 1, evalLoss: Infinity }],
  }), 3);
  assert.ok(ev.kind === 'eval');
  if (ev.kind === 'eval') assert.deepEqual(ev.rows, [{ evalSeed: 0, evalLoss: 1.5 }, { evalSeed: 1, evalLoss: Infinity }]);
  rejects(() => parseResult({ payload: JSON.stringify({ kind: 'eval', evaluatorId: 'ev-1', thetaVersion: 1, thetaTag: TAG, outerStep: 1, evalTask: 't', rows: [] }) }, 3), /rows/);
});
