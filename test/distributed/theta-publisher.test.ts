import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunState, parseThetaRecord } from '../../src/distributed/messages.js';
import { namespace } from '../../src/distributed/namespace.js';
import { ThetaPublisher, type EvalJobQueue, type PublisherMulti, type PublisherRedis } from '../../src/distributed/theta-publisher.js';

const DIGEST = 'b'.repeat(64);

/** An in-memory Redis: plain keys, MULTI applied at EXEC (or failing there). */
class FakeRedis implements PublisherRedis {
  readonly kv = new Map<string, string>();
  readonly ttl = new Map<string, number>();
  failExec = false;
  multi(): PublisherMulti {
    const ops: [string, string][] = [];
    const m: PublisherMulti = {
      set: (k, v) => { ops.push([k, v]); return m; },
      exec: async () => {
        if (this.failExec) return [[new Error('READONLY'), null]];
        for (const [k, v] of ops) this.kv.set(k, v);
        return ops.map(() => [null, 'OK']);
      },
    };
    return m;
  }
  async set(key: string, value: string, _px?: 'PX', ms?: number): Promise<unknown> {
    this.kv.set(key, value);
    if (ms !== undefined) this.ttl.set(key, ms);
    return 'OK';
  }
  async del(...keys: string[]): Promise<unknown> { for (const k of keys) this.kv.delete(k); return keys.length; }
}

function setup(maxPendingEvals?: number) {
  const ns = namespace('pub-test');
  const client = new FakeRedis();
  const jobs: { name: string; data: unknown; jobId: string }[] = [];
  const evalQueue: EvalJobQueue = { add: async (name, data, opts) => { jobs.push({ name, data, jobId: opts.jobId }); } };
  const tags: [number, string][] = [];
  let n = 0;
  const pub = new ThetaPublisher({
    client, evalQueue, ns, configDigest: DIGEST, config: 'CONFIG', incarnation: 3,
    onTag: (v, t) => tags.push([v, t]), newTag: () => `${'0'.repeat(15)}${n++}`, maxPendingEvals,
  });
  return { ns, client, jobs, tags, pub };
}

const theta = (...v: number[]) => Float32Array.from(v);

test('publish writes θ record and run state together; a running θ gets a new tag, done keeps it', async () => {
  const { ns, client, tags, pub } = setup();
  await pub.publishConfig();
  assert.equal(client.kv.get(ns.keys.config), 'CONFIG');
  await pub.publish({ thetaVersion: 0, outerStep: 0, theta: theta(1, 2) }, 'running');
  const r0 = parseThetaRecord(client.kv.get(ns.keys.theta), 2);
  assert.equal(r0.tag, pub.tag);
  assert.equal(r0.configDigest, DIGEST);
  assert.deepEqual([...r0.theta], [1, 2]);
  assert.deepEqual(parseRunState(client.kv.get(ns.keys.state)), { version: 0, outerStep: 0, status: 'running' });
  await pub.publish({ thetaVersion: 1, outerStep: 1, theta: theta(3, 4) }, 'running');
  const first = tags[0][1];
  assert.notEqual(pub.tag, first);
  // Republishing without a new tag (Redis lost the run) and the final 'done' keep the tag.
  await pub.publish({ thetaVersion: 1, outerStep: 1, theta: theta(3, 4) }, 'running', false);
  await pub.publish({ thetaVersion: 1, outerStep: 1, theta: theta(3, 4) }, 'done');
  assert.deepEqual(tags.map(([v]) => v), [0, 1]);
  assert.equal(parseThetaRecord(client.kv.get(ns.keys.theta), 2).status, 'done');
  assert.equal(parseRunState(client.kv.get(ns.keys.state)).status, 'done');
});

test('a failed transaction is an error', async () => {
  const { client, pub } = setup();
  client.failExec = true;
  await assert.rejects(pub.publish({ thetaVersion: 0, outerStep: 0, theta: theta(1) }, 'running'), /READONLY/);
});

test('evaluation θ: published with a TTL and an eval job, the oldest dropped past the bound, forgotten when recorded', async () => {
  const { ns, client, jobs, pub } = setup(2);
  await pub.publishEval(0, 0, theta(1), 'a'.repeat(16));
  await pub.publishEval(5, 5, theta(2), 'b'.repeat(16));
  assert.ok(client.ttl.get(ns.evalTheta(0))! > 0);
  assert.deepEqual(jobs.map((j) => j.jobId), ['e3.0', 'e3.5']);
  assert.deepEqual(jobs[1].data, { kind: 'eval', thetaVersion: 5, outerStep: 5 });
  await pub.publishEval(10, 10, theta(3), 'c'.repeat(16));
  assert.equal(pub.pendingCount, 2);
  assert.equal(pub.pendingEval(0), undefined);
  assert.equal(client.kv.has(ns.evalTheta(0)), false);
  assert.equal(parseThetaRecord(client.kv.get(ns.evalTheta(10)), 1).tag, 'c'.repeat(16));
  await pub.forgetEval(5);
  assert.equal(client.kv.has(ns.evalTheta(5)), false);
  assert.deepEqual(pub.pendingEvals().map((e) => e.version), [10]);
});

test('republish puts config, θ (same tag) and pending evaluations back into an empty Redis', async () => {
  const { ns, client, jobs, pub } = setup();
  await pub.publish({ thetaVersion: 4, outerStep: 4, theta: theta(1) }, 'running');
  await pub.publishEval(4, 4, theta(1), pub.tag);
  const tag = pub.tag;
  client.kv.clear();
  await pub.republish({ thetaVersion: 4, outerStep: 4, theta: theta(1) }, 'running');
  assert.equal(client.kv.get(ns.keys.config), 'CONFIG');
  assert.equal(parseThetaRecord(client.kv.get(ns.keys.theta), 1).tag, tag);
  assert.ok(client.kv.has(ns.evalTheta(4)));
  assert.equal(jobs.length, 2);
});
