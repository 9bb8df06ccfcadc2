import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobStock, type UnrollJobQueue, type UnrollJobSpec } from '../../src/distributed/job-stock.js';

/** An in-memory unroll queue: added jobs wait; tests move them to active or take them away. */
class FakeQueue implements UnrollJobQueue {
  waiting: UnrollJobSpec[] = [];
  active = 0;
  countCalls = 0;
  gate: Promise<void> | null = null;
  async getJobCounts(): Promise<Record<string, number>> {
    this.countCalls++;
    if (this.gate) await this.gate;
    return { waiting: this.waiting.length, active: this.active, delayed: 0, prioritized: 0 };
  }
  async addBulk(jobs: UnrollJobSpec[]): Promise<unknown> { this.waiting.push(...jobs); return jobs; }
}

function setup(live = 2, batchSize = 3) {
  const queue = new FakeQueue();
  let workers = live;
  let version = 0;
  let issuing = true;
  const stock = new JobStock({
    queue, countLiveWorkers: async () => workers, batchSize, incarnation: 7, version: () => version, issuing: () => issuing,
  });
  return {
    queue, stock,
    setWorkers: (n: number) => { workers = n; }, setVersion: (v: number) => { version = v; }, stop: () => { issuing = false; },
  };
}

test('keeps one batch plus one job per live worker outstanding, with never-reused ids', async () => {
  const { queue, stock, setWorkers, setVersion } = setup(2, 3);
  await stock.topUp();
  assert.deepEqual(queue.waiting.map((j) => j.opts.jobId), ['7.0', '7.1', '7.2', '7.3', '7.4']);
  assert.deepEqual(queue.waiting[0].data, { kind: 'unroll', issuedVersion: 0, incarnation: 7 });
  assert.equal(stock.liveWorkers, 2);
  assert.equal(stock.queueDepth, 0);
  // Two jobs taken and finished: two new ones, issued at the current version.
  queue.waiting.splice(0, 2);
  setVersion(4);
  await stock.topUp();
  assert.equal(stock.queueDepth, 3);
  assert.deepEqual(queue.waiting.slice(3).map((j) => [j.opts.jobId, j.data.issuedVersion]), [['7.5', 4], ['7.6', 4]]);
  // Active jobs count as outstanding; more workers, more jobs; no worker still means one.
  queue.waiting.splice(0, 5);
  queue.active = 4;
  setWorkers(4);
  await stock.topUp();
  assert.equal(queue.waiting.length, 3);
  queue.waiting = [];
  queue.active = 0;
  setWorkers(0);
  await stock.topUp();
  assert.equal(queue.waiting.length, 4);
  assert.equal(stock.issued, 14);
});

test('no jobs once training is over; concurrent top-ups share one', async () => {
  const { queue, stock, stop } = setup(1, 1);
  let open: () => void = () => {};
  queue.gate = new Promise((r) => { open = r; });
  const a = stock.topUp();
  const b = stock.topUp();
  assert.equal(a, b);
  open();
  await a;
  queue.gate = null;
  assert.equal(queue.countCalls, 1);
  assert.equal(queue.waiting.length, 2);
  queue.waiting = [];
  stop();
  await stock.topUp();
  assert.equal(queue.waiting.length, 0);
});
