import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EstimateBatcher, type Candidate } from '../../src/distributed/batcher.js';

const est = (jobId: string, thetaVersion: number, thetaTag: string): Candidate => ({ jobId, thetaVersion, thetaTag });

test('staleness: estimates up to S versions old are accepted, older ones and unknown θ are dropped', () => {
  const b = new EstimateBatcher<Candidate>(3, 2);
  b.publish(0, 't0');
  b.publish(1, 't1');
  b.publish(2, 't2');
  b.publish(3, 't3');
  assert.deepEqual(b.offer(est('1.0', 3, 't3')), { verdict: 'accepted', staleness: 0 });
  assert.deepEqual(b.offer(est('1.1', 1, 't1')), { verdict: 'accepted', staleness: 2 });
  assert.deepEqual(b.offer(est('1.2', 0, 't0')), { verdict: 'stale', staleness: 3 });
  // The right version under another tag: a θ of a learner incarnation that no longer exists.
  assert.equal(b.offer(est('1.3', 2, 'old')).verdict, 'unknown-theta');
  // A version from the future (a dead learner got further than its checkpoint).
  assert.deepEqual(b.offer(est('1.4', 5, 't5')), { verdict: 'unknown-theta', staleness: -2 });
  assert.equal(b.size, 2);
  assert.equal(b.full(), false);
  assert.equal(b.offer(est('1.5', 2, 't2')).verdict, 'accepted');
  assert.equal(b.full(), true);
  assert.deepEqual(b.take().map((e) => e.jobId), ['1.0', '1.1', '1.5']);
  assert.equal(b.size, 0);
  // After the next publication the window moves: version 1 is now 3 versions old.
  b.publish(4, 't4');
  assert.equal(b.offer(est('1.6', 1, 't1')).verdict, 'stale');
  assert.equal(b.offer(est('1.7', 2, 't2')).verdict, 'accepted');
});

test('staleness 0 accepts only the current θ', () => {
  const b = new EstimateBatcher<Candidate>(1, 0);
  b.publish(7, 'a');
  assert.equal(b.offer(est('2.0', 6, 'x')).verdict, 'stale');
  assert.equal(b.offer(est('2.1', 7, 'a')).verdict, 'accepted');
});

test('dedup: a job id is applied once, whether its twin arrives while batched, after applying, or after a restart', () => {
  const b = new EstimateBatcher<Candidate>(2, 1);
  b.publish(0, 'a');
  assert.equal(b.offer(est('1.0', 0, 'a')).verdict, 'accepted');
  assert.equal(b.offer(est('1.0', 0, 'a')).verdict, 'duplicate');
  assert.equal(b.offer(est('1.1', 0, 'a')).verdict, 'accepted');
  assert.deepEqual(b.take().map((e) => e.jobId), ['1.0', '1.1']);
  b.publish(1, 'b');
  // A re-issued job answered again by another worker, at the current θ: still a duplicate.
  assert.equal(b.offer(est('1.1', 1, 'b')).verdict, 'duplicate');
  assert.deepEqual(b.appliedIds().sort(), ['1.0', '1.1']);
  // One version old is within S = 1.
  assert.equal(b.offer(est('1.2', 0, 'a')).verdict, 'accepted');
  b.take();
  b.publish(2, 'c');
  b.publish(3, 'd');
  // A stale answer is dropped without counting as applied: the re-issued job's fresh answer is used.
  assert.equal(b.offer(est('1.3', 1, 'b')).verdict, 'stale');
  assert.equal(b.offer(est('1.3', 3, 'd')).verdict, 'accepted');

  // A learner restored from a checkpoint knows what it applied.
  const restored = new EstimateBatcher<Candidate>(2, 1, b.appliedIds());
  restored.publish(3, 'e');
  assert.equal(restored.offer(est('1.2', 3, 'e')).verdict, 'duplicate');
  assert.equal(restored.offer(est('1.3', 3, 'e')).verdict, 'accepted');
});

test('bad settings are refused', () => {
  assert.throws(() => new EstimateBatcher(0, 1), /meta-batch/);
  assert.throws(() => new EstimateBatcher(2, -1), /staleness/);
});
